"""Reading the broker's executions after a restart (v6.execution.recovery): the fills with
their commissions, the final rows of ended orders the store lacks, entry fills and the units
closing orders closed that the store never applied."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from v6.brokers import ExecutionEvent, OrderLeg, OrderSpec, OrderState, OrderStatus
from v6.domain import IntentKind, Leg, OptionContract, Right, Strategy, StrategyKind
from v6.execution.recovery import COMPLETED, RECOVERED, UNKNOWN_TERMS, Recovery
from v6.store import OrderRecord as StoredOrder
from v6.store import OrderStatus as StoredStatus

NOW = datetime(2024, 1, 2, 15, tzinfo=UTC)
SHORT = OptionContract("SPY", date(2024, 2, 16), 485, Right.PUT)
LONG = OptionContract("SPY", date(2024, 2, 16), 480, Right.PUT)
SPREAD = Strategy("ps1", StrategyKind.VERTICAL, (Leg(LONG, 1), Leg(SHORT, -1)), 3)


def spread_fill(
    order_id: int, ref: str, units: int, short: float, long: float, *, first: int = 1
) -> list[ExecutionEvent]:
    """A put spread's two executions: sell ``units`` of the short at ``short``, buy the
    long at ``long`` (negative units: the close), commission 0.65 a contract."""
    at = NOW - timedelta(minutes=5)
    return [
        ExecutionEvent(
            at,
            f"e{first}",
            order_id,
            SHORT,
            -units,
            short,
            order_ref=ref,
            commission=0.65 * abs(units),
        ),
        ExecutionEvent(
            at,
            f"e{first + 1}",
            order_id,
            LONG,
            units,
            long,
            order_ref=ref,
            commission=0.65 * abs(units),
        ),
    ]


def stored(order_id: int, ref: str, quantity: int, status: StoredStatus) -> StoredOrder:
    strategy_id, intent, attempt = ref.split(":")
    side = 1 if intent == IntentKind.OPEN.value else -1
    return StoredOrder(
        order_id=str(order_id),
        strategy_id=strategy_id,
        intent=IntentKind(intent),
        attempt=int(attempt),
        legs=(Leg(LONG, side), Leg(SHORT, -side)),
        quantity=quantity,
        limit_price=-1.40,
        status=status,
        submitted_at=NOW - timedelta(minutes=10),
        updated_at=NOW - timedelta(minutes=10),
        message="walked",
    )


def test_every_execution_of_a_v6_order_with_a_commission_becomes_a_fill() -> None:
    executions = spread_fill(7, "ps1:open:1", 3, 2.10, 0.60)
    foreign = ExecutionEvent(NOW, "x1", 99, SHORT, 1, 2.0, order_ref="manual", commission=0.65)
    expired = ExecutionEvent(NOW, "x2", None, LONG, -3, 0.0, commission=0.0)
    unreported = replace(executions[1], exec_id="e9", commission=None)
    recovery = Recovery.of([*executions, foreign, expired, unreported], [], {}.get)
    assert [(f.exec_id, f.order_id, f.commission) for f in recovery.fills] == [
        ("e1", "7", pytest.approx(1.95)),
        ("e2", "7", pytest.approx(1.95)),
    ]


def test_an_order_the_store_never_heard_of_gets_a_row_from_its_executions() -> None:
    recovery = Recovery.of(spread_fill(7, "ps1:open:1", 3, 2.10, 0.60), [], {}.get)
    (row,) = recovery.order_rows(NOW)
    assert (row.order_id, row.strategy_id, row.intent, row.attempt) == (
        "7",
        "ps1",
        IntentKind.OPEN,
        1,
    )
    assert set(row.legs) == {Leg(SHORT, -1), Leg(LONG, 1)}
    assert (row.status, row.quantity, row.filled_quantity) == (StoredStatus.FILLED, 3, 3)
    assert row.avg_fill_price == pytest.approx(-1.50)
    assert math.isnan(row.limit_price), "the limit is not known from executions"
    assert row.message == f"{RECOVERED}: {UNKNOWN_TERMS}"
    assert row.submitted_at == NOW - timedelta(minutes=5)


def test_a_stored_working_order_ends_with_the_fill_its_executions_give() -> None:
    rows = {
        "7": stored(7, "ps1:open:1", 3, StoredStatus.SUBMITTED),
        "8": stored(8, "ps1:close:1", 3, StoredStatus.SUBMITTED),
    }
    executions = [
        *spread_fill(7, "ps1:open:1", 3, 2.10, 0.60),
        *spread_fill(8, "ps1:close:1", -2, 1.00, 0.20, first=3),
    ]
    filled, partly = Recovery.of(executions, [], rows.get).order_rows(NOW)
    assert (filled.status, filled.filled_quantity, filled.limit_price) == (
        StoredStatus.FILLED,
        3,
        -1.40,
    )
    assert filled.message == f"walked; {RECOVERED}"
    assert filled.updated_at == NOW
    assert (partly.status, partly.filled_quantity) == (StoredStatus.CANCELLED, 2)
    assert partly.avg_fill_price == pytest.approx(0.80)


def test_orders_still_working_or_ended_in_the_store_get_no_row() -> None:
    rows = {"7": stored(7, "ps1:open:1", 3, StoredStatus.FILLED)}
    executions = [
        *spread_fill(7, "ps1:open:1", 3, 2.10, 0.60),
        *spread_fill(8, "ps1:close:1", -1, 1.00, 0.20, first=3),
    ]
    assert Recovery.of(executions, [8], rows.get).order_rows(NOW) == []


def ended(order_id: int, status: OrderStatus, message: str = "") -> OrderState:
    spec = OrderSpec((OrderLeg(LONG, 1), OrderLeg(SHORT, -1)), 3, limit_price=-1.40)
    return OrderState(order_id, spec, status, message=message)


def test_stored_working_orders_that_ended_unheard_end_as_the_completed_orders_say() -> None:
    rows = [
        stored(7, "ps1:open:1", 3, StoredStatus.SUBMITTED),
        stored(8, "ps1:open:2", 3, StoredStatus.SUBMITTED),
        stored(9, "ps1:open:3", 3, StoredStatus.SUBMITTED),
        stored(10, "ps1:open:4", 3, StoredStatus.SUBMITTED),
    ]
    completed = [
        ended(7, OrderStatus.CANCELLED, "cancelled at 202"),
        ended(8, OrderStatus.INACTIVE, "201: margin"),
        ended(9, OrderStatus.API_CANCELLED),
    ]
    traded = spread_fill(9, "ps1:open:3", 1, 2.10, 0.60)
    cancelled, rejected = Recovery.of(traded, [], {}.get).unheard_ends(rows, completed, NOW)
    assert (cancelled.order_id, cancelled.status, cancelled.filled_quantity) == (
        "7",
        StoredStatus.CANCELLED,
        0,
    )
    assert cancelled.message == f"walked; {COMPLETED}; cancelled at 202"
    assert cancelled.updated_at == NOW
    assert (rejected.order_id, rejected.status) == ("8", StoredStatus.REJECTED)


def test_entry_fill_adds_up_every_entry_order_of_the_strategy() -> None:
    executions = [
        *spread_fill(7, "ps1:open:1", 1, 2.10, 0.60),
        *spread_fill(8, "ps1:open:2", 2, 2.00, 0.60, first=3),
        *spread_fill(9, "ps2:open:1", 5, 3.00, 1.00, first=5),
    ]
    units, price = Recovery.of(executions, [], {}.get).entry_fill(SPREAD)
    assert units == 3
    assert price == pytest.approx(-(1.50 + 2 * 1.40) / 3)
    assert Recovery.of([], [], {}.get).entry_fill(SPREAD) == (0, None)


def test_closed_units_count_only_ended_closes_the_store_did_not_record() -> None:
    rows = {
        "8": stored(8, "ps1:close:1", 1, StoredStatus.FILLED),
        "9": stored(9, "ps1:close:2", 2, StoredStatus.SUBMITTED),
    }
    executions = [
        *spread_fill(8, "ps1:close:1", -1, 1.00, 0.20),
        *spread_fill(9, "ps1:close:2", -1, 1.00, 0.20, first=3),
        *spread_fill(10, "ps1:close:3", -1, 1.00, 0.20, first=5),
        *spread_fill(11, "ps1:close:4", -1, 1.00, 0.20, first=7),
        *spread_fill(12, "ps1:open:2", 1, 2.00, 0.60, first=9),
    ]
    recovery = Recovery.of(executions, [11], rows.get)
    assert recovery.closed_units("ps1") == 2, "orders 9 (stored working) and 10 (not stored)"
    assert recovery.closed_units("ps2") == 0
