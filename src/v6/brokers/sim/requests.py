"""The simulated exchange's order desk: placing, cancelling, modifying, what-if.

Checks on a new order, in IB's order and with IB's codes:

* every leg listed, else 200 "No security definition has been found";
* every price on the 0.01 grid, else 110 (the order ends Inactive, as a new order at IB);
* an injected rejection (fault), else 201 with the reason;
* buying power: an order that would leave available funds (equity with loan value less
  initial margin) below zero, and lower than before, is rejected 201 with IB's wording.
  Orders that reduce risk always pass, and bracket children are not checked (they close).

A rejected order is reported as ``ErrorEvent`` then ``OrderStatusEvent`` Inactive, not raised.
Orders placed while the market is closed wait PreSubmitted for the open; bracket children
wait PreSubmitted for their parent.

A cancel of a working order is recorded and applied by ``apply_requests`` after the next
step's matching (see ``orders``); a held order is cancelled at once. Modifications apply at
once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from v6.brokers.errors import InvalidPriceError, OrderNotModifiableError, UnknownOrderError
from v6.brokers.events import ErrorEvent
from v6.brokers.sim.fees import order_commission
from v6.brokers.sim.matching import combo_market
from v6.brokers.sim.orders import OrderChange, SimOrder
from v6.brokers.sim.products import is_on_tick
from v6.brokers.types import OcaType, OrderSpec, OrderStatus, OrderType, WhatIf
from v6.domain import InvalidOrderError, OptionContract

if TYPE_CHECKING:
    from v6.brokers.sim.exchange import SimExchange

FAULT_REJECTION = "Order rejected - reason: simulated rejection (fault injection)"


def _off_tick_message(price: float) -> str:
    return (
        "The price does not conform to the minimum price variation for this contract: "
        f"{price!r} is not a multiple of 0.01"
    )


class RequestDesk:
    """Order requests against one ``SimExchange``."""

    def __init__(self, exchange: SimExchange) -> None:
        self._exchange = exchange
        self._cancels_waiting = any(
            o.cancel_requested for o in exchange.state.orders.orders.values()
        )
        """Whether an order may be waiting for its cancel (set by ``cancel``, cleared when
        the cancels are applied): the clock asks to apply them at every advance, and rarely
        is there one."""

    def place(
        self,
        spec: OrderSpec,
        *,
        parent_id: int | None = None,
        check_margin: bool = True,
    ) -> SimOrder:
        exchange = self._exchange
        state = exchange.state
        order = SimOrder(state.take_order_id(), spec, OrderStatus.PENDING_SUBMIT, parent_id)
        state.orders.add(order)
        rejection = self._rejection(spec, check_margin=check_margin)
        if rejection is not None:
            code, message = rejection
            exchange.emit(ErrorEvent(exchange.now, code, message, order.order_id))
            exchange.end_order(order, OrderStatus.INACTIVE, message)
            return order
        held = parent_id is not None or exchange.is_closed()
        order.status = OrderStatus.PRE_SUBMITTED if held else OrderStatus.SUBMITTED
        exchange.report(order)
        return order

    def place_bracket(
        self, parent: OrderSpec, take_profit_price: float, stop_loss_price: float
    ) -> tuple[SimOrder, SimOrder, SimOrder]:
        first = self.place(parent)
        group = f"bracket-{first.order_id}"
        children = []
        for order_type, price in (
            (OrderType.LIMIT, take_profit_price),
            (OrderType.STOP, stop_loss_price),
        ):
            spec = parent.closing(
                order_type, price, oca_group=group, oca_type=OcaType.REDUCE_WITH_BLOCK
            )
            child = self.place(spec, parent_id=first.order_id, check_margin=False)
            if first.is_done and not child.is_done:
                self._exchange.end_order(
                    child, OrderStatus.CANCELLED, f"parent order {first.order_id} was rejected"
                )
            children.append(child)
        return first, children[0], children[1]

    def _rejection(self, spec: OrderSpec, *, check_margin: bool) -> tuple[int, str] | None:
        exchange = self._exchange
        for leg in spec.legs:
            if not exchange.is_listed(leg.contract):
                return 200, f"No security definition has been found for the request: {leg.contract}"
        for price in (spec.limit_price, spec.stop_price):
            if price is not None and not is_on_tick(price):
                return 110, _off_tick_message(price)
        if exchange.faults.rejects_order():
            return 201, FAULT_REJECTION
        if check_margin:
            return self._margin_rejection(self.what_if(spec))
        return None

    @staticmethod
    def _margin_rejection(what_if: WhatIf) -> tuple[int, str] | None:
        before = what_if.equity_with_loan_before - what_if.initial_margin_before
        after = what_if.equity_with_loan_after - what_if.initial_margin_after
        if after >= 0 or after >= before:
            return None
        return 201, (
            "Order rejected - reason: YOUR ORDER IS NOT ACCEPTED. IN ORDER TO OBTAIN THE "
            f"DESIRED POSITION YOUR EQUITY WITH LOAN VALUE [{what_if.equity_with_loan_after:.2f}"
            f" USD] MUST EXCEED THE INITIAL MARGIN [{what_if.initial_margin_after:.2f} USD]"
        )

    def what_if(self, spec: OrderSpec) -> WhatIf:
        """Margin and commission if ``spec`` filled completely now: at its limit price, or at
        the natural price for a stop (legs marked at their mids, the difference in cash)."""
        exchange = self._exchange
        prices = exchange.prices
        account = exchange.state.account
        before = account.values(exchange.now, prices.spots, prices.mark)
        contracts = [leg.contract for leg in spec.legs]
        market = combo_market(spec.legs, prices.quotes(contracts))
        net = spec.trigger_price
        if spec.order_type is OrderType.STOP and market is not None:
            net = market.natural
        hypothetical = account.copy()
        mid_net = 0.0
        for leg in spec.legs:
            mark = prices.mark(leg.contract)
            hypothetical.trade(leg.contract, leg.ratio * spec.quantity, mark, 0.0)
            mid_net += leg.ratio * mark
        option_contracts = stock_shares = 0
        for leg in spec.legs:
            size = abs(leg.ratio) * spec.quantity
            if isinstance(leg.contract, OptionContract):
                option_contracts += size
            else:
                stock_shares += size
        stock_value = stock_shares * prices.mark(spec.legs[0].contract) if stock_shares else 0.0
        commission = order_commission(option_contracts, stock_shares, stock_value)
        hypothetical.cash -= (net - mid_net) * spec.quantity * spec.multiplier + commission
        after = hypothetical.values(exchange.now, prices.spots, prices.mark)
        return WhatIf(
            initial_margin_before=before.initial_margin,
            initial_margin_after=after.initial_margin,
            maintenance_margin_before=before.maintenance_margin,
            maintenance_margin_after=after.maintenance_margin,
            equity_with_loan_before=before.equity_with_loan,
            equity_with_loan_after=after.equity_with_loan,
            commission=commission,
            warning="" if market is not None else "no valid quote for every leg",
        )

    def _find(self, order_id: int, code: int) -> SimOrder:
        exchange = self._exchange
        order = exchange.state.orders.get(order_id)
        if order is None:
            message = f"OrderId {order_id} that needs to be changed is not found."
            exchange.emit(ErrorEvent(exchange.now, code, message, order_id))
            raise UnknownOrderError(message, code=code, req_id=order_id)
        return order

    def cancel(self, order_id: int) -> SimOrder:
        exchange = self._exchange
        order = self._find(order_id, 10147)
        if order.is_done:
            message = f"Cancel attempted when order is not in a cancellable state: {order.status}"
            exchange.emit(ErrorEvent(exchange.now, 161, message, order_id))
        elif order.status is OrderStatus.PRE_SUBMITTED:
            self._cancel_now(order)
        elif not order.cancel_requested:
            order.cancel_requested = self._cancels_waiting = True
            order.status = OrderStatus.PENDING_CANCEL
            exchange.report(order)
        return order

    def _cancel_now(self, order: SimOrder) -> None:
        exchange = self._exchange
        exchange.emit(ErrorEvent(exchange.now, 202, "Order Canceled - reason:", order.order_id))
        exchange.end_order(order, OrderStatus.CANCELLED, "cancelled on request")

    def change(self, order_id: int, change: OrderChange) -> SimOrder:
        exchange = self._exchange
        order = self._find(order_id, 135)
        if order.is_done:
            message = f"Cannot modify a filled or cancelled order: {order.status}"
            exchange.emit(ErrorEvent(exchange.now, 104, message, order_id))
            raise OrderNotModifiableError(message, code=104, req_id=order_id)
        order.spec = self._changed_spec(order, change)
        exchange.report(order)
        return order

    @staticmethod
    def _changed_spec(order: SimOrder, change: OrderChange) -> OrderSpec:
        """The order as changed, or an error naming what cannot change."""
        is_limit = order.spec.order_type is OrderType.LIMIT
        wrong_price = change.stop_price if is_limit else change.limit_price
        if wrong_price is not None:
            raise InvalidOrderError(
                f"modify order {order.order_id}: a {order.spec.order_type.value} order has no "
                f"{'stop' if is_limit else 'limit'} price to change"
            )
        if change.quantity is not None and change.quantity <= order.filled:
            raise InvalidOrderError(
                f"modify order {order.order_id}: quantity {change.quantity} must exceed the "
                f"{order.filled} already filled"
            )
        for price in (change.limit_price, change.stop_price):
            if price is not None and not is_on_tick(price):
                raise InvalidPriceError(_off_tick_message(price), code=110, req_id=order.order_id)
        return order.spec.changed(change.quantity, change.limit_price, change.stop_price)

    def apply_requests(self) -> bool:
        """Apply the cancels waiting since before this step; True when there was one."""
        if not self._cancels_waiting:
            return False
        self._cancels_waiting = False
        exchange = self._exchange
        applied = False
        for order in exchange.state.orders.orders.values():
            if not order.cancel_requested:
                continue
            applied = True
            order.cancel_requested = False
            if order.is_done:
                message = (
                    f"OrderId {order.order_id} that needs to be cancelled cannot be "
                    f"cancelled, state: {order.status.value}."
                )
                exchange.emit(ErrorEvent(exchange.now, 10148, message, order.order_id))
            else:
                self._cancel_now(order)
        return applied
