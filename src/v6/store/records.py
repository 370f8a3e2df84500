"""Typed records for what the store keeps beyond the domain model.

Strategies, legs, positions, fills, decisions and alerts are ``v6.domain`` objects and risk
events are ``v6.risk.RiskEvent``; the rest (orders with their status, per-leg snapshots,
account snapshots, reconciliation events, dashboard commands, heartbeats) are these small
frozen dataclasses. Times are UTC:
aware datetimes are converted, naive ones rejected.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from enum import StrEnum, auto
from types import MappingProxyType
from zoneinfo import ZoneInfo

from v6.domain import Decision, Greeks, IntentKind, Leg, OptionContract

EXCHANGE_TIME_ZONE = ZoneInfo("America/New_York")


def trade_date(at: datetime) -> date:
    """The New York calendar date of ``at``: the session date an event belongs to."""
    return at.astimezone(EXCHANGE_TIME_ZONE).date()


def utc(value: datetime, where: str) -> datetime:
    """``value`` converted to UTC; raises ValueError for a naive datetime."""
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(f"{where} = {value!r}: expected a timezone-aware datetime (UTC)")
    return value.astimezone(UTC)


def _stamp(record: object, *names: str) -> None:
    for name in names:
        value = getattr(record, name)
        if value is not None:
            where = f"{type(record).__name__}.{name}"
            object.__setattr__(record, name, utc(value, where))


def _frozen(mapping: Mapping[str, object]) -> Mapping[str, object]:
    return MappingProxyType(dict(mapping))


class OrderStatus(StrEnum):
    PENDING_SUBMIT = auto()
    SUBMITTED = auto()
    PARTIALLY_FILLED = auto()
    FILLED = auto()
    CANCELLED = auto()
    REJECTED = auto()

    @property
    def is_terminal(self) -> bool:
        return self in {OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED}


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """An order V6 placed and its latest status. ``order_id`` is the id the broker's fills
    refer to; ``legs`` and ``limit_price`` follow ``v6.domain.OrderIntent``."""

    order_id: str
    strategy_id: str
    intent: IntentKind
    attempt: int
    legs: tuple[Leg, ...]
    quantity: int
    limit_price: float
    status: OrderStatus
    submitted_at: datetime
    updated_at: datetime
    filled_quantity: int = 0
    avg_fill_price: float | None = None
    broker_order_id: str | None = None
    message: str | None = None

    def __post_init__(self) -> None:
        _stamp(self, "submitted_at", "updated_at")

    @property
    def order_ref(self) -> str:
        """The reference ``OrderIntent.order_ref(attempt)`` gives this order."""
        return f"{self.strategy_id}:{self.intent.value}:{self.attempt}"


@dataclass(frozen=True, slots=True)
class LegSnapshot:
    """One leg of a strategy at one sync: quotes, mark, implied vol and per-share Greeks
    as the sync recorded them (None when the quote source had none)."""

    strategy_id: str
    contract: OptionContract
    at: datetime
    mark: float | None = None
    bid: float | None = None
    ask: float | None = None
    implied_vol: float | None = None
    underlying_price: float | None = None
    greeks: Greeks | None = None

    def __post_init__(self) -> None:
        _stamp(self, "at")

    @property
    def trade_date(self) -> date:
        return trade_date(self.at)


@dataclass(frozen=True, slots=True)
class RecordedDecision:
    """A row of the decisions table: a rule's verdict on a strategy at one evaluation, and
    whether it is the verdict that decided (one per strategy and evaluation: the winning rule,
    ``hold``, or ``market_veto``) or another rule that triggered."""

    decision: Decision
    deciding: bool


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """Account values at one moment: a point of the equity curve."""

    account: str
    at: datetime
    net_liquidation: float | None = None
    cash: float | None = None
    buying_power: float | None = None
    maintenance_margin: float | None = None
    unrealized_pnl: float | None = None
    realized_pnl: float | None = None

    def __post_init__(self) -> None:
        _stamp(self, "at")


@dataclass(frozen=True, slots=True)
class ReconciliationEvent:
    """A difference between the broker's positions and the store's, and what was done."""

    event_id: str
    at: datetime
    account: str
    symbol: str
    kind: str
    broker_quantity: int | None = None
    store_quantity: int | None = None
    resolution: str | None = None

    def __post_init__(self) -> None:
        _stamp(self, "at")


class CommandStatus(StrEnum):
    PENDING = auto()
    ACCEPTED = auto()
    DONE = auto()
    REJECTED = auto()
    FAILED = auto()


@dataclass(frozen=True, slots=True)
class Command:
    """A request to the engine (from the dashboard or CLI): ``kind`` names the action,
    ``payload`` its arguments; the engine moves ``status`` on and explains in ``result``."""

    command_id: str
    kind: str
    requested_by: str
    requested_at: datetime
    payload: Mapping[str, object] = field(default_factory=dict)
    status: CommandStatus = CommandStatus.PENDING
    updated_at: datetime | None = None
    result: str | None = None

    def __post_init__(self) -> None:
        _stamp(self, "requested_at", "updated_at")
        if self.updated_at is None:
            object.__setattr__(self, "updated_at", self.requested_at)
        object.__setattr__(self, "payload", _frozen(self.payload))

    def with_status(
        self, status: CommandStatus, at: datetime, result: str | None = None
    ) -> Command:
        return replace(self, status=status, updated_at=at, result=result)


class HealthStatus(StrEnum):
    OK = auto()
    DEGRADED = auto()
    DOWN = auto()


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """The latest sign of life of one component."""

    component: str
    status: HealthStatus
    at: datetime
    message: str | None = None

    def __post_init__(self) -> None:
        _stamp(self, "at")
