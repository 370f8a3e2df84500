"""Reconciliation decisions, case by case, on hand-made broker books."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import pytest

from v6.brokers.events import ExecutionEvent
from v6.brokers.types import ExecutionKind, OrderLeg, OrderSpec, OrderState, OrderStatus
from v6.domain import (
    Leg,
    OptionContract,
    Position,
    Right,
    Severity,
    StockContract,
    Strategy,
    StrategyKind,
    StrategyStatus,
)
from v6.sync.reconcile import (
    AGREED,
    BrokerBook,
    ConflictKind,
    LegFate,
    Reconciliation,
    agrees,
    held_options,
    is_unmanaged,
    reconcile,
)

ACCOUNT = "SIM0001"
NOW = datetime(2024, 3, 18, 14, 0, tzinfo=UTC)
OPENED = NOW - timedelta(days=10)
FRIDAY = date(2024, 3, 15)
APRIL = date(2024, 4, 19)


def put(strike: int, expiry: date = APRIL) -> OptionContract:
    return OptionContract("SPY", expiry, strike, Right.PUT)


def call(strike: int, expiry: date = APRIL) -> OptionContract:
    return OptionContract("SPY", expiry, strike, Right.CALL)


def vertical(sid: str, short: OptionContract, long: OptionContract, units: int = 1) -> Strategy:
    return Strategy(
        sid,
        StrategyKind.VERTICAL,
        (Leg(short, -1), Leg(long, 1)),
        quantity=units,
        status=StrategyStatus.OPEN,
        entry_premium=1.50,
        opened_at=OPENED,
    )


def positions_of(*strategies: Strategy) -> list[Position]:
    return [
        Position(ACCOUNT, leg.contract, leg.quantity * s.quantity, 100.0)
        for s in strategies
        for leg in s.legs
    ]


def execution(
    contract: OptionContract | StockContract,
    quantity: int,
    kind: ExecutionKind = ExecutionKind.TRADE,
    order_ref: str = "",
) -> ExecutionEvent:
    return ExecutionEvent(
        NOW, f"e.{contract}.{kind}", None, contract, quantity, 0.0, kind, order_ref
    )


def run(
    strategies: Sequence[Strategy],
    positions: Sequence[Position],
    executions: Sequence[ExecutionEvent] = (),
    *,
    orders: Sequence[OrderState] = (),
    known_stock: dict[str, int] | None = None,
    now: datetime = NOW,
) -> Reconciliation:
    broker = BrokerBook(ACCOUNT, tuple(positions), tuple(executions), tuple(orders))
    return reconcile(strategies, broker, known_stock or {}, now)


def kinds(result: Reconciliation) -> list[tuple[str, str]]:
    return [(e.kind, e.symbol) for e in result.events]


def test_a_book_that_matches_has_no_conflict() -> None:
    book = [vertical("v1", put(480), put(470)), vertical("v2", call(540), call(550), units=3)]

    result = run(book, positions_of(*book))

    assert result == Reconciliation((), (), (), ())


def test_legs_expired_at_the_broker_close_their_strategy() -> None:
    strategy = vertical("exp", put(480, FRIDAY), put(470, FRIDAY))
    expirations = [execution(leg.contract, 1, ExecutionKind.EXPIRATION) for leg in strategy.legs]

    result = run([strategy], [], expirations)

    [closed] = result.changed
    assert (closed.status, closed.closed_at) == (StrategyStatus.CLOSED, NOW)
    assert kinds(result) == [
        (ConflictKind.MISSING, put(470, FRIDAY).occ_symbol),
        (ConflictKind.MISSING, put(480, FRIDAY).occ_symbol),
    ]
    event = result.events[1]
    assert (event.broker_quantity, event.store_quantity) == (0, -1)
    assert event.resolution == "expired; strategy exp closed"
    assert {a.severity for a in result.alerts} == {Severity.INFO}
    assert result.live([strategy]) == []


def test_without_executions_a_contract_past_expiry_expired() -> None:
    strategy = vertical("exp", put(480, FRIDAY), put(470, FRIDAY))

    result = run([strategy], [])

    assert all(e.resolution.startswith(LegFate.EXPIRED.value) for e in result.events)


def test_an_assignment_is_recognized_and_linked_to_its_strategy() -> None:
    strategy = vertical("itm", put(520, FRIDAY), put(470, FRIDAY))
    shares = StockContract("SPY")
    executions = [
        execution(put(520, FRIDAY), 1, ExecutionKind.ASSIGNMENT),
        execution(shares, 100, ExecutionKind.ASSIGNMENT),
        execution(put(470, FRIDAY), -1, ExecutionKind.EXPIRATION),
    ]

    result = run([strategy], [Position(ACCOUNT, shares, 100, 52_000.0)], executions)

    by_symbol = {e.symbol: e for e in result.events}
    assert by_symbol[put(520, FRIDAY).occ_symbol].resolution.startswith("assigned")
    assert by_symbol[put(470, FRIDAY).occ_symbol].resolution.startswith("expired")
    stock = by_symbol["SPY"]
    assert stock.kind == ConflictKind.ASSIGNMENT
    assert (stock.broker_quantity, stock.store_quantity) == (100, 0)
    assert put(520, FRIDAY).occ_symbol in (stock.resolution or "")
    assert "linked to strategy itm" in (stock.resolution or "")
    assert Severity.CRITICAL in {a.severity for a in result.alerts}
    assert result.changed[0].status is StrategyStatus.CLOSED


def test_shares_appearing_at_expiry_without_executions_mean_an_assignment() -> None:
    strategy = vertical("itm", put(520, FRIDAY), put(470, FRIDAY))
    shares = Position(ACCOUNT, StockContract("SPY"), 100, 52_000.0)

    result = run([strategy], [shares])

    assert {e.resolution.split(";")[0] for e in result.events if e.symbol != "SPY"} == {
        LegFate.ASSIGNED.value
    }
    assert [e.kind for e in result.events if e.symbol == "SPY"] == [ConflictKind.UNKNOWN]


@pytest.mark.parametrize(
    ("order_ref", "fate"),
    [("", LegFate.CLOSED_OUTSIDE), ("v1:close:1", LegFate.CLOSED_BY_V6)],
)
def test_a_leg_closed_by_a_trade_says_whose(order_ref: str, fate: LegFate) -> None:
    strategy = vertical("v1", put(480), put(470))
    trades = [execution(leg.contract, -leg.quantity, order_ref=order_ref) for leg in strategy.legs]

    result = run([strategy], [], trades)

    assert {e.resolution for e in result.events} == {f"{fate.value}; strategy v1 closed"}


def test_a_leg_gone_before_expiry_without_executions_was_closed_outside_v6() -> None:
    strategy = vertical("v1", put(480), put(470))

    result = run([strategy], positions_of(strategy)[:1])

    [event] = result.events
    assert event.resolution is not None
    assert event.resolution.startswith(LegFate.CLOSED_OUTSIDE.value)
    [rest] = result.changed
    assert is_unmanaged(rest)
    assert [(leg.contract, leg.quantity) for leg in rest.legs] == [(put(470), 1)]
    assert "taken over as unmanaged" in event.resolution


def test_an_unknown_broker_position_is_adopted_unmanaged() -> None:
    short = Position(ACCOUNT, call(560), -3, 245.0)
    long = Position(ACCOUNT, put(430), 2, 80.0)

    result = run([], [short, long])

    adopted = {s.legs[0].contract: s for s in result.adopted}
    sold, bought = adopted[call(560)], adopted[put(430)]
    assert sold.strategy_id == "adopted-20240318-SPY240419C00560000"
    assert (sold.legs[0].quantity, sold.quantity, sold.entry_premium) == (-1, 3, 2.45)
    assert (bought.legs[0].quantity, bought.quantity, bought.entry_premium) == (1, 2, -0.80)
    assert all(is_unmanaged(s) and s.status is StrategyStatus.OPEN for s in result.adopted)
    assert {e.kind for e in result.events} == {ConflictKind.UNKNOWN}
    assert sold.strategy_id in (result.events[0].resolution or "")


def test_a_proportional_mismatch_resizes_the_strategy() -> None:
    strategy = vertical("v1", put(480), put(470), units=2)
    resized = vertical("v1", put(480), put(470), units=3)

    result = run([strategy], positions_of(resized))

    assert result.changed == (resized,)
    assert {e.kind for e in result.events} == {ConflictKind.MISMATCH}
    assert all(
        "resized to 3 unit(s), flagged for review" in (e.resolution or "") for e in result.events
    )


def test_any_other_mismatch_takes_the_strategy_over_as_unmanaged() -> None:
    strategy = vertical("v1", put(480), put(470), units=2)
    positions = [Position(ACCOUNT, put(480), -2, 150.0), Position(ACCOUNT, put(470), 4, 50.0)]

    result = run([strategy], positions)

    [custom] = result.changed
    assert is_unmanaged(custom)
    assert custom.strategy_id == "v1"
    assert sorted((leg.contract.strike, leg.quantity) for leg in custom.legs) == [
        (470, 2),
        (480, -1),
    ]
    assert custom.quantity == 2
    assert custom.entry_premium == pytest.approx(1.50)
    [event] = result.events
    assert (event.symbol, event.broker_quantity, event.store_quantity) == (
        put(470).occ_symbol,
        4,
        2,
    )


def test_a_shared_contract_mismatch_goes_to_its_largest_holder() -> None:
    small = vertical("a-small", put(480), put(470))
    large = vertical("b-large", put(480), put(460), units=2)
    positions = [
        Position(ACCOUNT, put(480), -2, 150.0),
        Position(ACCOUNT, put(470), 1, 50.0),
        Position(ACCOUNT, put(460), 2, 40.0),
    ]

    result = run([small, large], positions)

    [changed] = result.changed
    assert changed.strategy_id == "b-large"


def test_contracts_in_flight_are_left_to_execution() -> None:
    pending = Strategy("entering", StrategyKind.VERTICAL, (Leg(put(480), -1), Leg(put(470), 1)))
    exiting = vertical("exiting", call(540), call(550))
    exit_order = OrderState(
        7,
        OrderSpec((OrderLeg(call(540), 1), OrderLeg(call(550), -1)), 1, limit_price=0.5),
        OrderStatus.SUBMITTED,
    )
    partly = [Position(ACCOUNT, put(480), -1, 150.0)]

    result = run([pending, exiting], partly, orders=[exit_order])

    assert result.events == ()


def test_event_ids_are_stable_for_the_same_facts_and_differ_by_day() -> None:
    strategy = vertical("v1", put(480), put(470), units=2)
    positions = positions_of(vertical("v1", put(480), put(470), units=3))

    first = run([strategy], positions)
    again = run([strategy], positions, now=NOW + timedelta(hours=1))
    tomorrow = run([strategy], positions, now=NOW + timedelta(days=1))

    ids = [e.event_id for e in first.events]
    assert ids == [e.event_id for e in again.events]
    assert set(ids).isdisjoint(e.event_id for e in tomorrow.events)
    assert [a.alert_id for a in first.alerts] == ids


def test_a_stock_change_without_a_delivery_is_unknown() -> None:
    result = run([], [Position(ACCOUNT, StockContract("QQQ"), 50, 400.0)], known_stock={"QQQ": 20})

    [event] = result.events
    assert (event.kind, event.symbol, event.broker_quantity, event.store_quantity) == (
        ConflictKind.UNKNOWN,
        "QQQ",
        50,
        20,
    )
    assert (
        run(
            [], [Position(ACCOUNT, StockContract("QQQ"), 50, 400.0)], known_stock={"QQQ": 50}
        ).events
        == ()
    )


def test_a_book_the_broker_agrees_with_reconciles_to_nothing_whatever_it_executed() -> None:
    book = [vertical("v1", put(480), put(470)), vertical("v2", put(470), put(460))]
    positions = [
        *positions_of(vertical("v1", put(480), put(460))),  # put(470) nets to 0 locally
        Position(ACCOUNT, StockContract("SPY"), 100, 470.0),
    ]
    unexplained = [execution(put(480), -1), execution(StockContract("SPY"), 100)]
    order = OrderState(
        9, OrderSpec((OrderLeg(put(480), 1),), 1, limit_price=0.5), OrderStatus.SUBMITTED
    )

    assert held_options(book) == {put(480): -1, put(460): 1}
    assert agrees(held_options(book), positions, {"SPY": 100, "QQQ": 0})
    assert run(book, positions, unexplained, orders=[order], known_stock={"SPY": 100}) == AGREED


@pytest.mark.parametrize(
    ("positions", "known_stock"),
    [
        ([Position(ACCOUNT, put(480), -1, 150.0)], {}),  # a leg missing at the broker
        (  # an unknown position
            [
                *positions_of(vertical("v1", put(480), put(470))),
                Position(ACCOUNT, call(540), 1, 1.0),
            ],
            {},
        ),
        (positions_of(vertical("v1", put(480), put(470), units=2)), {}),  # a quantity mismatch
        (positions_of(vertical("v1", put(480), put(470))), {"SPY": 100}),  # shares gone
    ],
)
def test_any_difference_in_quantities_disagrees(
    positions: list[Position], known_stock: dict[str, int]
) -> None:
    assert not agrees(held_options([vertical("v1", put(480), put(470))]), positions, known_stock)


def test_the_held_options_count_open_and_closing_strategies_only() -> None:
    closing = dataclasses.replace(vertical("v2", put(470), put(460)), status=StrategyStatus.CLOSING)
    legs = (Leg(put(450), -1), Leg(put(440), 1))
    pending = Strategy("v3", StrategyKind.VERTICAL, legs, status=StrategyStatus.PENDING)

    held = held_options([vertical("v1", put(480), put(470), units=2), closing, pending])

    assert held == {put(480): -2, put(470): 1, put(460): 1}
