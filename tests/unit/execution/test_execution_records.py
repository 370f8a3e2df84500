"""Order records in the store's vocabulary, reports, and the tracker's reading of IB codes."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from v6.brokers import (
    BrokerEvent,
    CommissionEvent,
    ErrorEvent,
    ExecutionEvent,
    OrderLeg,
    OrderSpec,
    OrderState,
    OrderStatus,
    OrderStatusEvent,
    OrderType,
)
from v6.clock import SimClock
from v6.domain import IntentKind, Leg, OptionContract, Right
from v6.execution.desk import TicketDesk
from v6.execution.records import (
    ExecutionReport,
    OrderRecord,
    OrderRole,
    Outcome,
    RecordStatus,
    record_status,
)
from v6.execution.tickets import (
    Phase,
    Ticket,
    max_close_cost,
    outcome_of,
    role_of,
    traded_units,
)
from v6.execution.tracker import OrderTracker

NOW = datetime(2024, 1, 2, 15, tzinfo=UTC)
SHORT = OptionContract("SPY", date(2024, 2, 16), 485, Right.PUT)
LONG = OptionContract("SPY", date(2024, 2, 16), 480, Right.PUT)
SPREAD = OrderSpec(
    (OrderLeg(LONG, 1), OrderLeg(SHORT, -1)), 2, limit_price=-1.5, order_ref="ps1:open:1"
)


def state(status: OrderStatus, filled: int = 0, spec: OrderSpec = SPREAD) -> OrderState:
    return OrderState(7, spec, status, filled, -1.52 if filled else 0.0)


@pytest.mark.parametrize(
    ("status", "filled", "expected"),
    [
        (OrderStatus.PENDING_SUBMIT, 0, RecordStatus.PENDING_SUBMIT),
        (OrderStatus.PRE_SUBMITTED, 0, RecordStatus.PENDING_SUBMIT),
        (OrderStatus.SUBMITTED, 0, RecordStatus.SUBMITTED),
        (OrderStatus.SUBMITTED, 1, RecordStatus.PARTIALLY_FILLED),
        (OrderStatus.PENDING_CANCEL, 1, RecordStatus.PARTIALLY_FILLED),
        (OrderStatus.FILLED, 2, RecordStatus.FILLED),
        (OrderStatus.CANCELLED, 1, RecordStatus.CANCELLED),
        (OrderStatus.API_CANCELLED, 0, RecordStatus.CANCELLED),
        (OrderStatus.INACTIVE, 0, RecordStatus.REJECTED),
    ],
)
def test_broker_states_map_to_the_stores_statuses(
    status: OrderStatus, filled: int, expected: RecordStatus
) -> None:
    assert record_status(state(status, filled)) is expected


def test_a_ticket_records_the_orders_table_columns() -> None:
    ticket = Ticket(
        "ps1:open:1", "ps1", IntentKind.OPEN, 1, OrderRole.WALKED, SPREAD, NOW, Phase.WORKING
    )
    record = ticket.record(state(OrderStatus.SUBMITTED, 1), NOW, ("[399 warning] held",))
    assert (record.order_id, record.broker_order_id, record.order_ref) == ("7", "7", "ps1:open:1")
    assert record.legs == (Leg(LONG, 1), Leg(SHORT, -1))
    assert (record.quantity, record.filled_quantity, record.avg_fill_price) == (2, 1, -1.52)
    assert record.status is RecordStatus.PARTIALLY_FILLED
    assert record.message == "[399 warning] held"
    later = ticket.record(
        state(OrderStatus.SUBMITTED, 1), NOW + timedelta(seconds=5), ("[399 warning] held",)
    )
    assert record.same_state(later)
    assert not record.same_state(replace(later, filled_quantity=2))
    dry = ticket.record(None, NOW, ())
    assert (dry.order_id, dry.dry_run, dry.status) == (
        "dry-run:ps1:open:1",
        True,
        RecordStatus.CANCELLED,
    )


def test_outcomes_come_from_the_final_status_and_fills() -> None:
    assert outcome_of(state(OrderStatus.FILLED, 2), False) is Outcome.FILLED
    assert outcome_of(state(OrderStatus.CANCELLED, 1), False) is Outcome.PARTIALLY_FILLED
    assert outcome_of(state(OrderStatus.INACTIVE), False) is Outcome.REJECTED
    assert outcome_of(state(OrderStatus.CANCELLED), True) is Outcome.CANCELLED
    assert outcome_of(state(OrderStatus.CANCELLED), False) is Outcome.NOT_FILLED


def test_roles_of_orders_found_at_the_broker() -> None:
    stop = SPREAD.closing(OrderType.STOP, 4.0)
    assert role_of(stop, IntentKind.CLOSE, has_parent=False) is OrderRole.STOP
    take_profit = SPREAD.closing(OrderType.LIMIT, 0.5, oca_group="g")
    assert role_of(take_profit, IntentKind.CLOSE, has_parent=False) is OrderRole.TAKE_PROFIT
    assert role_of(take_profit, IntentKind.OPEN, has_parent=True) is OrderRole.TAKE_PROFIT
    assert role_of(SPREAD, IntentKind.REDUCE, has_parent=False) is OrderRole.REPAIR
    assert role_of(SPREAD, IntentKind.OPEN, has_parent=False) is OrderRole.WALKED


def execution(
    exec_id: str, contract: OptionContract, quantity: int, price: float
) -> ExecutionEvent:
    return ExecutionEvent(NOW, exec_id, 7, contract, quantity, price, order_ref="ps1:open:1")


def test_units_and_net_price_are_read_back_from_executions() -> None:
    executions = [execution("a", LONG, 2, 1.0), execution("b", SHORT, -2, 2.5)]
    assert traded_units(SPREAD.legs, executions) == (2, -1.5)
    assert traded_units(SPREAD.legs, []) == (0, None)
    assert max_close_cost((Leg(LONG, 1), Leg(SHORT, -1))) == 5.0


def test_the_tracker_keeps_codes_as_messages_and_flags_only_order_ending_ones() -> None:
    tracker = OrderTracker()
    tracker.apply(
        [
            OrderStatusEvent(NOW, state(OrderStatus.SUBMITTED)),
            ErrorEvent(NOW, 2104, "Market data farm connection is OK", -1),
            ErrorEvent(NOW, 10349, "Order TIF was set to DAY", 7),
            execution("a", LONG, 2, 1.0),
            execution("a", LONG, 2, 1.0),
            CommissionEvent(NOW, "a", 1.3, 0.0),
        ]
    )
    assert tracker.messages(7) == ("[10349 info] Order TIF was set to DAY",)
    assert tracker.ending_code(7) is None
    assert len(tracker.executions(7)) == 1, "an execution reported twice counts once"
    assert tracker.commissions(["a", "b"]) == {"a": 1.3}
    tracker.apply([ErrorEvent(NOW, 202, "Order Canceled - reason:", 7)])
    ending = tracker.ending_code(7)
    assert ending is not None
    assert ending.code == 202
    assert tracker.state(7) == state(OrderStatus.SUBMITTED), "the status still decides"


def test_a_report_turns_executions_with_commissions_into_fills() -> None:
    executions = (execution("a", LONG, 2, 1.0), execution("b", SHORT, -2, 2.5))
    report = ExecutionReport(
        ticket="ps1:open:1",
        strategy_id="ps1",
        intent=IntentKind.OPEN,
        role=OrderRole.WALKED,
        order_ref="ps1:open:1",
        outcome=Outcome.FILLED,
        requested=2,
        filled=2,
        avg_fill_price=-1.5,
        start_mid=-1.55,
        finished_at=NOW,
        executions=executions,
        commissions={"a": 1.3},
    )
    assert report.slippage == pytest.approx(0.05)
    assert report.sent
    (fill,) = report.fills()
    assert (fill.exec_id, fill.order_id, fill.commission) == ("a", "7", 1.3)


def test_the_desk_notes_a_record_each_time_its_ticket_state_notes_or_messages_move() -> None:
    clock = SimClock(NOW)
    desk = TicketDesk(clock, dry_run=False)
    ticket = desk.placed_ticket(state(OrderStatus.SUBMITTED), OrderRole.WALKED, 1, IntentKind.OPEN)

    def collected(*events: BrokerEvent) -> tuple[OrderRecord, ...]:
        desk.tracker.apply(events)
        asyncio.run(clock.sleep(5))
        desk.collect_records()
        return desk.book.take_records()

    (first,) = collected()
    assert first.status is RecordStatus.SUBMITTED
    assert collected() == ()
    assert collected(OrderStatusEvent(NOW, state(OrderStatus.SUBMITTED))) == (), "same state"
    (filled,) = collected(OrderStatusEvent(NOW, state(OrderStatus.SUBMITTED, 1)))
    assert (filled.filled_quantity, filled.updated_at) == (1, NOW + timedelta(seconds=20))
    (warned,) = collected(ErrorEvent(NOW, 399, "held until the open", 7))
    assert warned.message == "[399 warning] held until the open"
    assert collected(ErrorEvent(NOW, 2104, "Market data farm connection is OK", -1)) == ()
    ticket.notes.append("walk gave up after 3 steps")
    (noted,) = collected()
    assert noted.message == "walk gave up after 3 steps; [399 warning] held until the open"
    assert desk.working() == (ticket.key,)
    ended = state(OrderStatus.CANCELLED, 1)
    desk.tracker.update(ended)
    desk.done(ticket, Outcome.PARTIALLY_FILLED, "walk gave up", ended)
    assert desk.working() == ()
    (cancelled,) = desk.book.take_records()
    assert cancelled.status is RecordStatus.CANCELLED
    assert collected() == ()
    (late,) = collected(ErrorEvent(NOW, 202, "Order Canceled - reason:", 7))
    assert late.message is not None
    assert late.message.endswith("[202 warning] Order Canceled - reason:"), "after the end too"
    assert collected() == ()


def test_the_desk_notes_records_in_the_order_their_tickets_were_opened() -> None:
    """Live tickets come in their opening order; an ended one the broker spoke of again
    takes its opening place among them."""
    desk = TicketDesk(SimClock(NOW), dry_run=False)

    def placed(order_id: int, ref: str) -> OrderState:
        at_broker = OrderState(order_id, replace(SPREAD, order_ref=ref), OrderStatus.SUBMITTED)
        desk.placed_ticket(at_broker, OrderRole.WALKED, 1, IntentKind.OPEN)
        return at_broker

    first, second = placed(1, "a:open:1"), placed(2, "b:open:1")
    desk.done(desk.tickets["a:open:1"], Outcome.CANCELLED, "cancelled", first)
    third = placed(3, "c:open:1")
    desk.book.take_records()
    desk.tracker.apply(
        [
            OrderStatusEvent(NOW, replace(third, filled=1)),
            OrderStatusEvent(NOW, replace(second, filled=1)),
            ErrorEvent(NOW, 202, "Order Canceled - reason:", 1),
        ]
    )
    desk.collect_records()
    assert [r.order_ref for r in desk.book.take_records()] == ["a:open:1", "b:open:1", "c:open:1"]
    desk.tracker.apply([OrderStatusEvent(NOW, replace(third, filled=2))])
    desk.tracker.apply([OrderStatusEvent(NOW, replace(second, filled=2))])
    desk.collect_records()
    assert [r.order_ref for r in desk.book.take_records()] == ["b:open:1", "c:open:1"]
