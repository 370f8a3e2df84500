"""Crash recovery from the broker's executions: what V6's orders did while the store did not
hear of it (the process died between a fill and the next flush of the tables).

After a restart the broker re-delivers the session's executions with their commissions
(``Broker.executions()``, IB's ``reqExecutions``). ``Recovery.of`` reads those with a V6 order
ref, together with the orders still working at the broker and the store's rows of the orders
behind them, and gives:

* ``fills`` - every such execution whose commission is known, as the ``executions`` table's
  rows (recording a fill twice keeps one row);
* ``order_rows(now)`` - the final ``orders`` row of each order that traded and has
  ended, unless the store holds its end already: the stored row with the status and fill the
  executions give, or - when the store never heard of the order - a row built from the
  executions alone. Legs, units filled and the net price are exact; the order's limit and any
  units it did not fill are not known from executions (IB's completed orders,
  ``reqCompletedOrders``, would tell them; the port does not offer them): such a row has
  quantity = units filled, limit NaN, and its message says so;
* ``entry_fill(strategy)`` - units and net price per unit (combo convention) of the strategy's
  entry orders, for a PENDING entry a crash left unattended;
* ``closed_units(strategy_id)`` - units the strategy's closing orders (walked closes,
  take-profits, stops) filled whose end the store has not recorded: its stored quantity is
  stale by that much (``v6.execution.restart`` applies them before resting any exits).

* ``unheard_ends(stored, completed, now)`` - the final row of each order the store holds as
  working that ended *without* an execution while V6 was down (its walk's cancel, the end of
  the day, a reject), from the broker's completed orders (``Broker.completed_orders()``, IB's
  ``reqCompletedOrders``). An order that ended before the last session close is no longer
  among them: its row keeps the last status the store heard.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from v6.brokers.events import ExecutionEvent
from v6.brokers.types import OrderLeg, OrderState
from v6.domain import Fill, IntentKind, Leg, OptionContract, Strategy, parse_order_ref
from v6.execution.records import record_status
from v6.execution.tickets import strategy_of, traded_units
from v6.store import OrderRecord as StoredOrder
from v6.store import OrderStatus as StoredStatus

RECOVERED = "recovered after a restart from the broker's executions"
COMPLETED = "recovered after a restart from the broker's completed orders"
UNKNOWN_TERMS = "its limit and any units it did not fill are not known"

StoredLookup = Callable[[str], StoredOrder | None]
"""The store's row of an order id (``Store.orders.get``)."""


@dataclass(frozen=True, slots=True)
class TradedOrder:
    """A V6 order with executions at the broker, and whether it still works there."""

    order_id: int
    strategy_id: str
    intent: IntentKind
    attempt: int
    executions: tuple[ExecutionEvent, ...]
    working: bool

    def legs(self) -> tuple[Leg, ...]:
        """One unit's legs, from the contracts traded (their quantities over the units)."""
        traded = _net_quantities(self.executions)
        units = math.gcd(*traded.values()) or 1
        return tuple(Leg(contract, quantity // units) for contract, quantity in traded.items())

    def fill(self, legs: Sequence[Leg]) -> tuple[int, float | None]:
        """Units of ``legs`` filled and their net price per unit (combo convention)."""
        return traded_units(_order_legs(legs), self.executions)

    def final_row(self, stored: StoredOrder | None, now: datetime) -> StoredOrder | None:
        """The ended order's final row (see the module docstring); None while it works or
        when ``stored`` is final already."""
        if self.working or (stored is not None and stored.status.is_terminal):
            return None
        if stored is not None:
            units, price = self.fill(stored.legs)
            status = StoredStatus.FILLED if units >= stored.quantity else StoredStatus.CANCELLED
            return dataclasses.replace(
                stored,
                status=status,
                filled_quantity=units,
                avg_fill_price=price,
                updated_at=now,
                message="; ".join(filter(None, (stored.message, RECOVERED))),
            )
        legs = self.legs()
        units, price = self.fill(legs)
        return StoredOrder(
            order_id=str(self.order_id),
            strategy_id=self.strategy_id,
            intent=self.intent,
            attempt=self.attempt,
            legs=legs,
            quantity=units,
            limit_price=math.nan,
            status=StoredStatus.FILLED,
            submitted_at=min(e.time for e in self.executions),
            updated_at=now,
            filled_quantity=units,
            avg_fill_price=price,
            broker_order_id=str(self.order_id),
            message=f"{RECOVERED}: {UNKNOWN_TERMS}",
        )


@dataclass(frozen=True, slots=True)
class Recovery:
    """V6's executions at the broker after a restart (see the module docstring)."""

    orders: tuple[TradedOrder, ...]
    fills: tuple[Fill, ...]
    stored: Mapping[str, StoredOrder | None]
    """The store's row of each traded order, by order id (None: the store never heard)."""

    @classmethod
    def of(
        cls,
        executions: Iterable[ExecutionEvent],
        working_order_ids: Iterable[int],
        stored: StoredLookup,
    ) -> Recovery:
        """From the broker's executions, the ids of its orders still working and the store's
        order rows (looked up once per traded order)."""
        working = set(working_order_ids)
        by_order: dict[int, list[ExecutionEvent]] = defaultdict(list)
        fills = []
        for execution in executions:
            if execution.order_id is None or strategy_of(execution.order_ref) is None:
                continue
            by_order[execution.order_id].append(execution)
            if execution.commission is not None:
                fills.append(execution.to_fill(execution.commission))
        orders = []
        for order_id, traded in by_order.items():
            strategy_id, intent, attempt = parse_order_ref(traded[0].order_ref)
            orders.append(
                TradedOrder(
                    order_id, strategy_id, intent, attempt, tuple(traded), order_id in working
                )
            )
        rows = {str(order.order_id): stored(str(order.order_id)) for order in orders}
        return cls(tuple(orders), tuple(fills), MappingProxyType(rows))

    def order_rows(self, now: datetime) -> list[StoredOrder]:
        """The final rows the store lacks for the orders that traded and ended."""
        rows = (order.final_row(self.stored[str(order.order_id)], now) for order in self.orders)
        return [row for row in rows if row is not None]

    def unheard_ends(
        self, stored: Iterable[StoredOrder], completed: Iterable[OrderState], now: datetime
    ) -> list[StoredOrder]:
        """The final rows of the ``stored`` orders (the store's working ones) that ended at
        the broker without an execution, from its ``completed`` orders (an order that traded
        gets its row from ``order_rows``)."""
        ended = {str(order.order_id): order for order in completed}
        traded = {str(order.order_id) for order in self.orders}
        rows = []
        for row in stored:
            final = ended.get(row.broker_order_id or row.order_id)
            if final is None or row.order_id in traded:
                continue
            rows.append(
                dataclasses.replace(
                    row,
                    status=StoredStatus(record_status(final).value),
                    filled_quantity=final.filled,
                    avg_fill_price=final.avg_fill_price if final.filled else row.avg_fill_price,
                    updated_at=now,
                    message="; ".join(filter(None, (row.message, COMPLETED, final.message))),
                )
            )
        return rows

    def entry_fill(self, strategy: Strategy) -> tuple[int, float | None]:
        """Units of ``strategy`` its entry orders filled and their net price per unit."""
        executions = [
            execution
            for order in self.orders
            if order.strategy_id == strategy.strategy_id and order.intent is IntentKind.OPEN
            for execution in order.executions
        ]
        return traded_units(_order_legs(strategy.legs), executions)

    def closed_units(self, strategy_id: str) -> int:
        """Units of ``strategy_id`` its ended closing orders filled whose end the store has
        not recorded."""
        units = 0
        for order in self.orders:
            if (
                order.working
                or order.strategy_id != strategy_id
                or order.intent is not IntentKind.CLOSE
            ):
                continue
            row = self.stored[str(order.order_id)]
            if row is None or not row.status.is_terminal:
                units += order.fill(row.legs if row is not None else order.legs())[0]
        return units


def _net_quantities(executions: Iterable[ExecutionEvent]) -> dict[OptionContract, int]:
    traded: dict[OptionContract, int] = defaultdict(int)
    for execution in executions:
        if isinstance(execution.contract, OptionContract):
            traded[execution.contract] += execution.quantity
    return {contract: quantity for contract, quantity in traded.items() if quantity}


def _order_legs(legs: Sequence[Leg]) -> tuple[OrderLeg, ...]:
    return tuple(OrderLeg(leg.contract, leg.quantity) for leg in legs)
