"""Risk events: every accepted or rejected intent, limit breach and breaker transition, as
immutable records for the risk_events table, and the alerts some of them raise.

Emitted by:

* `v6.risk.gate.RiskGate.check` - INTENT_ACCEPTED, INTENT_REJECTED (with the limit, the value
  the book would reach and the reason);
* `v6.risk.limits.LimitMonitor.update` - LIMIT_BREACHED when a limit is first exceeded,
  LIMIT_CLEARED when the book is back within it;
* `v6.risk.circuit_breaker.CircuitBreaker` - FAILURE_RECORDED, BREAKER_TRANSITION (with
  ``from_state``/``to_state``), TRADING_HALTED, TRADING_RESUMED.

This is the one risk-event type: the store's risk_events repository writes and reads it
(``v6.store.repositories.events``), the ``details`` column holding `RiskEvent.details`.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum, auto
from typing import Final

from v6.domain import Alert, Severity


class RiskLevel(StrEnum):
    """The risk level an event belongs to. Position-level risk (stop loss, trailing stops and
    the other exit rules) is the rule book's and is recorded in the decisions table."""

    PORTFOLIO = auto()
    SYSTEM = auto()


DETAIL_FIELDS: Final = ("intent", "limit", "value", "limit_value", "from_state", "to_state")
"""The optional fields of `RiskEvent`, kept by name in `RiskEvent.details`."""


class RiskEventKind(StrEnum):
    INTENT_ACCEPTED = auto()
    INTENT_REJECTED = auto()
    LIMIT_BREACHED = auto()
    LIMIT_CLEARED = auto()
    FAILURE_RECORDED = auto()
    BREAKER_TRANSITION = auto()
    TRADING_HALTED = auto()
    TRADING_RESUMED = auto()


@dataclass(frozen=True, slots=True)
class RiskEvent:
    """One risk event at ``at`` (UTC). ``event_id`` is derived from the content, so the same
    event replayed after a crash has the same key."""

    kind: RiskEventKind
    at: datetime
    reason: str
    strategy_id: str | None = None
    intent: str | None = None
    limit: str | None = None
    value: float | None = None
    limit_value: float | None = None
    from_state: str | None = None
    to_state: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.kind, RiskEventKind):
            raise ValueError(f"RiskEvent.kind = {self.kind!r}: expected a RiskEventKind")
        if not isinstance(self.at, datetime) or self.at.utcoffset() is None:
            raise ValueError(f"RiskEvent.at = {self.at!r}: expected an aware datetime")
        object.__setattr__(self, "at", self.at.astimezone(UTC))
        if not isinstance(self.reason, str) or not self.reason.strip():
            raise ValueError(f"RiskEvent.reason = {self.reason!r}: expected non-blank text")
        for name in ("value", "limit_value"):
            number = getattr(self, name)
            if number is None:
                continue
            if isinstance(number, bool) or not isinstance(number, int | float):
                raise ValueError(f"RiskEvent.{name} = {number!r}: expected a number")
            if not math.isfinite(number):
                raise ValueError(f"RiskEvent.{name} = {number!r}: expected a finite number")
            object.__setattr__(self, name, float(number))

    @property
    def event_id(self) -> str:
        text = "|".join(
            str(part)
            for part in (
                self.kind.value,
                self.at.isoformat(),
                self.strategy_id,
                self.intent,
                self.limit,
                self.value,
                self.limit_value,
                self.from_state,
                self.to_state,
                self.reason,
            )
        )
        return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()

    @property
    def level(self) -> RiskLevel:
        """Portfolio (intents and limits) or system (breaker and halt)."""
        return RiskLevel.PORTFOLIO if self.kind in _PORTFOLIO_KINDS else RiskLevel.SYSTEM

    @property
    def details(self) -> dict[str, object]:
        """The optional fields (`DETAIL_FIELDS`) that are set, by name."""
        fields = {name: getattr(self, name) for name in DETAIL_FIELDS}
        return {name: value for name, value in fields.items() if value is not None}


_PORTFOLIO_KINDS = frozenset(
    {
        RiskEventKind.INTENT_ACCEPTED,
        RiskEventKind.INTENT_REJECTED,
        RiskEventKind.LIMIT_BREACHED,
        RiskEventKind.LIMIT_CLEARED,
    }
)

_ALERTING = {
    RiskEventKind.LIMIT_BREACHED: Severity.WARNING,
    RiskEventKind.TRADING_HALTED: Severity.CRITICAL,
}


def risk_alert(event: RiskEvent) -> Alert | None:
    """The alert a person should see for ``event``: a limit breach (warning), the breaker
    opening or trading halted (critical); None for routine events."""
    severity = _ALERTING.get(event.kind)
    if event.kind is RiskEventKind.BREAKER_TRANSITION and event.to_state == "open":
        severity = Severity.CRITICAL
    if severity is None:
        return None
    topic = event.limit or event.to_state or event.kind.value
    return Alert(
        alert_id=f"risk-{event.event_id}",
        severity=severity,
        source="risk",
        message=event.reason,
        dedup_key=f"risk:{event.kind.value}:{topic}",
        created_at=event.at,
    )
