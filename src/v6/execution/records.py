"""What the order engine reports: order records and execution reports.

``OrderRecord`` carries the columns of the store's ``orders`` table under the same names
(``order_id`` is the broker's order id as text - the id its executions refer to - or
``dry-run:<ticket>`` for an order dry run recorded but never sent; ``status`` uses the
table's vocabulary), plus what the table does not keep (role, order type, OCA group, dry run).
``limit_price`` is the order's price: the limit, or a stop order's trigger price. Executions
are the broker's ``ExecutionEvent``s; ``ExecutionReport.fills()`` turns those whose commission
is known into domain ``Fill``s (the ``executions`` table's rows).

Bracket children carry their parent's order ref (IB's bracket copies it), so their records
say intent ``open``; their role says what they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum, auto
from types import MappingProxyType

from v6.brokers.events import ExecutionEvent
from v6.brokers.types import OrderState, OrderStatus, OrderType, WhatIf
from v6.domain import Fill, IntentKind, Leg
from v6.execution.legging import LegImbalance


class OrderRole(StrEnum):
    """Why V6 placed an order."""

    WALKED = auto()
    """An entry, close, roll or reduce walked from the mid toward the natural price."""
    TAKE_PROFIT = auto()
    STOP = auto()
    REPAIR = auto()
    """Completes or flattens legs left unbalanced (legging protection)."""


class RecordStatus(StrEnum):
    """The store's order statuses (``orders.status``)."""

    PENDING_SUBMIT = auto()
    SUBMITTED = auto()
    PARTIALLY_FILLED = auto()
    FILLED = auto()
    CANCELLED = auto()
    REJECTED = auto()


_STATUS = {
    OrderStatus.PENDING_SUBMIT: RecordStatus.PENDING_SUBMIT,
    OrderStatus.PRE_SUBMITTED: RecordStatus.PENDING_SUBMIT,
    OrderStatus.SUBMITTED: RecordStatus.SUBMITTED,
    OrderStatus.PENDING_CANCEL: RecordStatus.SUBMITTED,
    OrderStatus.CANCELLED: RecordStatus.CANCELLED,
    OrderStatus.API_CANCELLED: RecordStatus.CANCELLED,
    OrderStatus.FILLED: RecordStatus.FILLED,
    OrderStatus.INACTIVE: RecordStatus.REJECTED,
}


def record_status(state: OrderState) -> RecordStatus:
    """The store status of a broker order state (a working order with fills is partial)."""
    status = _STATUS[state.status]
    if status is RecordStatus.SUBMITTED and state.filled > 0:
        return RecordStatus.PARTIALLY_FILLED
    return status


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """One order V6 placed (or recorded in dry run) and its latest status."""

    order_id: str
    strategy_id: str
    intent: IntentKind
    attempt: int
    role: OrderRole
    legs: tuple[Leg, ...]
    quantity: int
    order_type: OrderType
    limit_price: float
    status: RecordStatus
    filled_quantity: int
    avg_fill_price: float | None
    submitted_at: datetime
    updated_at: datetime
    broker_order_id: str | None = None
    message: str | None = None
    oca_group: str = ""
    dry_run: bool = False

    @property
    def order_ref(self) -> str:
        """The ``orderRef`` sent with the order: ``<strategy_id>:<intent>:<attempt>``."""
        return f"{self.strategy_id}:{self.intent.value}:{self.attempt}"

    def same_state(self, other: OrderRecord) -> bool:
        """Equal but for ``updated_at`` (a changed record is worth persisting)."""
        return self == replace(other, updated_at=self.updated_at)


class Outcome(StrEnum):
    FILLED = auto()
    PARTIALLY_FILLED = auto()
    """Some units filled, the rest was cancelled (the walk gave up) or the order ended."""
    NOT_FILLED = auto()
    """Ended without a fill: the walk gave up, or the broker cancelled it."""
    REJECTED = auto()
    CANCELLED = auto()
    """Cancelled on request (``OrderEngine.cancel``)."""
    NOTHING_TO_SEND = auto()
    """The orders it waited for (resting exits being cancelled, a replaced order) filled
    every unit; nothing was sent."""
    MARGIN_BLOCKED = auto()
    """The what-if margin check failed; nothing was sent."""
    NO_QUOTE = auto()
    """No valid quote for every leg to price from; nothing was sent."""
    DRY_RUN = auto()
    """Recorded, not sent."""


@dataclass(frozen=True, slots=True)
class MarginCheck:
    """The what-if answer for an entry and the verdict on it."""

    what_if: WhatIf
    passed: bool
    reason: str

    @property
    def margin(self) -> float:
        """The initial margin the entry adds (what the risk gate's candidate takes)."""
        return self.what_if.initial_margin_change


@dataclass(frozen=True, slots=True)
class ExecutionReport:
    """How one request ended.

    ``filled`` units at ``avg_fill_price`` (net per unit, combo convention; None without a
    fill); ``start_mid`` is the combo mid when the order was first priced, so
    ``slippage`` (fill minus mid, positive = worse) measures the price walk. ``orders`` are the
    request's orders as they ended, ``exits`` the resting exits placed after its fill.
    ``legging`` is the imbalance the order's executions left (a repair was submitted for it).
    """

    ticket: str
    strategy_id: str
    intent: IntentKind
    role: OrderRole
    order_ref: str
    outcome: Outcome
    requested: int
    filled: int
    avg_fill_price: float | None
    start_mid: float | None
    finished_at: datetime
    message: str = ""
    orders: tuple[OrderRecord, ...] = ()
    exits: tuple[OrderRecord, ...] = ()
    executions: tuple[ExecutionEvent, ...] = ()
    commissions: Mapping[str, float] = field(default_factory=dict)
    margin: MarginCheck | None = None
    legging: LegImbalance | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "commissions", MappingProxyType(dict(self.commissions)))

    @property
    def slippage(self) -> float | None:
        if self.avg_fill_price is None or self.start_mid is None:
            return None
        return self.avg_fill_price - self.start_mid

    @property
    def sent(self) -> bool:
        """True when an order reached the broker."""
        return self.outcome not in _NOT_SENT

    def fills(self) -> tuple[Fill, ...]:
        """The executions whose commission has arrived, as domain fills."""
        return tuple(
            execution.to_fill(self.commissions[execution.exec_id])
            for execution in self.executions
            if execution.exec_id in self.commissions
        )


_NOT_SENT = frozenset(
    {Outcome.NOTHING_TO_SEND, Outcome.MARGIN_BLOCKED, Outcome.NO_QUOTE, Outcome.DRY_RUN}
)
