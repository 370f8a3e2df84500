"""The risk gate: every order intent passes here and is accepted or denied with a recorded
event - never by raising.

* CLOSE and REDUCE intents always pass (closing orders must get out even when halted or
  tripped). Cancels are not intents and never pass through the gate.
* OPEN and ROLL intents (they add risk) pass only when trading is ACTIVE - or, with the
  breaker half-open, as its single probe entry - and only if the book stays within every
  portfolio limit with the candidate added. An accepted entry is added to the cycle's
  exposure at once, so two entries of one cycle cannot together pass a limit.
* A failure recorded mid-cycle applies to the next intent of the same cycle.

The gate is the small stateful shell around pure parts: the breaker policy and its state
(`v6.risk.circuit_breaker`), the limits (`v6.risk.limits`). It collects the events it and
the breaker produce; the engine drains them with `take_events` and persists them. Its
breaker state is rebuilt on restart by passing the last persisted `BreakerState` in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from v6.config.risk import RiskConfig
from v6.domain import IntentKind, OrderIntent
from v6.risk.circuit_breaker import (
    BreakerState,
    BreakerStatus,
    BreakerStep,
    CircuitBreaker,
    FailureKind,
    TradingState,
)
from v6.risk.events import RiskEvent, RiskEventKind
from v6.risk.limits import EntryCandidate, Exposure, LimitViolation, check_entry
from v6.table import Columns

CLOSING_INTENTS = frozenset({IntentKind.CLOSE, IntentKind.REDUCE})


@dataclass(frozen=True, slots=True)
class GateVerdict:
    """The gate's answer to one intent; ``violations`` lists every limit an entry would
    break (empty when it was accepted or denied by the trading state)."""

    accepted: bool
    event: RiskEvent
    violations: tuple[LimitViolation, ...] = ()


class RiskGate:
    def __init__(self, config: RiskConfig, breaker_state: BreakerState | None = None) -> None:
        self._config = config
        self._breaker = CircuitBreaker(config.circuit_breaker)
        self._state = breaker_state or BreakerState()
        self._exposure: Exposure | None = None
        self._buying_power = 0.0
        self._events: list[RiskEvent] = []

    @property
    def breaker_state(self) -> BreakerState:
        return self._state

    @property
    def trading_state(self) -> TradingState:
        return self._state.trading_state

    @property
    def exposure(self) -> Exposure | None:
        """The book's exposure this cycle, with the entries accepted so far."""
        return self._exposure

    def begin_cycle(
        self,
        strategies: Columns,
        buying_power: float,
        now: datetime,
        exposure: Exposure | None = None,
    ) -> None:
        """Start a cycle: the book (`v6.book.summarize` columns), the account's buying power
        and the time, which also lets the breaker cool down. ``exposure``, when the caller
        has measured it on the same frame (`MonitorResult.exposure`), spares measuring the
        book again."""
        self._exposure = Exposure.of(strategies) if exposure is None else exposure
        self._buying_power = buying_power
        self._apply(self._breaker.advance(self._state, now))

    def check(
        self, intent: OrderIntent, now: datetime, candidate: EntryCandidate | None = None
    ) -> GateVerdict:
        """Accept or deny ``intent``; an OPEN or ROLL intent needs its ``candidate``."""
        if intent.intent in CLOSING_INTENTS:
            return self._accept(intent, now, "closing order")
        if candidate is None or candidate.intent != intent:
            raise ValueError(
                f"RiskGate.check({intent.strategy_id!r}, {intent.intent.value}): an entry "
                "needs the EntryCandidate built from this intent"
            )
        if self._exposure is None:
            raise RuntimeError("RiskGate.check before begin_cycle: the book is unknown")
        self._apply(self._breaker.advance(self._state, now))
        blocked = self._blocked_by_state()
        if blocked is not None:
            return self._reject(intent, now, blocked[0], blocked[1])
        found = check_entry(self._exposure, candidate, self._config.portfolio, self._buying_power)
        if found:
            return self._reject_for_limits(intent, now, found)
        probe = self._state.probe_available
        if probe:
            self._state = self._breaker.take_probe(self._state)
        self._exposure = self._exposure.plus(candidate)
        return self._accept(
            intent, now, "probe entry (breaker half-open)" if probe else "entry within limits"
        )

    def record_failure(self, kind: FailureKind, now: datetime, detail: str = "") -> None:
        self._apply(self._breaker.record_failure(self._state, kind, now, detail))

    def record_success(self, now: datetime) -> None:
        """An entry filled (closes a half-open breaker whose probe it was)."""
        self._apply(self._breaker.record_success(self._state, now))

    def release_probe(self) -> None:
        self._state = self._breaker.release_probe(self._state)

    def observe_equity(self, equity: float, session_day: date, now: datetime) -> None:
        self._apply(self._breaker.observe_equity(self._state, equity, session_day, now))

    def halt(self, reason: str, now: datetime) -> None:
        self._apply(self._breaker.halt(self._state, reason, now))

    def resume(self, now: datetime) -> None:
        self._apply(self._breaker.resume(self._state, now))

    def reset(self, now: datetime) -> None:
        self._apply(self._breaker.reset(self._state, now))

    def take_events(self) -> tuple[RiskEvent, ...]:
        """Every event since the last call, oldest first."""
        events, self._events = tuple(self._events), []
        return events

    def _apply(self, step: BreakerStep) -> None:
        self._state = step.state
        self._events.extend(step.events)

    def _blocked_by_state(self) -> tuple[str, str] | None:
        state = self._state
        if state.halted:
            return "halt", f"trading halted ({state.halt_reason}): only closing orders pass"
        if state.status is BreakerStatus.OPEN:
            cause = state.cause.value if state.cause else "unknown"
            return "circuit_breaker", f"circuit breaker open ({cause}): entries blocked"
        if state.status is BreakerStatus.HALF_OPEN and state.probe_in_flight:
            return "circuit_breaker", "circuit breaker half-open: its probe entry is pending"
        return None

    def _accept(self, intent: OrderIntent, now: datetime, why: str) -> GateVerdict:
        event = RiskEvent(
            RiskEventKind.INTENT_ACCEPTED,
            now,
            f"{intent.intent.value} accepted: {why}",
            strategy_id=intent.strategy_id,
            intent=intent.intent.value,
        )
        self._events.append(event)
        return GateVerdict(True, event)

    def _reject(
        self,
        intent: OrderIntent,
        now: datetime,
        limit: str,
        why: str,
        found: tuple[LimitViolation, ...] = (),
    ) -> GateVerdict:
        first = found[0] if found else None
        event = RiskEvent(
            RiskEventKind.INTENT_REJECTED,
            now,
            f"{intent.intent.value} rejected: {why}",
            strategy_id=intent.strategy_id,
            intent=intent.intent.value,
            limit=limit,
            value=None if first is None else first.value,
            limit_value=None if first is None else first.limit_value,
        )
        self._events.append(event)
        return GateVerdict(False, event, found)

    def _reject_for_limits(
        self, intent: OrderIntent, now: datetime, found: tuple[LimitViolation, ...]
    ) -> GateVerdict:
        why = "; ".join(violation.reason for violation in found)
        return self._reject(intent, now, found[0].key, why, found)
