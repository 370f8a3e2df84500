"""The circuit breaker over time with a fake clock: the failure window, cooldown, the probe,
daily loss and drawdown, halt and reset, and restarts through to_record/from_record."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from v6.config.risk import CircuitBreakerConfig
from v6.risk import (
    BreakerState,
    BreakerStatus,
    BreakerStep,
    CircuitBreaker,
    FailureKind,
    RiskEvent,
    RiskEventKind,
    TradingState,
    TripCause,
)

START = datetime(2024, 1, 10, 14, 30, tzinfo=UTC)
DAY = date(2024, 1, 10)
BREAKER = CircuitBreaker(CircuitBreakerConfig())  # 3 failures / 300 s, cooldown 900 s


class FakeClock:
    def __init__(self) -> None:
        self.now = START

    def after(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def fail(
    state: BreakerState, at: datetime, kind: FailureKind = FailureKind.ORDER_REJECT
) -> BreakerStep:
    return BREAKER.record_failure(state, kind, at, "IB 201")


def fail_times(state: BreakerState, clock: FakeClock, gaps: list[float]) -> BreakerStep:
    events: list[RiskEvent] = []
    for gap in gaps:
        step = fail(state, clock.after(gap))
        state, events = step.state, [*events, *step.events]
    return BreakerStep(state, tuple(events))


def transitions(events: tuple[RiskEvent, ...]) -> list[tuple[str | None, str | None]]:
    return [
        (e.from_state, e.to_state) for e in events if e.kind is RiskEventKind.BREAKER_TRANSITION
    ]


def test_three_failures_within_five_minutes_open_it() -> None:
    clock = FakeClock()
    step = fail_times(BreakerState(), clock, [0, 100, 199])

    assert step.state.status is BreakerStatus.OPEN
    assert step.state.cause is TripCause.FAILURES
    assert step.state.trading_state is TradingState.REDUCING
    assert transitions(step.events) == [("closed", "open")]
    assert [e.kind for e in step.events].count(RiskEventKind.FAILURE_RECORDED) == 3


def test_failures_spread_wider_than_the_window_do_not() -> None:
    clock = FakeClock()
    step = fail_times(BreakerState(), clock, [0, 200, 101, 200])

    assert step.state.status is BreakerStatus.CLOSED
    assert len(step.state.failures) == 2  # the first two slid out of the window


@pytest.mark.parametrize(
    "kind",
    [FailureKind.BROKER_ERROR, FailureKind.RECONCILIATION_CONFLICT, FailureKind.UNEXPECTED_FILL],
)
def test_every_failure_kind_counts(kind: FailureKind) -> None:
    state = BreakerState()
    for _ in range(3):
        state = BREAKER.record_failure(state, kind, START).state

    assert state.status is BreakerStatus.OPEN


def tripped(clock: FakeClock) -> BreakerState:
    return fail_times(BreakerState(), clock, [0, 1, 1]).state


def test_it_half_opens_after_the_cooldown_and_not_before() -> None:
    clock = FakeClock()
    state = tripped(clock)

    assert BREAKER.advance(state, clock.after(899)).state.status is BreakerStatus.OPEN
    step = BREAKER.advance(state, clock.after(1))
    assert step.state.status is BreakerStatus.HALF_OPEN
    assert step.state.probe_available
    assert transitions(step.events) == [("open", "half_open")]


def half_open(clock: FakeClock) -> BreakerState:
    return BREAKER.advance(tripped(clock), clock.after(900)).state


def test_a_successful_probe_closes_it() -> None:
    clock = FakeClock()
    probing = BREAKER.take_probe(half_open(clock))
    step = BREAKER.record_success(probing, clock.after(30))

    assert not probing.probe_available
    assert step.state == BreakerState()
    assert transitions(step.events) == [("half_open", "closed")]


def test_a_failure_while_half_open_opens_it_again_with_a_new_cooldown() -> None:
    clock = FakeClock()
    step = fail(BREAKER.take_probe(half_open(clock)), clock.after(30))

    assert step.state.status is BreakerStatus.OPEN
    assert step.state.opened_at == clock.now
    assert BREAKER.advance(step.state, clock.after(899)).state.status is BreakerStatus.OPEN


def test_a_cancelled_probe_frees_the_slot() -> None:
    clock = FakeClock()
    released = BREAKER.release_probe(BREAKER.take_probe(half_open(clock)))

    assert released.probe_available
    with pytest.raises(ValueError, match="no probe available"):
        BREAKER.take_probe(BreakerState())


def test_success_outside_a_probe_changes_nothing() -> None:
    assert BREAKER.record_success(BreakerState(), START) == BreakerStep(BreakerState())


def equity_steps(
    values: list[tuple[date, float]], state: BreakerState | None = None
) -> BreakerStep:
    clock = FakeClock()
    state = state or BreakerState()
    events: list[RiskEvent] = []
    for day, equity in values:
        step = BREAKER.observe_equity(state, equity, day, clock.after(60))
        state, events = step.state, [*events, *step.events]
    return BreakerStep(state, tuple(events))


@pytest.mark.parametrize(("equity", "status"), [(97_000.0, "open"), (97_001.0, "closed")])
def test_a_daily_loss_of_three_percent_opens_it(equity: float, status: str) -> None:
    step = equity_steps([(DAY, 100_000.0), (DAY, 98_500.0), (DAY, equity)])

    assert step.state.status.value == status
    if status == "open":
        assert step.state.cause is TripCause.DAILY_LOSS


def test_a_daily_loss_trip_half_opens_on_the_next_trading_day() -> None:
    step = equity_steps([(DAY, 100_000.0), (DAY, 96_000.0), (date(2024, 1, 11), 96_500.0)])

    assert step.state.status is BreakerStatus.HALF_OPEN
    assert step.state.day_start_equity == 96_500.0
    assert transitions(step.events) == [("closed", "open"), ("open", "half_open")]


def test_a_drawdown_of_ten_percent_from_the_peak_needs_a_reset() -> None:
    days = [date(2024, 1, d) for d in range(10, 16)]
    path = [110_000.0, 107_000.0, 104_500.0, 102_000.0, 99_500.0, 99_000.0]
    step = equity_steps([(DAY, 100_000.0), *zip(days, path, strict=True)])

    assert step.state.status is BreakerStatus.OPEN
    assert step.state.cause is TripCause.DRAWDOWN
    later = BREAKER.advance(step.state, START + timedelta(days=30))
    assert later.state.status is BreakerStatus.OPEN
    reset = BREAKER.reset(later.state, START + timedelta(days=30))
    assert reset.state.status is BreakerStatus.CLOSED
    assert reset.state.peak_equity == 99_000.0
    assert transitions(reset.events) == [("open", "closed")]


def test_a_drawdown_escalates_an_open_breaker() -> None:
    clock = FakeClock()
    state = tripped(clock)
    state = BREAKER.observe_equity(state, 100_000.0, DAY, clock.after(1)).state
    step = BREAKER.observe_equity(state, 89_000.0, DAY, clock.after(1))

    assert step.state.cause is TripCause.DRAWDOWN
    assert transitions(step.events) == [("open", "open")]
    assert BREAKER.advance(step.state, clock.after(3600)).state.status is BreakerStatus.OPEN


def test_equity_must_be_positive() -> None:
    with pytest.raises(ValueError, match="equity"):
        BREAKER.observe_equity(BreakerState(), 0.0, DAY, START)


def test_halt_and_resume_by_command() -> None:
    halted = BREAKER.halt(BreakerState(), "operator: FOMC", START)
    again = BREAKER.halt(halted.state, "twice", START)
    resumed = BREAKER.resume(halted.state, START)

    assert halted.state.trading_state is TradingState.HALTED
    assert [e.kind for e in halted.events] == [RiskEventKind.TRADING_HALTED]
    assert again.events == ()
    assert resumed.state.trading_state is TradingState.ACTIVE
    assert [e.kind for e in resumed.events] == [RiskEventKind.TRADING_RESUMED]


def test_reset_of_a_closed_breaker_records_nothing() -> None:
    assert BREAKER.reset(BreakerState(), START).events == ()


def test_a_restart_from_the_record_continues_identically() -> None:
    """Run a scenario straight through, and again restarting (JSON round trip) at every
    step: the states and events are the same."""
    clock = FakeClock()
    times = [clock.after(gap) for gap in (0, 10, 20, 900, 5, 60, 120)]

    def script(state: BreakerState, index: int) -> BreakerStep:
        at = times[index]
        if index < 3:
            return fail(state, at)
        if index == 3:
            return BREAKER.advance(state, at)
        if index == 4:
            return BreakerStep(BREAKER.take_probe(state))
        if index == 5:
            return BREAKER.observe_equity(state, 50_000.0, DAY, at)
        return BREAKER.record_success(state, at)

    straight = restarted = BreakerState(halted=True, halt_reason="test")
    straight_events, restarted_events = [], []
    for index in range(len(times)):
        step = script(straight, index)
        straight, straight_events = step.state, [*straight_events, *step.events]
        revived = BreakerState.from_record(json.loads(json.dumps(restarted.to_record())))
        assert revived == restarted
        step = script(revived, index)
        restarted, restarted_events = step.state, [*restarted_events, *step.events]

    assert restarted == straight
    assert restarted_events == straight_events
    assert straight.status is BreakerStatus.CLOSED


def test_a_bad_record_is_refused_by_field() -> None:
    record = BreakerState().to_record()

    with pytest.raises(ValueError, match=r"BreakerState.status = 'ajar'"):
        BreakerState.from_record({**record, "status": "ajar"})
    with pytest.raises(ValueError, match=r"BreakerState.failures"):
        BreakerState.from_record({**record, "failures": ["2024-01-10T10:00:00"]})
    with pytest.raises(ValueError, match=r"BreakerState.version = 7"):
        BreakerState.from_record({**record, "version": 7})
    with pytest.raises(ValueError, match=r"BreakerState.halted: missing"):
        BreakerState.from_record({k: v for k, v in record.items() if k != "halted"})
