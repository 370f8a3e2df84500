"""The simulated exchange's orders: their state, OCA groups and bracket links.

An order is *eligible* at a step when it is Submitted or PendingCancel (a cancel on its way
does not stop a fill). PreSubmitted orders are held: bracket children until their parent has
filled, and orders placed while the market is closed until the next step.

OCA groups react when a member fills (IB's ``ocaType``):
1. cancel every other working member at once;
2. reduce every other member's quantity by the units filled, at once;
3. the same reduction, but only after the whole step has been matched - two members can
   fill in the same step (the overfill IB's "no block" allows).
Bracket children form an OCA group of type 2 among themselves, so a partial take-profit
shrinks the stop instead of cancelling it. When the parent ends, its held children are
released with the parent's filled quantity, or cancelled if nothing filled.

A cancel is a *request*: the exchange applies it after the next step's matching (or at the
end of the next clock advance when no step comes first), so a fill can win the race, as at
IB. A modification applies at once: the next step matches the order on its new terms.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from v6.brokers.types import OcaType, OrderSpec, OrderState, OrderStatus

_ELIGIBLE = frozenset({OrderStatus.SUBMITTED, OrderStatus.PENDING_CANCEL})


@dataclass(frozen=True, slots=True)
class OrderChange:
    """A requested modification: the fields to change (None keeps the current value)."""

    quantity: int | None = None
    limit_price: float | None = None
    stop_price: float | None = None


@dataclass(slots=True)
class SimOrder:
    """One order at the simulated exchange (mutable; owned by the ``OrderBook``)."""

    order_id: int
    spec: OrderSpec
    status: OrderStatus
    parent_id: int | None = None
    filled: int = 0
    fill_value: float = 0.0
    commission: float = 0.0
    contracts_traded: int = 0
    shares_traded: int = 0
    stock_value_traded: float = 0.0
    triggered: bool = False
    cancel_requested: bool = False
    message: str = ""

    @property
    def remaining(self) -> int:
        return self.spec.quantity - self.filled

    @property
    def is_done(self) -> bool:
        return self.status.is_done

    @property
    def is_eligible(self) -> bool:
        return self.status in _ELIGIBLE

    @property
    def avg_fill_price(self) -> float:
        return self.fill_value / self.filled if self.filled else 0.0

    def state(self) -> OrderState:
        return OrderState(
            order_id=self.order_id,
            spec=self.spec,
            status=self.status,
            filled=self.filled,
            avg_fill_price=self.avg_fill_price,
            parent_id=self.parent_id,
            message=self.message,
        )

    def end(self, status: OrderStatus, message: str) -> None:
        self.status = status
        self.message = message
        self.cancel_requested = False


@dataclass(slots=True)
class OrderBook:
    """Every order of the run by id, with the OCA and bracket reactions."""

    orders: dict[int, SimOrder] = field(default_factory=dict)
    deferred_reductions: list[tuple[int, int]] = field(default_factory=list)

    def add(self, order: SimOrder) -> None:
        self.orders[order.order_id] = order

    def get(self, order_id: int) -> SimOrder | None:
        return self.orders.get(order_id)

    def working(self) -> list[SimOrder]:
        """Orders that are not done, by id (the matching order: deterministic)."""
        return [order for _, order in sorted(self.orders.items()) if not order.is_done]

    def completed(self) -> list[SimOrder]:
        """Orders that are done, by id."""
        return [order for _, order in sorted(self.orders.items()) if order.is_done]

    def eligible(self) -> list[SimOrder]:
        return [order for order in self.working() if order.is_eligible]

    def children(self, parent_id: int) -> Iterator[SimOrder]:
        return (o for o in self.working() if o.parent_id == parent_id)

    def forget_done(self) -> None:
        """Drop finished orders (at the end of a session, as IB's order list does)."""
        self.orders = {i: o for i, o in self.orders.items() if not o.is_done}

    def after_fill(self, order: SimOrder, units: int) -> list[SimOrder]:
        """React to ``units`` of ``order`` filling; returns every other order it changed."""
        changed: list[SimOrder] = []
        if order.spec.oca_group:
            changed += self._oca_after_fill(order, units)
        if order.status is OrderStatus.FILLED:
            changed += self.release_children(order)
        return changed

    def _oca_after_fill(self, order: SimOrder, units: int) -> list[SimOrder]:
        others = self._oca_others(order)
        if order.spec.oca_type is OcaType.CANCEL_WITH_BLOCK:
            for other in others:
                other.end(OrderStatus.CANCELLED, f"OCA group {order.spec.oca_group!r} filled")
            return others
        if order.spec.oca_type is OcaType.REDUCE_NON_BLOCK:
            self.deferred_reductions.append((order.order_id, units))
            return []
        for other in others:
            _reduce(other, units, order.spec.oca_group)
        return others

    def apply_deferred_reductions(self) -> list[SimOrder]:
        """Apply the type-3 OCA reductions of the step just matched."""
        changed: list[SimOrder] = []
        for order_id, units in self.deferred_reductions:
            order = self.orders[order_id]
            others = self._oca_others(order)
            for other in others:
                _reduce(other, units, order.spec.oca_group)
            changed += others
        self.deferred_reductions.clear()
        return changed

    def _oca_others(self, order: SimOrder) -> list[SimOrder]:
        group = order.spec.oca_group
        return [
            other
            for other in self.working()
            if other.spec.oca_group == group and other.order_id != order.order_id
        ]

    def release_children(self, parent: SimOrder) -> list[SimOrder]:
        """The parent is done: release held children for its filled units, or cancel them."""
        changed = []
        for child in self.children(parent.order_id):
            if parent.filled == 0:
                child.end(OrderStatus.CANCELLED, f"parent order {parent.order_id} ended unfilled")
            else:
                child.spec = child.spec.changed(quantity=parent.filled)
                child.status = OrderStatus.SUBMITTED
            changed.append(child)
        return changed


def _reduce(order: SimOrder, units: int, group: str) -> None:
    """Shrink ``order`` by ``units``; cancel it when nothing remains to fill."""
    quantity = order.spec.quantity - units
    if quantity <= order.filled:
        order.end(OrderStatus.CANCELLED, f"OCA group {group!r}: nothing left after a fill")
    else:
        order.spec = order.spec.changed(quantity=quantity)
