"""Port types: order validation in IB's combo sign convention, states, quotes, what-if."""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, date, datetime

import pytest

from v6.brokers import (
    EventHub,
    ExecutionEvent,
    ExecutionKind,
    OcaType,
    OrderLeg,
    OrderSpec,
    OrderState,
    OrderStatus,
    OrderType,
    Quote,
    TimeInForce,
    WhatIf,
)
from v6.domain import (
    IntentKind,
    InvalidOrderError,
    Leg,
    OptionContract,
    OrderIntent,
    Right,
    StockContract,
)

EXPIRY = date(2024, 1, 19)
NOW = datetime(2024, 1, 2, 15, 0, tzinfo=UTC)


def option(
    strike: float, right: Right, symbol: str = "SPY", multiplier: int = 100
) -> OptionContract:
    return OptionContract(symbol, EXPIRY, strike, right, multiplier)


def condor_legs() -> tuple[OrderLeg, ...]:
    return (
        OrderLeg(option(440, Right.PUT), 1),
        OrderLeg(option(445, Right.PUT), -1),
        OrderLeg(option(475, Right.CALL), -1),
        OrderLeg(option(480, Right.CALL), 1),
    )


def test_a_credit_combo_has_a_negative_limit_price() -> None:
    spec = OrderSpec(condor_legs(), 2, limit_price=-1.85, order_ref="ic-1:open:1")
    assert spec.is_combo
    assert spec.underlying == "SPY"
    assert spec.multiplier == 100
    assert spec.trigger_price == -1.85


@pytest.mark.parametrize(("ratio", "price"), [(1, -0.5), (-1, 0.5)])
def test_single_leg_price_sign_follows_the_side(ratio: int, price: float) -> None:
    leg = OrderLeg(option(445, Right.PUT), ratio)
    with pytest.raises(InvalidOrderError, match="expected >= 0 to buy"):
        OrderSpec((leg,), 1, limit_price=price)


@pytest.mark.parametrize(
    ("legs", "match"),
    [
        ((), "at least one leg"),
        ((OrderLeg(option(445, Right.PUT), 2),), "ratio 2"),
        (
            (OrderLeg(option(445, Right.PUT), 1), OrderLeg(option(445, Right.PUT), -1)),
            "repeat",
        ),
        (
            (OrderLeg(option(445, Right.PUT), 1), OrderLeg(option(445, Right.PUT, "QQQ"), -1)),
            "one underlying",
        ),
        (
            (OrderLeg(option(445, Right.PUT), 1), OrderLeg(StockContract("SPY"), -100)),
            "one multiplier",
        ),
    ],
)
def test_malformed_legs_are_rejected_with_the_reason(
    legs: tuple[OrderLeg, ...], match: str
) -> None:
    with pytest.raises(InvalidOrderError, match=match):
        OrderSpec(legs, 1, limit_price=1.0)


def test_prices_quantity_and_kinds_are_checked() -> None:
    legs = condor_legs()
    with pytest.raises(InvalidOrderError, match="quantity"):
        OrderSpec(legs, 0, limit_price=-1.0)
    with pytest.raises(InvalidOrderError, match="needs one"):
        OrderSpec(legs, 1)
    with pytest.raises(InvalidOrderError, match="stop_price = None"):
        OrderSpec(legs, 1, order_type=OrderType.STOP)
    with pytest.raises(InvalidOrderError, match="finite"):
        OrderSpec(legs, 1, limit_price=math.nan)
    with pytest.raises(InvalidOrderError, match="oca_type"):
        OrderSpec(legs, 1, limit_price=1.0, oca_type=4)  # type: ignore[arg-type]
    with pytest.raises(InvalidOrderError, match="order_ref"):
        OrderSpec(legs, 1, limit_price=1.0, order_ref="x" * 101)
    with pytest.raises(InvalidOrderError, match="ratio"):
        OrderLeg(option(445, Right.PUT), 0)


def test_from_intent_keeps_the_combo_and_the_order_ref() -> None:
    legs = tuple(Leg(leg.contract, leg.ratio) for leg in condor_legs())
    intent = OrderIntent("ic-7", IntentKind.OPEN, legs, 3, -2.10)
    spec = OrderSpec.from_intent(intent, attempt=2)
    assert spec.legs == condor_legs()
    assert (spec.quantity, spec.limit_price, spec.order_ref) == (3, -2.10, "ic-7:open:2")
    assert spec.tif is TimeInForce.DAY


def test_from_intent_turns_a_sized_single_leg_into_contracts_and_a_per_contract_price() -> None:
    intent = OrderIntent("p-1", IntentKind.CLOSE, (Leg(option(445, Right.PUT), 2),), 3, 3.00)
    spec = OrderSpec.from_intent(intent, attempt=1)
    assert spec.legs == (OrderLeg(option(445, Right.PUT), 1),)
    assert (spec.quantity, spec.limit_price) == (6, 1.50)


def test_closing_reverses_the_legs_for_bracket_children() -> None:
    parent = OrderSpec(condor_legs(), 2, limit_price=-1.85, order_ref="ic-1:open:1")
    stop = parent.closing(OrderType.STOP, 3.70, oca_group="g", oca_type=OcaType.REDUCE_WITH_BLOCK)
    assert [leg.ratio for leg in stop.legs] == [-1, 1, 1, -1]
    assert (stop.stop_price, stop.limit_price, stop.tif) == (3.70, None, TimeInForce.GTC)
    assert (stop.oca_group, stop.oca_type, stop.quantity) == ("g", OcaType.REDUCE_WITH_BLOCK, 2)
    assert parent.changed(quantity=5, limit_price=-1.90).limit_price == -1.90


def test_done_states_and_remaining() -> None:
    spec = OrderSpec(condor_legs(), 4, limit_price=-1.0)
    assert {s for s in OrderStatus if s.is_done} == {
        OrderStatus.CANCELLED,
        OrderStatus.API_CANCELLED,
        OrderStatus.FILLED,
        OrderStatus.INACTIVE,
    }
    assert OrderState(1, spec, OrderStatus.PENDING_CANCEL, filled=1).remaining == 3
    assert OrderState(1, spec, OrderStatus.CANCELLED, filled=1).remaining == 0


@pytest.mark.parametrize(
    ("bid", "ask", "valid"),
    [
        (1.0, 1.1, True),
        (0.0, 0.05, True),
        (math.nan, 1.1, False),
        (0.0, math.inf, False),
        (0.0, 0.0, False),
        (-1.0, 1.1, False),
        (1.2, 1.1, False),
    ],
)
def test_quote_validity(bid: float, ask: float, valid: bool) -> None:
    quote = Quote(option(445, Right.PUT), NOW, bid, ask, 1.05, 10, 10, 0.2, None, 450.0)
    assert quote.is_valid is valid
    assert math.isnan(quote.mid) is not valid


def test_what_if_buying_power_effect() -> None:
    # A 5-wide put spread sold for 1.20: IB's requirement is 500, the credit goes to cash.
    what_if = WhatIf(0.0, 500.0, 0.0, 500.0, 10_000.0, 10_118.7, 1.30)
    assert what_if.initial_margin_change == 500.0
    assert what_if.buying_power_effect == pytest.approx(500 - 120 + 1.30)


def test_execution_becomes_a_domain_fill() -> None:
    execution = ExecutionEvent(
        NOW, "e1", None, StockContract("SPY"), 100, 445.0, ExecutionKind.ASSIGNMENT
    )
    fill = execution.to_fill(0.0)
    assert (fill.order_id, fill.quantity, fill.cash_flow) == ("assignment", 100, -44_500.0)


def test_event_streams_see_events_in_order_and_can_be_closed() -> None:
    hub = EventHub()
    first, second = hub.subscribe(), hub.subscribe()
    events = [ExecutionEvent(NOW, f"e{i}", i, StockContract("SPY"), 1, 1.0) for i in range(3)]
    hub.publish(events[0])
    second.close()
    hub.publish(events[1])
    assert first.drain() == events[:2]
    assert second.drain() == events[:1]

    async def consume() -> list[object]:
        hub.publish(events[2])
        first.close()
        return [event async for event in first]

    assert asyncio.run(consume()) == [events[2]]
