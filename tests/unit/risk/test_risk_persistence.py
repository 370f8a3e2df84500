"""Recording cycles in real Delta tables and restoring the risk state: every triggered rule in
the decisions table with the deciding one flagged, intents, breaches and breaker transitions
in risk_events with their reasons, replays that add nothing, and restarts that continue the
circuit breaker and the trailing stops exactly as an uninterrupted run does.

The scenario trades one bull put spread (credit 2.00, max profit 200) with the real decision
engine, risk gate, trailing stops and limit monitor, as the engine's cycle does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from decision_books import NOW, TODAY, Quote, book_of, decide, put_spread, quotes_frame

from v6.config.decisions import DecisionsConfig, TakeProfitRule
from v6.config.risk import (
    CircuitBreakerConfig,
    PortfolioLimits,
    RiskConfig,
    TrailingStopConfig,
)
from v6.decisions import CycleContext, CycleDecisions, DecisionEngine
from v6.domain import Alert, Decision, Greeks, IntentKind, OrderIntent, Severity
from v6.risk import (
    EntryCandidate,
    FailureKind,
    RiskEvent,
    RiskEventKind,
    RiskGate,
    TradingState,
    TrailingStopManager,
)
from v6.risk.persistence import CycleRecorder, RiskComponent, RiskState, restore
from v6.store import ALL_TABLES, RecordedDecision, Store, StoreLocation

DECISIONS = DecisionsConfig(take_profit=TakeProfitRule(enabled=False))
"""Take profit off, so the trailing stop (rule 9) is what closes the spread."""
RISK = RiskConfig(
    portfolio=PortfolioLimits(max_abs_gamma=5.0),
    circuit_breaker=CircuitBreakerConfig(cooldown_seconds=120.0),
    trailing_stop=TrailingStopConfig(confirm_seconds=600.0),
)
"""The trailing stop arms at 30% of max profit (60), trails 40% below the peak and is hit
after 3 consecutive breaching marks (600 s is longer than the scenario); the breaker cools
down in 120 s; a gamma limit the spread can break."""
BUYING_POWER = 50_000.0
SPREAD = put_spread("ps")


@dataclass(frozen=True)
class Step:
    """One cycle, ``seconds`` after NOW: the short put's mark and gamma (the long put stays at
    0.20), a probe fill and failures before the entries tried."""

    seconds: float
    short_mark: float
    short_gamma: float = 0.01
    filled: bool = False
    failures: int = 0
    entries: tuple[str, ...] = ()

    @property
    def at(self) -> datetime:
        return NOW + timedelta(seconds=self.seconds)

    def book(self) -> pl.DataFrame:
        quotes = [Quote(0.2), Quote(self.short_mark, gamma=self.short_gamma, delta=-0.12)]
        return book_of((SPREAD, quotes_frame(SPREAD, quotes, 445.0, self.at)))


SCENARIO = (
    Step(0, 0.7, entries=("a",)),  # pnl 150: the stop arms, level 90; a accepted
    Step(60, 1.4, failures=3, entries=("b",)),  # pnl 80: breach 1; breaker opens; b rejected
    Step(120, 1.4, short_gamma=0.1, entries=("c",)),  # breach 2; gamma -9 over 5; c rejected
    Step(150, 1.35, short_gamma=0.1),  # pnl 85: breach 3, the stop is hit (rule 9 decides)
    Step(200, 1.35, entries=("d", "e")),  # gamma cleared; half-open: d the probe, e rejected
    Step(260, 1.35, filled=True, entries=("f",)),  # the probe filled: closed; f accepted
)


def candidate(strategy_id: str) -> EntryCandidate:
    intent = OrderIntent(strategy_id, IntentKind.OPEN, SPREAD.legs, 1, -2.0)
    return EntryCandidate(intent, "SPY", Greeks(1.0, -0.5, 1.0, -5.0), 800.0)


@dataclass(frozen=True)
class Outcome:
    decided: tuple[Decision, ...]
    triggered: tuple[Decision, ...]
    accepted: tuple[bool, ...]
    events: tuple[RiskEvent, ...]
    alerts: tuple[Alert, ...]
    state: dict[str, dict[str, object]]


class Trader:
    """The engine's cycle around the risk layer, recorded through `CycleRecorder`."""

    def __init__(self, location: StoreLocation) -> None:
        """Start (or restart) on ``location``: a new store, the risk state restored."""
        self.store = Store(location, app_id="engine")
        state = restore(self.store)
        self.engine = DecisionEngine(DECISIONS)
        self.gate = RiskGate(RISK, state.breaker)
        self.stops = TrailingStopManager(RISK.trailing_stop)
        self.trailing, self.monitor = state.trailing, state.monitor
        self.recorder = CycleRecorder(self.store)
        self.recorded: tuple[datetime, CycleDecisions, tuple[RiskEvent, ...], RiskState] | None
        self.recorded = None

    def cycle(self, step: Step) -> Outcome:
        now = step.at
        strategies = self.engine.summarize(step.book(), TODAY)
        self.gate.begin_cycle(strategies, BUYING_POWER, now)
        if step.filled:
            self.gate.record_success(now)
        for _ in range(step.failures):
            self.gate.record_failure(FailureKind.ORDER_REJECT, now, "IB 201")
        trailing = self.stops.update(self.trailing, strategies)
        monitored = self.monitor.update(strategies, RISK.portfolio, BUYING_POWER, now)
        context = CycleContext(
            now,
            TODAY,
            entries_allowed=self.gate.trading_state is TradingState.ACTIVE,
            trailing=trailing.context,
            limit_targets=monitored.targets,
        )
        decisions = self.engine.decide(strategies, context)
        entries = [candidate(strategy_id) for strategy_id in step.entries]
        accepted = tuple(self.gate.check(e.intent, now, e).accepted for e in entries)
        events = (*monitored.events, *self.gate.take_events())
        self.trailing, self.monitor = trailing.state, monitored.monitor
        state = RiskState(self.gate.breaker_state, self.trailing, self.monitor)
        self.recorded = (now, decisions, events, state)
        alerts = self.recorder.record(*self.recorded)
        self.store.flush()
        return Outcome(
            decisions.decisions(),
            decisions.triggered(),
            accepted,
            events,
            alerts,
            state.to_records(),
        )


def run_straight(location: StoreLocation) -> list[Outcome]:
    trader = Trader(location)
    return [trader.cycle(step) for step in SCENARIO]


def run_restarting(location: StoreLocation) -> list[Outcome]:
    """A restart (new store, state restored) before every cycle."""
    return [Trader(location).cycle(step) for step in SCENARIO]


def versions(store: Store) -> dict[str, int | None]:
    return {spec.name: store.reader.version(spec) for spec in ALL_TABLES}


def flagged(decisions: CycleDecisions) -> list[RecordedDecision]:
    return [
        *(RecordedDecision(d, True) for d in decisions.decisions()),
        *(RecordedDecision(d, False) for d in decisions.triggered()),
    ]


def sort_rows(rows: list[RecordedDecision]) -> list[tuple[str, str, bool]]:
    return sorted((r.decision.strategy_id, r.decision.rule, r.deciding) for r in rows)


@pytest.fixture
def location(tmp_path: Path) -> StoreLocation:
    return StoreLocation(str(tmp_path / "data"))


def many_rules_book() -> pl.DataFrame:
    """``hit``: stop loss, delta breach and time exit at once (stop loss decides); ``wide``:
    time exit vetoed by an absurd market; ``calm``: holds."""
    hit, wide, calm = (
        put_spread("hit", 440, 430, dte=14),
        put_spread("wide", 420, 410, dte=14),
        put_spread("calm", 400, 390),
    )
    return book_of(
        (hit, quotes_frame(hit, [Quote(0.5), Quote(6.5, delta=-0.45)], 445.0)),
        (wide, quotes_frame(wide, [Quote(0.2, width=0.4), Quote(1.5, width=1.2)], 445.0)),
        (calm, quotes_frame(calm, [Quote(0.1), Quote(1.8, delta=-0.05)], 445.0)),
    )


def test_every_triggered_rule_is_recorded_with_the_deciding_one_flagged(
    location: StoreLocation,
) -> None:
    decisions = decide(many_rules_book())
    store = Store(location, app_id="engine")
    CycleRecorder(store).record(NOW, decisions, (), RiskState())
    store.flush()

    history = Store(location).decisions.history()
    assert sort_rows(history) == sort_rows(flagged(decisions))
    assert [(r.decision.rule, r.deciding) for r in history if r.decision.strategy_id == "hit"] == [
        ("stop_loss", True),
        ("stop_loss", False),
        ("delta_breach", False),
        ("time_exit", False),
    ]
    assert [(r.decision.rule, r.deciding) for r in history if r.decision.strategy_id == "wide"] == [
        ("market_veto", True),
        ("time_exit", False),
    ]
    assert {r.decision.rule for r in history if r.deciding} == {"stop_loss", "market_veto", "hold"}
    assert set(history) == set(flagged(decisions))


def test_a_replayed_cycle_adds_no_row_and_no_table_version(location: StoreLocation) -> None:
    trader = Trader(location)
    trader.cycle(SCENARIO[0])
    tripped = trader.cycle(SCENARIO[1])
    assert trader.recorded is not None
    recorded = versions(trader.store)

    again = trader.recorder.record(*trader.recorded)
    same_flush = trader.store.flush()
    restarted = Trader(location)
    after_restart = restarted.recorder.record(*trader.recorded)
    restart_flush = restarted.store.flush()

    assert [alert.severity for alert in tripped.alerts] == [Severity.CRITICAL]
    assert again == after_restart == ()
    assert {f.table for f in same_flush} == {"decisions", "risk_events"}
    assert {f.table for f in restart_flush} == {"decisions", "risk_events", "risk_state"}
    for flushed in (same_flush, restart_flush):
        assert all(f.rows == 0 and f.sequence is None for f in flushed)
    assert versions(restarted.store) == recorded
    history = restarted.store.decisions.history(since=SCENARIO[1].at)
    assert len(history) == len(flagged(trader.recorded[1]))
    assert len(restarted.store.risk_events.since(SCENARIO[1].at)) == len(tripped.events)
    assert restarted.store.alerts.unacknowledged() == list(tripped.alerts)


def test_only_the_state_components_that_changed_are_written_again(
    location: StoreLocation,
) -> None:
    store = Store(location, app_id="engine")
    recorder = CycleRecorder(store)
    state = RiskState()
    tripped = RiskGate(RISK)
    tripped.halt("operator", NOW)
    halted = state._replace(breaker=tripped.breaker_state)

    def written(at: datetime, cycle_state: RiskState) -> int:
        """The rows a cycle without decisions or events hands the writer (risk_state's)."""
        recorder.record(at, None, (), cycle_state)
        assert store.writer is not None
        handed = store.writer.pending_rows
        store.flush()
        return handed

    assert written(NOW, state) == 3
    assert written(NOW + timedelta(seconds=60), state) == 0
    assert written(NOW + timedelta(seconds=120), halted) == 1
    assert restore(Store(location)).to_records() == halted.to_records()
    assert written(NOW + timedelta(seconds=180), state) == 1
    assert restore(Store(location)).to_records() == state.to_records()


def test_intents_breaches_and_breaker_transitions_land_in_risk_events_with_reasons(
    location: StoreLocation,
) -> None:
    outcomes = run_straight(location)
    store = Store(location)
    stored = store.risk_events.since()
    produced = [event for outcome in outcomes for event in outcome.events]

    assert sorted(stored, key=lambda e: e.event_id) == sorted(produced, key=lambda e: e.event_id)
    intents = sorted((e.strategy_id, e.kind, e.reason) for e in stored if e.intent is not None)
    assert intents == [
        ("a", RiskEventKind.INTENT_ACCEPTED, "open accepted: entry within limits"),
        ("b", RiskEventKind.INTENT_REJECTED, "open rejected: circuit breaker open (failures): "
         "entries blocked"),
        ("c", RiskEventKind.INTENT_REJECTED, "open rejected: circuit breaker open (failures): "
         "entries blocked"),
        ("d", RiskEventKind.INTENT_ACCEPTED, "open accepted: probe entry (breaker half-open)"),
        ("e", RiskEventKind.INTENT_REJECTED, "open rejected: circuit breaker half-open: its "
         "probe entry is pending"),
        ("f", RiskEventKind.INTENT_ACCEPTED, "open accepted: entry within limits"),
    ]  # fmt: skip
    transitions = [
        (e.at, e.from_state, e.to_state)
        for e in stored
        if e.kind is RiskEventKind.BREAKER_TRANSITION
    ]
    assert transitions == [
        (SCENARIO[1].at, "closed", "open"),
        (SCENARIO[4].at, "open", "half_open"),
        (SCENARIO[5].at, "half_open", "closed"),
    ]
    limits = [(e.at, e.kind, e.limit, e.strategy_id) for e in stored if e.limit == "gamma"]
    assert limits == [
        (SCENARIO[2].at, RiskEventKind.LIMIT_BREACHED, "gamma", "ps"),
        (SCENARIO[4].at, RiskEventKind.LIMIT_CLEARED, "gamma", None),
    ]
    breach = next(e for e in stored if e.kind is RiskEventKind.LIMIT_BREACHED)
    assert (breach.value, breach.limit_value) == (-9.0, 5.0)
    assert breach.reason.startswith("book over a limit: |gamma| 9.00 > 5; reduce ps")
    assert [e.kind for e in stored].count(RiskEventKind.FAILURE_RECORDED) == 3
    assert [(a.severity, a.message) for a in store.alerts.unacknowledged()] == [
        (Severity.CRITICAL, next(e.reason for e in stored if e.to_state == "open")),
        (Severity.WARNING, breach.reason),
    ]
    assert [a for outcome in outcomes for a in outcome.alerts] == sorted(
        store.alerts.unacknowledged(), key=lambda a: a.created_at
    )


def test_a_restart_before_every_cycle_continues_as_an_uninterrupted_run(
    tmp_path: Path,
) -> None:
    straight_at = StoreLocation(str(tmp_path / "straight"))
    restarted_at = StoreLocation(str(tmp_path / "restarted"))
    straight = run_straight(straight_at)
    restarted = run_restarting(restarted_at)

    assert restarted == straight
    one, other = Store(straight_at), Store(restarted_at)
    assert other.decisions.history() == one.decisions.history()
    assert other.risk_events.since() == one.risk_events.since()
    assert other.risk_state.load() == one.risk_state.load()


def test_the_restored_state_is_the_one_the_cycle_left(location: StoreLocation) -> None:
    trader = Trader(location)
    outcomes, states = [], []
    for step in SCENARIO:
        outcomes.append(trader.cycle(step))
        states.append(restore(Store(location)))
    _, opened, counting, hit, probing, closed = states

    assert (opened.breaker.status, opened.breaker.opened_at) == ("open", SCENARIO[1].at)
    assert len(opened.breaker.failures) == 3
    assert counting.trailing.frame.select("armed", "peak_pnl", "breach_marks").row(0) == (
        True,
        150.0,
        2,
    )
    assert counting.monitor.breached == {"gamma"}
    assert hit.trailing.frame["hit"].to_list() == [True]
    assert (probing.breaker.status, probing.breaker.probe_in_flight) == ("half_open", True)
    assert probing.monitor.breached == frozenset()
    assert (closed.breaker.status, closed.breaker.probe_in_flight) == ("closed", False)
    assert [outcome.decided[0].rule for outcome in outcomes] == [
        "hold",
        "hold",
        "portfolio_limit",
        "trailing_stop",
        "trailing_stop",
        "trailing_stop",
    ]
    assert [d.rule for d in outcomes[3].triggered] == ["trailing_stop", "portfolio_limit"]


def test_a_first_start_restores_fresh_state_and_a_bad_record_is_refused(
    location: StoreLocation,
) -> None:
    fresh = restore(Store(location))
    assert fresh.breaker.status == "closed"
    assert fresh.trailing.frame.height == 0
    assert fresh.monitor.breached == frozenset()

    store = Store(location, app_id="engine")
    records = RiskState().to_records()
    bad_monitor = {**records, RiskComponent.LIMIT_MONITOR.value: {"version": 1, "breached": [3]}}
    store.risk_state.save(bad_monitor, NOW)
    store.flush()
    with pytest.raises(
        ValueError, match=r"LimitMonitor\.breached = \[3\]: expected a list of text"
    ):
        restore(store)
    with pytest.raises(ValueError, match=r"risk_state components \['engine'\]"):
        RiskState.from_records({**records, "engine": {}})
