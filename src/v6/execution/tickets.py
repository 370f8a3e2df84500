"""Requests to the order engine and its working state per order (a *ticket*)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum, auto

from v6.brokers.events import ExecutionEvent
from v6.brokers.types import OrderLeg, OrderSpec, OrderState, OrderStatus, OrderType
from v6.domain import (
    IntentKind,
    InvalidOrderError,
    Leg,
    OptionContract,
    OrderIntent,
    PayoffUndefinedError,
    parse_order_ref,
    payoff_profile,
)
from v6.execution.exits import ExitPlan
from v6.execution.records import (
    MarginCheck,
    OrderRecord,
    OrderRole,
    Outcome,
    RecordStatus,
    record_status,
)

OPENING_INTENTS = frozenset({IntentKind.OPEN, IntentKind.ROLL})


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """Place ``intent`` for the ``attempt``-th time (order ref ``strategy:intent:attempt``).

    ``intent.limit_price`` is the limit the price walk never passes: minus the minimum credit,
    or the maximum debit. ``urgent`` starts at the natural price (a marketable exit).
    ``exits`` rests a take-profit and a stop once an opening intent fills.
    """

    intent: OrderIntent
    attempt: int = 1
    urgent: bool = False
    exits: ExitPlan | None = None

    def __post_init__(self) -> None:
        attempt = self.attempt
        if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
            raise InvalidOrderError(f"OrderRequest.attempt = {attempt!r}: expected an integer >= 1")
        if self.exits is not None and self.intent.intent not in OPENING_INTENTS:
            raise InvalidOrderError(
                f"OrderRequest.exits for a {self.intent.intent.value} intent: resting exits "
                "follow opening intents only"
            )

    @property
    def ref(self) -> str:
        return self.intent.order_ref(self.attempt)


class Phase(StrEnum):
    NEW = auto()
    """Not sent yet; a send that met a retryable broker error is tried again next poll."""
    WAITING = auto()
    """Not sent yet: waits for other orders to end (exits being cancelled, a replaced
    order), then sends what they did not fill."""
    WORKING = auto()
    CANCELLING = auto()
    DONE = auto()


@dataclass(slots=True)
class Ticket:
    """One order's working state. Walked tickets carry their ``request``; resting ones
    (take-profit, stop) and orders adopted from the broker after a restart may not."""

    key: str
    strategy_id: str
    intent: IntentKind
    attempt: int
    role: OrderRole
    spec: OrderSpec
    submitted_at: datetime
    phase: Phase
    request: OrderRequest | None = None
    order_id: int | None = None
    step: int = 0
    next_step_at: datetime | None = None
    start_mid: float | None = None
    cancel_requested: bool = False
    margin: MarginCheck | None = None
    wait_for: dict[int, int] = field(default_factory=dict)
    """Order id -> its filled units when the wait began."""
    replaces: str | None = None
    """The ticket whose unfilled units this one sends (``replace_remaining``)."""
    replaced_by: str | None = None
    repair_key: str | None = None
    """The repair submitted for the legs this order left out of ratio."""
    bracket: bool = False
    """The exits are bracket children sent with the order (not an OCA pair placed after)."""
    carried: tuple[int, float] = (0, 0.0)
    """Units the replaced tickets filled and their net value (units x price): the exits of
    the last ticket of a replacement chain cover them too."""
    exit_keys: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def order_legs(self) -> tuple[Leg, ...]:
        return tuple(Leg(_option(leg.contract), leg.ratio) for leg in self.spec.legs)

    def record(
        self, state: OrderState | None, now: datetime, messages: tuple[str, ...]
    ) -> OrderRecord:
        """The order as the store keeps it; without a broker state it was never sent (dry
        run)."""
        notes = [*self.notes, *messages]
        if state is not None and state.message:
            notes.append(state.message)
        spec = self.spec if state is None else state.spec
        filled = 0 if state is None else state.filled
        broker_id = None if state is None else str(state.order_id)
        return OrderRecord(
            order_id=broker_id or f"dry-run:{self.key}",
            strategy_id=self.strategy_id,
            intent=self.intent,
            attempt=self.attempt,
            role=self.role,
            legs=self.order_legs,
            quantity=spec.quantity,
            order_type=spec.order_type,
            limit_price=spec.trigger_price,
            status=RecordStatus.CANCELLED if state is None else record_status(state),
            filled_quantity=filled,
            avg_fill_price=state.avg_fill_price if state is not None and filled else None,
            submitted_at=self.submitted_at,
            updated_at=now,
            broker_order_id=broker_id,
            message="; ".join(dict.fromkeys(notes)) or None,
            oca_group=spec.oca_group,
            dry_run=state is None,
        )


def role_of(spec: OrderSpec, intent: IntentKind, has_parent: bool) -> OrderRole:
    """The role of an order found at the broker (after a restart)."""
    if spec.order_type is OrderType.STOP:
        return OrderRole.STOP
    if has_parent or (spec.oca_group and intent is IntentKind.CLOSE):
        return OrderRole.TAKE_PROFIT
    if intent is IntentKind.REDUCE:
        return OrderRole.REPAIR
    return OrderRole.WALKED


def ticket_key(ref: str, role: OrderRole) -> str:
    """Walked and repair orders are known by their ref; resting exits add their role."""
    if role in (OrderRole.TAKE_PROFIT, OrderRole.STOP):
        return f"{ref}/{role.value}"
    return ref


def _option(contract: object) -> OptionContract:
    if not isinstance(contract, OptionContract):
        raise InvalidOrderError(f"order leg {contract!r}: V6 orders hold option legs only")
    return contract


def outcome_of(state: OrderState, cancel_requested: bool) -> Outcome:
    """How an ended order went."""
    if state.status is OrderStatus.FILLED:
        return Outcome.FILLED
    if state.filled > 0:
        return Outcome.PARTIALLY_FILLED
    if state.status is OrderStatus.INACTIVE:
        return Outcome.REJECTED
    return Outcome.CANCELLED if cancel_requested else Outcome.NOT_FILLED


def strategy_of(ref: str) -> str | None:
    """The strategy id of a V6 order ref, None for any other text."""
    try:
        return parse_order_ref(ref)[0]
    except InvalidOrderError:
        return None


def traded_units(
    legs: Sequence[OrderLeg], executions: Sequence[ExecutionEvent]
) -> tuple[int, float | None]:
    """Units of an order's ``legs`` its executions add up to (by the first leg) and their
    net price per unit (combo convention; None without a unit)."""
    first = legs[0]
    traded = sum(e.quantity for e in executions if e.contract == first.contract)
    units = traded // first.ratio
    if units <= 0:
        return 0, None
    cash = sum(e.quantity * e.price for e in executions)
    return units, cash / units


def max_close_cost(legs: Sequence[Leg]) -> float:
    """The most closing one unit of ``legs`` can cost per share at expiry (inf if unbounded,
    or when the legs have no single expiry)."""
    try:
        return payoff_profile(legs, 0.0).max_loss / legs[0].contract.multiplier
    except PayoffUndefinedError:
        return math.inf
