"""Decisions, alerts, risk events, the risk state and reconciliation events."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]

from v6.domain import Action, Alert, Decision, Severity
from v6.risk.events import DETAIL_FIELDS, RiskEvent, RiskEventKind
from v6.store.catalog import ALERTS, DECISIONS, RECONCILIATION_EVENTS, RISK_EVENTS, RISK_STATE
from v6.store.readers import Filter, StoreReader
from v6.store.records import (
    ReconciliationEvent,
    RecordedDecision,
    trade_date,
    utc,
)
from v6.store.repositories._base import Repository, Row, from_json, to_json
from v6.store.writer import StoreWriter

_NO_TIME = datetime.min.replace(tzinfo=UTC)


def _since(column: str, since: datetime | None, where: str) -> list[Filter]:
    return [] if since is None else [(column, ">=", utc(since, where))]


class DecisionRepository(Repository):
    """The rule book's verdicts: per strategy and evaluation time, the deciding verdict and
    every rule that triggered (key: strategy, time, rule, deciding)."""

    def record(self, decided: Iterable[Decision], triggered: Iterable[Decision] = ()) -> None:
        """``decided``: the one deciding verdict of each strategy (HOLD included, as
        `CycleDecisions.decisions` gives them); ``triggered``: every rule that triggered
        (`CycleDecisions.triggered`), the deciding rule included."""
        deciding = list(decided)
        _check_one_deciding(deciding)
        dates: dict[datetime, date] = {}
        rows = [
            *(_decision_row(decision, True, dates) for decision in deciding),
            *(_decision_row(decision, False, dates) for decision in triggered),
        ]
        self._write(DECISIONS, rows)

    def for_strategy(self, strategy_id: str, since: datetime | None = None) -> list[Decision]:
        """The strategy's deciding verdicts in time order (from ``since`` if given)."""
        filters = [
            ("strategy_id", "=", strategy_id),
            ("deciding", "=", True),
            *_since("at", since, "since"),
        ]
        return sorted((_decision(r) for r in self._rows(DECISIONS, filters)), key=lambda d: d.at)

    def history(
        self, strategy_id: str | None = None, since: datetime | None = None
    ) -> list[RecordedDecision]:
        """Every row (of one strategy, or all), by time and strategy, each evaluation's
        deciding verdict first and then the triggered rules by priority."""
        filters = [*_since("at", since, "since")]
        if strategy_id is not None:
            filters.append(("strategy_id", "=", strategy_id))
        recorded = [
            RecordedDecision(_decision(row), row["deciding"])
            for row in self._rows(DECISIONS, filters)
        ]
        return sorted(recorded, key=_history_order)


class AlertRepository(Repository):
    """Alerts by ``alert_id``; saving an acknowledged alert records the acknowledgement.

    ``save_new`` skips the look-up of stored ids when every alert it is given was created
    after each alert the table held when this repository first looked, and after each alert
    saved through it since: such an alert cannot be stored, because only the engine adds alerts
    to the table (the dashboard only acknowledges stored ones) and the engine's writer takes
    them from its store's one repository. That is the usual case, a cycle's fresh alerts; a
    replay after a restart is older than the newest stored alert and is looked up."""

    def __init__(self, reader: StoreReader, writer: StoreWriter | None) -> None:
        super().__init__(reader, writer)
        self._newest_saved = _NO_TIME
        self._newest_at_start: datetime | None = None

    def save(self, alerts: Iterable[Alert]) -> None:
        batch = list(alerts)
        self._write(ALERTS, (_alert_row(alert) for alert in batch))
        self._newest_saved = max([self._newest_saved, *(a.created_at for a in batch)])

    def save_new(self, alerts: Iterable[Alert]) -> list[Alert]:
        """Save the alerts whose ``alert_id`` the table does not hold yet and return them: a
        replayed alert is not raised again and never reverts an acknowledgement."""
        wanted = {alert.alert_id: alert for alert in alerts}
        if not wanted:
            return []
        stored = self._stored_ids(wanted)
        new = [alert for alert_id, alert in wanted.items() if alert_id not in stored]
        self.save(new)
        return new

    def _stored_ids(self, wanted: Mapping[str, Alert]) -> set[str]:
        """The ids of ``wanted`` the table holds (see the class docstring)."""
        if min(alert.created_at for alert in wanted.values()) > self._newest_stored():
            return set()
        known = self._reader.read(
            ALERTS, columns=["alert_id"], filters=[("alert_id", "in", list(wanted))]
        )
        return set(known.column("alert_id").to_pylist())

    def _newest_stored(self) -> datetime:
        """No alert in the table was created after this."""
        if self._newest_at_start is None:
            created = self._reader.read(ALERTS, columns=["created_at"]).column("created_at")
            self._newest_at_start = pc.max(created).as_py() or _NO_TIME
        return max(self._newest_at_start, self._newest_saved)

    def unacknowledged(self) -> list[Alert]:
        """Alerts nobody acknowledged yet, most severe first, then oldest first."""
        rows = self._rows(ALERTS, [("acknowledged_at", "=", None)])
        alerts = [_alert(row) for row in rows]
        return sorted(alerts, key=lambda a: (-a.severity, a.created_at, a.alert_id))

    def get(self, alert_id: str) -> Alert | None:
        rows = self._rows(ALERTS, [("alert_id", "=", alert_id)])
        return _alert(rows[0]) if rows else None


class RiskEventRepository(Repository):
    """`v6.risk.RiskEvent`s by their content-derived ``event_id`` (a replay adds nothing)."""

    def record(self, events: Iterable[RiskEvent]) -> None:
        self._write(RISK_EVENTS, (_risk_row(event) for event in events))

    def since(self, since: datetime | None = None) -> list[RiskEvent]:
        """Every event (from ``since`` if given) in time order."""
        rows = self._rows(RISK_EVENTS, _since("at", since, "since"))
        return sorted((_risk(row) for row in rows), key=lambda e: (e.at, e.event_id))


class RiskStateRepository(Repository):
    """The risk layer's state as one JSON record per component (see ``v6.risk.persistence``);
    saving an unchanged record commits nothing."""

    def save(self, records: Mapping[str, Mapping[str, object]], at: datetime) -> None:
        updated_at = utc(at, "at")
        rows = (
            {"component": component, "state": to_json(record), "updated_at": updated_at}
            for component, record in records.items()
        )
        self._write(RISK_STATE, rows)

    def load(self) -> dict[str, dict[str, Any]]:
        """The last saved record of every component, by component."""
        return {row["component"]: from_json(row["state"]) for row in self._rows(RISK_STATE)}


class ReconciliationRepository(Repository):
    def record(self, events: Iterable[ReconciliationEvent]) -> None:
        self._write(RECONCILIATION_EVENTS, (_reconciliation_row(e) for e in events))

    def since(self, since: datetime | None = None) -> list[ReconciliationEvent]:
        rows = self._rows(RECONCILIATION_EVENTS, _since("at", since, "since"))
        events = (ReconciliationEvent(**row) for row in rows)
        return sorted(events, key=lambda e: (e.at, e.event_id))


def _check_one_deciding(decided: list[Decision]) -> None:
    seen: set[tuple[str, datetime]] = set()
    for decision in decided:
        key = (decision.strategy_id, decision.at)
        if key in seen:
            raise ValueError(
                f"decided: two deciding verdicts for strategy {decision.strategy_id!r} at "
                f"{decision.at.isoformat()}: expected one per strategy and evaluation"
            )
        seen.add(key)


def _history_order(recorded: RecordedDecision) -> tuple[datetime, str, bool, int, str]:
    decision = recorded.decision
    return (
        decision.at,
        decision.strategy_id,
        not recorded.deciding,
        decision.priority,
        decision.rule,
    )


def _decision_row(decision: Decision, deciding: bool, dates: dict[datetime, date]) -> Row:
    """The row of ``decision``; ``dates`` keeps the trade date of each evaluation time (a
    cycle's decisions share one)."""
    day = dates.get(decision.at)
    if day is None:
        day = dates[decision.at] = trade_date(decision.at)
    return {
        "trade_date": day,
        "at": decision.at,
        "strategy_id": decision.strategy_id,
        "rule": decision.rule,
        "deciding": deciding,
        "priority": decision.priority,
        "action": decision.action.value,
        "reason": decision.reason,
        "metrics": to_json(decision.metrics_dict()),
    }


def _decision(row: Row) -> Decision:
    return Decision(
        strategy_id=row["strategy_id"],
        rule=row["rule"],
        priority=row["priority"],
        action=Action(row["action"]),
        reason=row["reason"],
        metrics=from_json(row["metrics"]),
        at=row["at"],
    )


def _alert_row(alert: Alert) -> Row:
    return {
        "alert_id": alert.alert_id,
        "severity": alert.severity.name.lower(),
        "source": alert.source,
        "message": alert.message,
        "dedup_key": alert.dedup_key,
        "created_at": alert.created_at,
        "acknowledged_at": alert.acknowledged_at,
    }


def _alert(row: Row) -> Alert:
    return Alert(
        alert_id=row["alert_id"],
        severity=Severity[row["severity"].upper()],
        source=row["source"],
        message=row["message"],
        dedup_key=row["dedup_key"],
        created_at=row["created_at"],
        acknowledged_at=row["acknowledged_at"],
    )


def _risk_row(event: RiskEvent) -> Row:
    return {
        "event_id": event.event_id,
        "at": event.at,
        "level": event.level.value,
        "kind": event.kind.value,
        "strategy_id": event.strategy_id,
        "reason": event.reason,
        "details": to_json(event.details),
    }


def _risk(row: Row) -> RiskEvent:
    details = from_json(row["details"])
    return RiskEvent(
        kind=RiskEventKind(row["kind"]),
        at=row["at"],
        reason=row["reason"],
        strategy_id=row["strategy_id"],
        **{name: details.get(name) for name in DETAIL_FIELDS},
    )


def _reconciliation_row(event: ReconciliationEvent) -> Row:
    return {
        "event_id": event.event_id,
        "at": event.at,
        "account": event.account,
        "symbol": event.symbol,
        "kind": event.kind,
        "broker_quantity": event.broker_quantity,
        "store_quantity": event.store_quantity,
        "resolution": event.resolution,
    }
