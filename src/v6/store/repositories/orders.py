"""Orders with their latest status (``orders``) and broker executions (``executions``)."""

from __future__ import annotations

from collections.abc import Iterable

from v6.domain import Fill, IntentKind, Leg, OptionContract
from v6.store.catalog import EXECUTIONS, ORDERS
from v6.store.records import OrderRecord, OrderStatus
from v6.store.repositories._base import Repository, Row, contract_columns, contract_from_row

_LEG_SEPARATOR = ";"
_WORKING = [status.value for status in OrderStatus if not status.is_terminal]


class OrderRepository(Repository):
    """Orders keyed by ``order_id``; saving an order again records its new status."""

    def save(self, orders: Iterable[OrderRecord]) -> None:
        self._write(ORDERS, (_order_row(order) for order in orders))

    def get(self, order_id: str) -> OrderRecord | None:
        rows = self._rows(ORDERS, [("order_id", "=", order_id)])
        return _order(rows[0]) if rows else None

    def for_strategy(self, strategy_id: str) -> list[OrderRecord]:
        """The strategy's orders, oldest first."""
        rows = self._rows(ORDERS, [("strategy_id", "=", strategy_id)])
        return sorted((_order(row) for row in rows), key=lambda o: (o.submitted_at, o.order_id))

    def working(self) -> list[OrderRecord]:
        """Orders not yet filled, cancelled or rejected, oldest first."""
        rows = self._rows(ORDERS, [("status", "in", _WORKING)])
        return sorted((_order(row) for row in rows), key=lambda o: (o.submitted_at, o.order_id))


class ExecutionRepository(Repository):
    """Fills, one row per ``exec_id``; recording a fill twice keeps one row."""

    def record(self, fills: Iterable[Fill]) -> None:
        self._write(EXECUTIONS, (_fill_row(fill) for fill in fills))

    def for_order(self, order_id: str) -> list[Fill]:
        """The order's fills in time order."""
        rows = self._rows(EXECUTIONS, [("order_id", "=", order_id)])
        return sorted((_fill(row) for row in rows), key=lambda f: (f.time, f.exec_id))


def legs_text(legs: Iterable[Leg]) -> str:
    """Legs as ``+1 SPY   240119P00450000;-1 …``: signed ratio and OCC symbol."""
    return _LEG_SEPARATOR.join(f"{leg.quantity:+d} {leg.contract.occ_symbol}" for leg in legs)


def legs_from_text(text: str) -> tuple[Leg, ...]:
    legs = []
    for part in text.split(_LEG_SEPARATOR):
        quantity, symbol = part.split(" ", 1)
        legs.append(Leg(OptionContract.from_occ(symbol), int(quantity)))
    return tuple(legs)


def _order_row(order: OrderRecord) -> Row:
    return {
        "order_id": order.order_id,
        "strategy_id": order.strategy_id,
        "intent": order.intent.value,
        "order_ref": order.order_ref,
        "legs": legs_text(order.legs),
        "quantity": order.quantity,
        "limit_price": order.limit_price,
        "status": order.status.value,
        "filled_quantity": order.filled_quantity,
        "avg_fill_price": order.avg_fill_price,
        "broker_order_id": order.broker_order_id,
        "message": order.message,
        "submitted_at": order.submitted_at,
        "updated_at": order.updated_at,
    }


def _order(row: Row) -> OrderRecord:
    _, _, attempt = row["order_ref"].rpartition(":")
    return OrderRecord(
        order_id=row["order_id"],
        strategy_id=row["strategy_id"],
        intent=IntentKind(row["intent"]),
        attempt=int(attempt),
        legs=legs_from_text(row["legs"]),
        quantity=row["quantity"],
        limit_price=row["limit_price"],
        status=OrderStatus(row["status"]),
        submitted_at=row["submitted_at"],
        updated_at=row["updated_at"],
        filled_quantity=row["filled_quantity"],
        avg_fill_price=row["avg_fill_price"],
        broker_order_id=row["broker_order_id"],
        message=row["message"],
    )


def _fill_row(fill: Fill) -> Row:
    return {
        "exec_id": fill.exec_id,
        "order_id": fill.order_id,
        **contract_columns(fill.contract),
        "quantity": fill.quantity,
        "price": fill.price,
        "commission": fill.commission,
        "time": fill.time,
    }


def _fill(row: Row) -> Fill:
    return Fill(
        exec_id=row["exec_id"],
        order_id=row["order_id"],
        contract=contract_from_row(row),
        quantity=row["quantity"],
        price=row["price"],
        commission=row["commission"],
        time=row["time"],
    )
