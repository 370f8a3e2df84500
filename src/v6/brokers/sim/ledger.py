"""Booking executions on the simulated account and reporting them as IB does.

Every booking emits, in order: an ``ExecutionEvent``, its ``CommissionEvent`` (with the
realized P&L, net of this execution's commission, when it closed something; 0 otherwise) and
a ``PositionEvent`` with the contract's new position. A combo fill books one execution per
leg, at leg prices whose ratio-weighted sum is the order's net price (``matching.leg_prices``),
and its commission is split over the legs by contracts (shares for a stock leg). The
session's executions (``ExchangeState.executions``) keep each commission, for
``Broker.executions()`` to re-deliver with them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import datetime

from v6.brokers.events import BrokerEvent, CommissionEvent, ExecutionEvent, PositionEvent
from v6.brokers.sim.fees import commission_due, order_commission
from v6.brokers.sim.matching import leg_prices
from v6.brokers.sim.orders import SimOrder
from v6.brokers.sim.state import ExchangeState
from v6.brokers.types import ExecutionKind, OrderStatus, Quote
from v6.domain import Contract, OptionContract

Emit = Callable[[BrokerEvent], None]


def split_commission(total: float, weights: Sequence[int]) -> list[float]:
    """``total`` split in proportion to ``weights``; the last part takes the rounding rest."""
    whole = sum(weights)
    parts = [round(total * weight / whole, 8) for weight in weights[:-1]]
    return [*parts, round(total - sum(parts), 8)]


class Ledger:
    def __init__(self, state: ExchangeState, emit: Emit) -> None:
        self._state = state
        self._emit = emit

    def book(
        self,
        time: datetime,
        contract: Contract,
        quantity: int,
        price: float,
        *,
        commission: float = 0.0,
        kind: ExecutionKind = ExecutionKind.TRADE,
        order_id: int | None = None,
        order_ref: str = "",
    ) -> None:
        """Book one execution and report it."""
        account = self._state.account
        result = account.trade(contract, quantity, price, commission)
        execution = ExecutionEvent(
            time=time,
            exec_id=self._state.take_exec_id(),
            order_id=order_id,
            contract=contract,
            quantity=quantity,
            price=price,
            kind=kind,
            order_ref=order_ref,
        )
        self._state.executions.append(dataclasses.replace(execution, commission=commission))
        realized = result.realized_gross - commission if result.closed else 0.0
        self._emit(execution)
        self._emit(CommissionEvent(time, execution.exec_id, commission, realized))
        self._emit(PositionEvent(time, account.position(contract)))

    def fill(
        self, time: datetime, order: SimOrder, units: int, net_price: float, quotes: Sequence[Quote]
    ) -> None:
        """Fill ``units`` of ``order`` at ``net_price``: book every leg, update the order."""
        legs = order.spec.legs
        prices = leg_prices(legs, quotes, net_price)
        for leg, price in zip(legs, prices, strict=True):
            size = abs(leg.ratio) * units
            if isinstance(leg.contract, OptionContract):
                order.contracts_traded += size
            else:
                order.shares_traded += size
                order.stock_value_traded += size * price
        total = order_commission(
            order.contracts_traded, order.shares_traded, order.stock_value_traded
        )
        due = commission_due(total, order.commission)
        order.commission += due
        order.filled += units
        order.fill_value += units * net_price
        if order.remaining == 0:
            order.status = OrderStatus.FILLED
        commissions = split_commission(due, [abs(leg.ratio) for leg in legs])
        for leg, price, commission in zip(legs, prices, commissions, strict=True):
            self.book(
                time,
                leg.contract,
                leg.ratio * units,
                price,
                commission=commission,
                order_id=order.order_id,
                order_ref=order.spec.order_ref,
            )
