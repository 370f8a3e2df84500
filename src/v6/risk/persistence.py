"""Recording a cycle's verdicts and risk events in the store, and restoring the risk state at
start-up.

The engine calls `CycleRecorder.record` once per cycle, after the risk gate has seen the
cycle's intents, and then flushes the store. It writes:

* the rule book's verdicts - each managed strategy's deciding verdict (HOLD and market vetoes
  included) and every rule that triggered - to ``decisions``;
* the risk events of the gate (`RiskGate.take_events`) and of the limit monitor
  (`MonitorResult.events`) to ``risk_events``;
* the alerts `risk_alert` makes of them, raised through the engine's `v6.alerts.AlertManager`
  (stored in ``alerts``, de-duplicated, queued for notification);
* the risk state - circuit breaker, trailing stops, the limits the monitor knows to be
  breached - to ``risk_state``, one JSON record per `RiskComponent`.

At start-up `restore` reads the state back: the breaker continues where it was (open with its
cooldown running from the same ``opened_at``, a half-open probe still in flight), the trailing
stops keep their peaks and whipsaw counters, and an ongoing limit breach is not recorded (and
alerted) a second time.

Why a state table rather than rebuilding the state from risk_events: the events do not carry
it. The failure window's times, the equity baselines (the day's opening equity, the peak) and
the trailing stops' peaks, breach counts and last mark times never appear in an event, and
replaying every event since the first start would grow with history. A component's row is
written only when its record changed since the recorder last wrote it (an only-if-changed
merge would commit nothing anyway). The catalog commits risk_state after decisions, alerts
and risk_events, so a committed state never runs ahead of the events of its cycle: after a
crash in a flush the restored state is the one before that cycle, which the engine then lives
through again.

Recording a cycle twice (a replay after a restart, or the same flush again) adds nothing:
decisions and risk events are keyed by content, alerts already stored are replays the alert
manager skips, and an unchanged state is not rewritten. This module is not imported by
``v6.risk`` itself, so the pure risk parts do not load the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

from v6.alerts.manager import AlertManager
from v6.config.alerts import AlertsConfig
from v6.decisions import CycleDecisions
from v6.domain import Alert
from v6.risk._records import Record, RecordReader
from v6.risk.circuit_breaker import BreakerState
from v6.risk.events import RiskEvent, risk_alert
from v6.risk.limits import LimitMonitor
from v6.risk.trailing_stop import TrailingState
from v6.store import Store

MONITOR_RECORD_VERSION = 1


class RiskComponent(StrEnum):
    """The rows of the risk_state table."""

    CIRCUIT_BREAKER = "circuit_breaker"
    TRAILING_STOPS = "trailing_stops"
    LIMIT_MONITOR = "limit_monitor"


class RiskState(NamedTuple):
    """What the risk layer carries from one cycle to the next (and across restarts)."""

    breaker: BreakerState = BreakerState()
    trailing: TrailingState = TrailingState()
    monitor: LimitMonitor = LimitMonitor()

    def to_records(self) -> dict[str, Record]:
        """One JSON-safe record per component."""
        return {
            RiskComponent.CIRCUIT_BREAKER.value: self.breaker.to_record(),
            RiskComponent.TRAILING_STOPS.value: self.trailing.to_record(),
            RiskComponent.LIMIT_MONITOR.value: {
                "version": MONITOR_RECORD_VERSION,
                "breached": sorted(self.monitor.breached),
            },
        }

    @classmethod
    def from_records(cls, records: Mapping[str, Mapping[str, object]]) -> RiskState:
        """The state of ``records`` (by component); a component without a record starts
        fresh (the first start). Raises ValueError naming the component and field of a
        malformed record, or an unknown component."""
        unknown = sorted(set(records) - {component.value for component in RiskComponent})
        if unknown:
            raise ValueError(
                f"risk_state components {unknown}: expected some of "
                f"{[component.value for component in RiskComponent]}"
            )
        breaker = records.get(RiskComponent.CIRCUIT_BREAKER.value)
        trailing = records.get(RiskComponent.TRAILING_STOPS.value)
        monitor = records.get(RiskComponent.LIMIT_MONITOR.value)
        return cls(
            BreakerState() if breaker is None else BreakerState.from_record(breaker),
            TrailingState() if trailing is None else TrailingState.from_record(trailing),
            LimitMonitor() if monitor is None else _monitor_from_record(monitor),
        )


def _monitor_from_record(record: Mapping[str, object]) -> LimitMonitor:
    read = RecordReader(record, "LimitMonitor", MONITOR_RECORD_VERSION)
    return LimitMonitor(frozenset(read.texts("breached")))


def restore(store: Store) -> RiskState:
    """The risk state last saved in ``store`` (fresh components where none was saved)."""
    return RiskState.from_records(store.risk_state.load())


class CycleRecorder:
    """Writes one cycle into the store's buffers; the engine flushes (see the module
    docstring). ``alerts`` is the engine's alert manager; without one the recorder raises
    through a manager of its own (default alerts configuration, no notifiers)."""

    def __init__(self, store: Store, alerts: AlertManager | None = None) -> None:
        self._store = store
        self._alerts = alerts or AlertManager(store, AlertsConfig())
        self._handed: dict[str, Record] = {}

    def record(
        self,
        at: datetime,
        decisions: CycleDecisions | None,
        events: Iterable[RiskEvent],
        state: RiskState,
    ) -> tuple[Alert, ...]:
        """Record the cycle at ``at``: its verdicts (None for a cycle that evaluated no
        rules), its risk events, their alerts and the risk state at its end. Returns the
        alerts raised (not replays, not suppressed repeats); the alert manager notifies them."""
        if decisions is not None:
            self._store.decisions.record(decisions.decisions(), decisions.triggered())
        recorded = tuple(events)
        self._store.risk_events.record(recorded)
        raised = self._alerts.raise_alerts(map(risk_alert, recorded))
        self._save_changed(state.to_records(), at)
        return raised

    def _save_changed(self, records: Mapping[str, Record], at: datetime) -> None:
        """Hand the store the components whose record differs from the one this recorder
        handed it last. The writer keeps what it was handed until it commits it (a failed
        flush keeps it buffered), and nothing else writes risk_state, so the record left out
        is the one the table holds or is about to: handing it again would only cost a merge
        that commits nothing. A new recorder (a restart) hands every component once."""
        changed = {
            name: record for name, record in records.items() if self._handed.get(name) != record
        }
        if changed:
            self._store.risk_state.save(changed, at)
            self._handed.update(changed)
