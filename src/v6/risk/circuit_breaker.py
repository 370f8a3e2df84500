"""The circuit breaker: the system-level stop that blocks new entries, never closing orders.

States::

    CLOSED --(failure_threshold failures within window_seconds)--> OPEN (cause: failures)
    CLOSED --(equity max_daily_loss_fraction below the day's open)--> OPEN (cause: daily_loss)
    CLOSED --(equity max_drawdown_fraction below its peak)---------> OPEN (cause: drawdown)
    OPEN (failures)   --(cooldown_seconds later)--> HALF_OPEN
    OPEN (daily_loss) --(next trading day)--------> HALF_OPEN
    OPEN (drawdown)   --(reset by command only)
    HALF_OPEN: one probe entry may go; its success -> CLOSED, any failure -> OPEN
    reset (command): any -> CLOSED, failures forgotten, loss baselines moved to current equity

Independently, an operator halt (command) stops entries until resumed. Failures are order
rejects, broker errors, reconciliation conflicts and unexpected fills, counted in a sliding
window.

`BreakerState` is a small immutable value; `CircuitBreaker` (the policy, built from config)
maps a state and an input to the next state plus the `RiskEvent`s to record. Time is always
an argument. ``to_record``/``from_record`` give a JSON-safe dict, so the state survives a
restart by persisting it (or its last event) and reading it back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum, auto

from v6.config.risk import CircuitBreakerConfig
from v6.risk._records import Record, RecordReader, iso_date, iso_time
from v6.risk.events import RiskEvent, RiskEventKind

RECORD_VERSION = 1


class BreakerStatus(StrEnum):
    CLOSED = auto()
    OPEN = auto()
    HALF_OPEN = auto()


class TripCause(StrEnum):
    FAILURES = auto()
    DAILY_LOSS = auto()
    DRAWDOWN = auto()


class FailureKind(StrEnum):
    ORDER_REJECT = auto()
    BROKER_ERROR = auto()
    RECONCILIATION_CONFLICT = auto()
    UNEXPECTED_FILL = auto()


class TradingState(StrEnum):
    """What the risk gate lets through (after NautilusTrader's trading states): ACTIVE -
    everything within limits; REDUCING - the breaker is not closed: closing orders only (plus
    one probe entry when half-open); HALTED - operator halt: closing orders only."""

    ACTIVE = auto()
    REDUCING = auto()
    HALTED = auto()


@dataclass(frozen=True, slots=True)
class BreakerState:
    """The breaker at one moment; ``failures`` are the failure times still in the window."""

    status: BreakerStatus = BreakerStatus.CLOSED
    cause: TripCause | None = None
    opened_at: datetime | None = None
    failures: tuple[datetime, ...] = ()
    probe_in_flight: bool = False
    halted: bool = False
    halt_reason: str | None = None
    session_day: date | None = None
    day_start_equity: float | None = None
    peak_equity: float | None = None
    last_equity: float | None = None

    @property
    def trading_state(self) -> TradingState:
        if self.halted:
            return TradingState.HALTED
        if self.status is BreakerStatus.CLOSED:
            return TradingState.ACTIVE
        return TradingState.REDUCING

    @property
    def probe_available(self) -> bool:
        return self.status is BreakerStatus.HALF_OPEN and not self.probe_in_flight

    def to_record(self) -> Record:
        return {
            "version": RECORD_VERSION,
            "status": self.status.value,
            "cause": None if self.cause is None else self.cause.value,
            "opened_at": iso_time(self.opened_at),
            "failures": [iso_time(at) for at in self.failures],
            "probe_in_flight": self.probe_in_flight,
            "halted": self.halted,
            "halt_reason": self.halt_reason,
            "session_day": iso_date(self.session_day),
            "day_start_equity": self.day_start_equity,
            "peak_equity": self.peak_equity,
            "last_equity": self.last_equity,
        }

    @classmethod
    def from_record(cls, record: Mapping[str, object]) -> BreakerState:
        read = RecordReader(record, "BreakerState", RECORD_VERSION)
        cause = read.optional_text("cause")
        return cls(
            status=read.member("status", BreakerStatus),
            cause=None if cause is None else read.member("cause", TripCause),
            opened_at=read.optional_time("opened_at"),
            failures=read.times("failures"),
            probe_in_flight=read.flag("probe_in_flight"),
            halted=read.flag("halted"),
            halt_reason=read.optional_text("halt_reason"),
            session_day=read.optional_date("session_day"),
            day_start_equity=read.optional_number("day_start_equity"),
            peak_equity=read.optional_number("peak_equity"),
            last_equity=read.optional_number("last_equity"),
        )


@dataclass(frozen=True, slots=True)
class BreakerStep:
    state: BreakerState
    events: tuple[RiskEvent, ...] = ()


class CircuitBreaker:
    """The breaker's policy: pure functions from (state, input, time) to a `BreakerStep`."""

    def __init__(self, config: CircuitBreakerConfig) -> None:
        self._config = config

    def advance(self, state: BreakerState, now: datetime) -> BreakerStep:
        """Let time pass: forget failures older than the window; half-open after the
        cooldown of a failure trip."""
        state = replace(state, failures=self._in_window(state.failures, now))
        cooled = (
            state.status is BreakerStatus.OPEN
            and state.cause is TripCause.FAILURES
            and state.opened_at is not None
            and now >= state.opened_at + timedelta(seconds=self._config.cooldown_seconds)
        )
        if cooled:
            return _half_open(state, now, f"cooldown of {self._config.cooldown_seconds:g} s over")
        return BreakerStep(state)

    def record_failure(
        self, state: BreakerState, kind: FailureKind, now: datetime, detail: str = ""
    ) -> BreakerStep:
        step = self.advance(state, now)
        failures = (*step.state.failures, now)
        state = replace(step.state, failures=failures)
        text = f"{kind.value}{': ' + detail if detail else ''}"
        recorded = RiskEvent(
            RiskEventKind.FAILURE_RECORDED,
            now,
            f"failure {len(failures)} in the last {self._config.window_seconds:g} s: {text}",
        )
        events = (*step.events, recorded)
        if state.status is BreakerStatus.HALF_OPEN:
            trip = _open(state, TripCause.FAILURES, now, f"failure while half-open: {text}")
            return BreakerStep(trip.state, events + trip.events)
        if state.status is BreakerStatus.CLOSED and len(failures) >= self._config.failure_threshold:
            reason = (
                f"{len(failures)} failures within {self._config.window_seconds:g} s "
                f"(threshold {self._config.failure_threshold}), last: {text}"
            )
            trip = _open(state, TripCause.FAILURES, now, reason)
            return BreakerStep(trip.state, events + trip.events)
        return BreakerStep(state, events)

    def take_probe(self, state: BreakerState) -> BreakerState:
        """The half-open breaker's one probe entry has been let through."""
        if not state.probe_available:
            raise ValueError(f"take_probe with status {state.status.value}: no probe available")
        return replace(state, probe_in_flight=True)

    def record_success(self, state: BreakerState, now: datetime) -> BreakerStep:
        """An entry filled: if it was the probe, the breaker closes."""
        if state.status is BreakerStatus.HALF_OPEN and state.probe_in_flight:
            closed = replace(
                state,
                status=BreakerStatus.CLOSED,
                cause=None,
                opened_at=None,
                failures=(),
                probe_in_flight=False,
            )
            return BreakerStep(closed, (_transition(state, closed, now, "probe entry filled"),))
        return BreakerStep(state)

    def release_probe(self, state: BreakerState) -> BreakerState:
        """The probe entry ended without a fill or a failure (cancelled): another may go."""
        return replace(state, probe_in_flight=False)

    def observe_equity(
        self, state: BreakerState, equity: float, session_day: date, now: datetime
    ) -> BreakerStep:
        """Account equity at ``now`` on trading day ``session_day``: a new day re-bases the
        daily loss (and half-opens a daily-loss trip); a daily loss or drawdown beyond its
        limit trips the breaker (a drawdown also escalates an open breaker's cause)."""
        if not equity > 0:
            raise ValueError(f"equity = {equity!r}: expected a number > 0")
        events: list[RiskEvent] = []
        if state.session_day != session_day:
            state = replace(state, session_day=session_day, day_start_equity=equity)
            if state.status is BreakerStatus.OPEN and state.cause is TripCause.DAILY_LOSS:
                step = _half_open(state, now, f"new trading day {session_day.isoformat()}")
                state, events = step.state, list(step.events)
        peak = max(equity, state.peak_equity or equity)
        state = replace(state, peak_equity=peak, last_equity=equity)
        trip = self._loss_trip(state, equity)
        if trip is not None and not _open_for(state, trip[0]):
            step = _open(state, trip[0], now, trip[1])
            state, events = step.state, [*events, *step.events]
        return BreakerStep(state, tuple(events))

    def _loss_trip(self, state: BreakerState, equity: float) -> tuple[TripCause, str] | None:
        peak, start = state.peak_equity, state.day_start_equity
        if peak is not None and (peak - equity) / peak >= self._config.max_drawdown_fraction:
            return TripCause.DRAWDOWN, (
                f"drawdown {(peak - equity) / peak:.2%} from peak {peak:,.2f} "
                f">= {self._config.max_drawdown_fraction:.0%}"
            )
        if start is not None and (start - equity) / start >= self._config.max_daily_loss_fraction:
            return TripCause.DAILY_LOSS, (
                f"daily loss {(start - equity) / start:.2%} from {start:,.2f} "
                f">= {self._config.max_daily_loss_fraction:.0%}"
            )
        return None

    def halt(self, state: BreakerState, reason: str, now: datetime) -> BreakerStep:
        if state.halted:
            return BreakerStep(state)
        halted = replace(state, halted=True, halt_reason=reason)
        return BreakerStep(
            halted, (RiskEvent(RiskEventKind.TRADING_HALTED, now, f"trading halted: {reason}"),)
        )

    def resume(self, state: BreakerState, now: datetime) -> BreakerStep:
        if not state.halted:
            return BreakerStep(state)
        resumed = replace(state, halted=False, halt_reason=None)
        return BreakerStep(
            resumed, (RiskEvent(RiskEventKind.TRADING_RESUMED, now, "trading resumed by command"),)
        )

    def reset(self, state: BreakerState, now: datetime) -> BreakerStep:
        """Close the breaker by command: failures forgotten, the day's opening equity and the
        peak moved to the last equity seen (else the same loss would trip it again)."""
        closed = replace(
            state,
            status=BreakerStatus.CLOSED,
            cause=None,
            opened_at=None,
            failures=(),
            probe_in_flight=False,
            day_start_equity=state.last_equity,
            peak_equity=state.last_equity,
        )
        if state.status is BreakerStatus.CLOSED:
            return BreakerStep(closed)
        return BreakerStep(closed, (_transition(state, closed, now, "reset by command"),))

    def _in_window(self, failures: tuple[datetime, ...], now: datetime) -> tuple[datetime, ...]:
        start = now - timedelta(seconds=self._config.window_seconds)
        return tuple(at for at in failures if at > start)


_SEVERITY = {TripCause.FAILURES: 1, TripCause.DAILY_LOSS: 2, TripCause.DRAWDOWN: 3}
"""A more severe cause replaces the cause of an open breaker (it decides how it reopens)."""


def _open_for(state: BreakerState, cause: TripCause) -> bool:
    """Whether the breaker is already open for ``cause`` or something more severe."""
    return (
        state.status is BreakerStatus.OPEN
        and state.cause is not None
        and _SEVERITY[state.cause] >= _SEVERITY[cause]
    )


def _transition(before: BreakerState, after: BreakerState, now: datetime, why: str) -> RiskEvent:
    return RiskEvent(
        RiskEventKind.BREAKER_TRANSITION,
        now,
        f"circuit breaker {before.status.value} -> {after.status.value}: {why}",
        from_state=before.status.value,
        to_state=after.status.value,
    )


def _open(state: BreakerState, cause: TripCause, now: datetime, why: str) -> BreakerStep:
    opened = replace(
        state, status=BreakerStatus.OPEN, cause=cause, opened_at=now, probe_in_flight=False
    )
    return BreakerStep(opened, (_transition(state, opened, now, f"{cause.value}: {why}"),))


def _half_open(state: BreakerState, now: datetime, why: str) -> BreakerStep:
    half = replace(state, status=BreakerStatus.HALF_OPEN, probe_in_flight=False)
    return BreakerStep(half, (_transition(state, half, now, f"{why}; one probe entry allowed"),))
