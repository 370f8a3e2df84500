"""The risk gate: closing orders always pass, entries only when trading is active and the
book stays within every limit; every verdict is a recorded event, never an exception."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from v6.config.risk import PortfolioLimits, RiskConfig
from v6.domain import Greeks, IntentKind, Leg, OptionContract, OrderIntent, Right
from v6.risk import (
    BreakerState,
    BreakerStatus,
    EntryCandidate,
    Exposure,
    FailureKind,
    LimitMonitor,
    RiskEventKind,
    RiskGate,
    TradingState,
    violations,
)
from v6.table import ArrayTable

NOW = datetime(2024, 1, 10, 15, tzinfo=UTC)
BUYING_POWER = 50_000.0
LEGS = (
    Leg(OptionContract("SPY", date(2024, 2, 16), 430, Right.PUT), 1),
    Leg(OptionContract("SPY", date(2024, 2, 16), 440, Right.PUT), -1),
)
EMPTY_BOOK = pl.DataFrame(
    schema={
        "strategy_id": pl.String,
        "underlying": pl.String,
        "managed": pl.Boolean,
        "delta": pl.Float64,
        "gamma": pl.Float64,
        "theta": pl.Float64,
        "vega": pl.Float64,
        "max_loss": pl.Float64,
    }
)


def intent(strategy_id: str, kind: IntentKind = IntentKind.OPEN) -> OrderIntent:
    return OrderIntent(strategy_id, kind, LEGS, 1, -2.0 if kind is IntentKind.OPEN else 1.0)


def candidate(
    strategy_id: str, delta: float = 10.0, max_loss: float = 800.0, underlying: str = "SPY"
) -> EntryCandidate:
    return EntryCandidate(
        intent(strategy_id), underlying, Greeks(delta, -2.0, 5.0, -20.0), max_loss
    )


def gate(state: BreakerState | None = None, config: RiskConfig | None = None) -> RiskGate:
    risk_gate = RiskGate(config or RiskConfig(), state)
    risk_gate.begin_cycle(ArrayTable.of_frame(EMPTY_BOOK), BUYING_POWER, NOW)
    return risk_gate


def enter(risk_gate: RiskGate, strategy_id: str, at: datetime = NOW, **kw: float) -> bool:
    entry = candidate(strategy_id, **kw)  # type: ignore[arg-type]
    return risk_gate.check(entry.intent, at, entry).accepted


def test_an_entry_within_limits_is_accepted_and_added_to_the_book() -> None:
    risk_gate = gate()
    verdict = risk_gate.check(intent("a"), NOW, candidate("a", delta=120.0))

    assert verdict.accepted
    assert verdict.event.kind is RiskEventKind.INTENT_ACCEPTED
    assert (verdict.event.strategy_id, verdict.event.intent) == ("a", "open")
    assert risk_gate.exposure is not None
    assert risk_gate.exposure.delta == 120.0
    assert not enter(risk_gate, "b", delta=81.0)  # 201 with the first one


def test_a_cycle_starts_from_the_exposure_the_monitor_measured() -> None:
    book = EMPTY_BOOK.vstack(
        pl.DataFrame(
            [("held", "SPY", True, 150.0, -1.0, 2.0, -5.0, 800.0)],
            schema=EMPTY_BOOK.schema,
            orient="row",
        )
    )
    monitored = LimitMonitor().update(
        ArrayTable.of_frame(book), PortfolioLimits(), BUYING_POWER, NOW
    )
    measured, given = RiskGate(RiskConfig()), RiskGate(RiskConfig())
    measured.begin_cycle(ArrayTable.of_frame(book), BUYING_POWER, NOW)
    given.begin_cycle(ArrayTable.of_frame(book), BUYING_POWER, NOW, monitored.exposure)

    assert monitored.exposure == Exposure.of(ArrayTable.of_frame(book))
    assert given.exposure is monitored.exposure
    assert given.exposure == measured.exposure
    assert not enter(given, "b", delta=51.0)  # 201 with the strategy held


def test_a_rejection_carries_the_limit_the_value_and_the_reason() -> None:
    risk_gate = gate()
    verdict = risk_gate.check(intent("a"), NOW, candidate("a", delta=250.0))

    assert not verdict.accepted
    event = verdict.event
    assert event.kind is RiskEventKind.INTENT_REJECTED
    assert (event.limit, event.value, event.limit_value) == ("delta", 250.0, 200.0)
    assert "|delta| 250.00 > 200" in event.reason
    assert [v.key for v in verdict.violations] == ["delta"]
    assert risk_gate.take_events() == (event,)
    assert risk_gate.take_events() == ()


@pytest.mark.parametrize("kind", [IntentKind.CLOSE, IntentKind.REDUCE])
def test_closing_orders_pass_when_halted_and_when_tripped(kind: IntentKind) -> None:
    risk_gate = gate(BreakerState(status=BreakerStatus.OPEN, halted=True, halt_reason="test"))

    assert risk_gate.check(intent("a", kind), NOW).accepted


def test_three_failures_block_the_next_entry_of_the_same_cycle() -> None:
    risk_gate = gate()
    assert enter(risk_gate, "a")
    for second in range(3):
        risk_gate.record_failure(FailureKind.BROKER_ERROR, NOW + timedelta(seconds=second))

    verdict = risk_gate.check(intent("b"), NOW + timedelta(seconds=3), candidate("b"))
    assert not verdict.accepted
    assert verdict.event.limit == "circuit_breaker"
    assert "circuit breaker open (failures)" in verdict.event.reason
    assert risk_gate.check(intent("a", IntentKind.CLOSE), NOW + timedelta(seconds=3)).accepted
    kinds = [e.kind for e in risk_gate.take_events()]
    assert kinds.count(RiskEventKind.BREAKER_TRANSITION) == 1
    assert risk_gate.trading_state is TradingState.REDUCING


def test_half_open_lets_exactly_one_probe_entry_through() -> None:
    risk_gate = gate()
    for _ in range(3):
        risk_gate.record_failure(FailureKind.ORDER_REJECT, NOW)
    later = NOW + timedelta(seconds=900)

    assert enter(risk_gate, "probe", later)
    assert not enter(risk_gate, "second", later)
    risk_gate.record_success(later + timedelta(seconds=5))
    assert risk_gate.breaker_state.status is BreakerStatus.CLOSED
    assert enter(risk_gate, "third", later + timedelta(seconds=6))


def test_a_rejected_probe_candidate_does_not_use_up_the_probe() -> None:
    risk_gate = gate()
    for _ in range(3):
        risk_gate.record_failure(FailureKind.ORDER_REJECT, NOW)
    later = NOW + timedelta(seconds=900)

    assert not enter(risk_gate, "too-big", later, delta=500.0)
    assert enter(risk_gate, "fits", later)


def test_an_operator_halt_blocks_entries_and_a_resume_lets_them_through() -> None:
    risk_gate = gate()
    risk_gate.halt("operator", NOW)

    verdict = risk_gate.check(intent("a"), NOW, candidate("a"))
    assert (verdict.accepted, verdict.event.limit) == (False, "halt")
    assert not risk_gate.check(intent("r", IntentKind.ROLL), NOW, _roll("r")).accepted
    risk_gate.resume(NOW)
    assert enter(risk_gate, "a")


def _roll(strategy_id: str) -> EntryCandidate:
    return EntryCandidate(intent(strategy_id, IntentKind.ROLL), "SPY", Greeks.zero(), 0.0)


def test_a_daily_loss_trips_the_gate() -> None:
    risk_gate = gate()
    risk_gate.observe_equity(100_000.0, date(2024, 1, 10), NOW)
    risk_gate.observe_equity(96_000.0, date(2024, 1, 10), NOW + timedelta(minutes=5))

    assert not enter(risk_gate, "a", NOW + timedelta(minutes=6))
    risk_gate.reset(NOW + timedelta(minutes=7))
    assert enter(risk_gate, "a", NOW + timedelta(minutes=8))


def test_an_entry_needs_its_candidate_and_a_cycle() -> None:
    with pytest.raises(ValueError, match="needs the EntryCandidate"):
        gate().check(intent("a"), NOW)
    with pytest.raises(ValueError, match="needs the EntryCandidate"):
        gate().check(intent("a"), NOW, candidate("b"))
    with pytest.raises(RuntimeError, match="before begin_cycle"):
        RiskGate(RiskConfig()).check(intent("a"), NOW, candidate("a"))


def test_the_gate_restarts_from_the_persisted_breaker_state() -> None:
    risk_gate = gate()
    for _ in range(3):
        risk_gate.record_failure(FailureKind.UNEXPECTED_FILL, NOW)
    record = risk_gate.breaker_state.to_record()

    revived = gate(BreakerState.from_record(record))
    assert not enter(revived, "a", NOW + timedelta(seconds=899))
    assert enter(revived, "a", NOW + timedelta(seconds=900))


SMALL_LIMITS = RiskConfig(
    portfolio=PortfolioLimits(
        max_abs_delta=50.0,
        max_abs_gamma=40.0,
        max_abs_vega=300.0,
        max_abs_theta=60.0,
        max_open_strategies=8,
        concentration_min_strategies=3,
        max_symbol_concentration=0.6,
        max_buying_power_use=0.5,
    )
)


@settings(max_examples=60, deadline=None)
@given(
    entries=st.lists(
        st.tuples(
            st.floats(-40, 40),
            st.floats(-30, 30),
            st.floats(-40, 40),
            st.floats(-200, 200),
            st.floats(0, 9_000),
            st.sampled_from(["SPY", "QQQ", "IWM"]),
        ),
        max_size=30,
    )
)
def test_no_accepted_entry_leaves_the_book_outside_a_limit(
    entries: list[tuple[float, float, float, float, float, str]],
) -> None:
    risk_gate = gate(config=SMALL_LIMITS)
    for index, (delta, gamma, theta, vega, max_loss, symbol) in enumerate(entries):
        entry = EntryCandidate(
            intent(f"s{index}"), symbol, Greeks(delta, gamma, theta, vega), max_loss
        )
        verdict = risk_gate.check(entry.intent, NOW, entry)
        exposure = risk_gate.exposure
        assert exposure is not None
        if verdict.accepted:
            assert violations(exposure, SMALL_LIMITS.portfolio, BUYING_POWER) == ()
        else:
            assert verdict.violations
            assert verdict.event.limit == verdict.violations[0].key
