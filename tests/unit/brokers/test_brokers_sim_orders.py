"""Order semantics on the simulated exchange: fills, partial fills, combos, OCA, brackets,
modify, cancel and their races, and IB's rejections."""

from __future__ import annotations

from datetime import timedelta

import pytest
from brokers_sim_fakes import (
    FakeMarket,
    PinnedQuote,
    call,
    events_of,
    of_kind,
    open_fake,
    put,
    run,
    single,
    step,
)

from v6.brokers import (
    ErrorEvent,
    ExecutionEvent,
    InvalidPriceError,
    OcaType,
    OrderLeg,
    OrderNotModifiableError,
    OrderSpec,
    OrderStatus,
    OrderStatusEvent,
    OrderType,
    TimeInForce,
    UnknownOrderError,
)
from v6.brokers.sim.matching import ComboMarket, fill_probability, leg_prices
from v6.brokers.types import Quote
from v6.domain import InvalidOrderError

STEPS_PER_DAY = 14  # 09:30 to 16:00 in 30-minute steps


def statuses(events: list[object], order_id: int) -> list[OrderStatus]:
    return [
        e.order.status
        for e in of_kind(events, OrderStatusEvent)  # type: ignore[arg-type]
        if e.order.order_id == order_id
    ]


def error_codes(events: list[object]) -> list[int]:
    return [e.code for e in of_kind(events, ErrorEvent)]  # type: ignore[arg-type]


def test_a_marketable_limit_fills_at_the_next_step_at_the_natural_price() -> None:
    sim, _ = open_fake()

    async def scenario() -> None:
        broker = sim.broker
        await broker.connect()
        stream = broker.events()
        bought = await broker.place_order(single(put(390), 1, 2, 1.10))
        sold = await broker.place_order(single(put(395), -1, 1, -0.90))
        assert bought.status is OrderStatus.SUBMITTED
        assert await broker.positions() == ()
        await step(sim)
        fills = events_of(stream, ExecutionEvent)
        assert [(f.order_id, f.quantity, f.price) for f in fills] == [
            (bought.order_id, 2, 1.05),
            (sold.order_id, -1, 0.95),
        ]
        assert all(f.time == sim.clock.now() for f in fills)
        assert {o.order_id for o in await broker.open_orders()} == set()

    run(scenario())


def test_fill_probability_rises_from_mid_to_natural() -> None:
    market = ComboMarket(natural=1.05, mid=1.00, passive=0.95, available=10)
    assert fill_probability(1.00, market, 5) == pytest.approx(0.2)
    assert fill_probability(1.025, market, 5) == pytest.approx(0.6)
    assert fill_probability(0.975, market, 5) == pytest.approx(0.1)
    assert fill_probability(0.95, market, 5) == 0.0
    assert fill_probability(1.00, market, 30) == pytest.approx(1 - 0.8**6)


def test_a_limit_inside_the_spread_fills_at_its_own_price_and_the_passive_side_never() -> None:
    sim, _ = open_fake()

    async def scenario() -> None:
        broker = sim.broker
        await broker.connect()
        at_mid = await broker.place_order(single(put(390), 1, 1, 1.00))
        at_bid = await broker.place_order(single(put(395), 1, 1, 0.95))
        await step(sim, STEPS_PER_DAY - 2)
        filled = [e for e in await broker.executions() if e.order_id == at_mid.order_id]
        assert [f.price for f in filled] == [1.00]
        assert all(e.order_id != at_bid.order_id for e in await broker.executions())

    run(scenario())


def test_orders_larger_than_the_shown_size_fill_in_parts() -> None:
    sim, market = open_fake()
    market.overrides[put(390)] = PinnedQuote(0.95, 1.05, ask_size=3)

    async def scenario() -> None:
        broker = sim.broker
        await broker.connect()
        stream = broker.events()
        order = await broker.place_order(single(put(390), 1, 5, 1.05))
        await step(sim)
        await step(sim)
        events = stream.drain()
        assert [f.quantity for f in of_kind(events, ExecutionEvent)] == [3, 2]
        assert statuses(events, order.order_id) == [
            OrderStatus.SUBMITTED,
            OrderStatus.SUBMITTED,
            OrderStatus.FILLED,
        ]
        commissions = [e.commission for e in events if type(e).__name__ == "CommissionEvent"]
        assert commissions == [pytest.approx(1.95), pytest.approx(1.30)]

    run(scenario())


def test_a_combo_fills_every_leg_together_at_the_net_credit() -> None:
    sim, market = open_fake()
    short, long_ = put(395), put(390)
    market.overrides[short] = PinnedQuote(2.00, 2.10)
    market.overrides[long_] = PinnedQuote(1.00, 1.10)
    spread = OrderSpec((OrderLeg(short, -1), OrderLeg(long_, 1)), 2, limit_price=-0.90)

    async def scenario() -> None:
        broker = sim.broker
        await broker.connect()
        order = await broker.place_order(spread)
        await step(sim)
        fills = [e for e in await broker.executions() if e.order_id == order.order_id]
        assert [(f.contract, f.quantity, f.price) for f in fills] == [
            (short, -2, 2.00),
            (long_, 2, 1.10),
        ]
        assert len({f.time for f in fills}) == 1
        done = sim.exchange.order(order.order_id)
        assert done is not None
        assert (done.status, done.avg_fill_price) == (OrderStatus.FILLED, pytest.approx(-0.90))

    run(scenario())


def test_combo_leg_prices_sum_to_the_net_and_stay_inside_each_spread() -> None:
    legs = (OrderLeg(put(395), -1), OrderLeg(put(390), 1), OrderLeg(call(410), -1))
    quotes = [
        Quote(leg.contract, FakeMarket().now, bid, ask, 0.0, 5, 5, 0.2, None, 400.0)
        for leg, (bid, ask) in zip(legs, [(2.00, 2.10), (1.00, 1.10), (0.50, 0.60)], strict=True)
    ]
    for net in (-1.40, -1.45, -1.52, -1.60):
        prices = leg_prices(legs, quotes, net)
        assert sum(leg.ratio * p for leg, p in zip(legs, prices, strict=True)) == pytest.approx(net)
        for price, quote in zip(prices, quotes, strict=True):
            assert quote.bid - 1e-9 <= price <= quote.ask + 1e-9


def oca_pair(oca_type: OcaType, second_price: float, second_quantity: int) -> list[OrderSpec]:
    first = single(put(390), 1, 2, 1.10, oca_group="g", oca_type=oca_type)
    second = single(put(395), 1, second_quantity, second_price, oca_group="g", oca_type=oca_type)
    return [first, second]


def test_oca_type_1_cancels_the_rest_when_one_fills() -> None:
    sim, _ = open_fake()

    async def scenario() -> None:
        await sim.broker.connect()
        first, second = [await sim.broker.place_order(s) for s in oca_pair(OcaType(1), 0.50, 2)]
        await step(sim)
        assert sim.exchange.order(first.order_id).status is OrderStatus.FILLED  # type: ignore[union-attr]
        other = sim.exchange.order(second.order_id)
        assert other is not None
        assert other.status is OrderStatus.CANCELLED
        assert "OCA" in other.message

    run(scenario())


def test_oca_type_2_reduces_the_rest_by_the_filled_quantity() -> None:
    sim, _ = open_fake()

    async def scenario() -> None:
        await sim.broker.connect()
        _, second = [await sim.broker.place_order(s) for s in oca_pair(OcaType(2), 0.50, 5)]
        await step(sim)
        other = sim.exchange.order(second.order_id)
        assert other is not None
        assert (other.status, other.spec.quantity) == (OrderStatus.SUBMITTED, 3)

    run(scenario())


@pytest.mark.parametrize(("oca_type", "both_fill"), [(OcaType(2), False), (OcaType(3), True)])
def test_only_oca_type_3_lets_two_members_fill_in_the_same_instant(
    oca_type: OcaType, both_fill: bool
) -> None:
    sim, _ = open_fake()

    async def scenario() -> None:
        await sim.broker.connect()
        orders = [await sim.broker.place_order(s) for s in oca_pair(oca_type, 1.10, 2)]
        await step(sim)
        filled = {e.order_id for e in await sim.broker.executions()}
        assert (orders[1].order_id in filled) is both_fill
        assert orders[0].order_id in filled

    run(scenario())


def test_bracket_children_wait_for_the_parent_then_take_profit_cancels_the_stop() -> None:
    sim, market = open_fake()
    contract = put(390)

    async def scenario() -> None:
        broker = sim.broker
        await broker.connect()
        parent, profit, stop = await broker.place_bracket(
            single(contract, 1, 2, 1.05), take_profit_price=-2.00, stop_loss_price=-0.50
        )
        assert (profit.status, stop.status) == (OrderStatus.PRE_SUBMITTED,) * 2
        assert profit.parent_id == stop.parent_id == parent.order_id
        assert [leg.ratio for leg in profit.spec.legs] == [-1]
        await step(sim)
        assert {o.order_id: o.status for o in await broker.open_orders()} == {
            profit.order_id: OrderStatus.SUBMITTED,
            stop.order_id: OrderStatus.SUBMITTED,
        }
        market.overrides[contract] = PinnedQuote(2.10, 2.20)
        await step(sim)
        assert await broker.open_orders() == ()
        assert sim.exchange.order(stop.order_id).status is OrderStatus.CANCELLED  # type: ignore[union-attr]
        assert [p.quantity for p in await broker.positions()] == [0]

    run(scenario())


def test_bracket_stop_triggers_on_the_mid_and_fills_at_the_natural_price() -> None:
    sim, market = open_fake()
    contract = put(390)

    async def scenario() -> None:
        await sim.broker.connect()
        _, profit, stop = await sim.broker.place_bracket(
            single(contract, 1, 1, 1.05), take_profit_price=-2.00, stop_loss_price=-0.50
        )
        await step(sim)
        market.overrides[contract] = PinnedQuote(0.40, 0.50)
        await step(sim)
        fills = [e for e in await sim.broker.executions() if e.order_id == stop.order_id]
        assert [(f.quantity, f.price) for f in fills] == [(-1, 0.40)]
        assert sim.exchange.order(profit.order_id).status is OrderStatus.CANCELLED  # type: ignore[union-attr]

    run(scenario())


def test_cancelling_an_unfilled_bracket_parent_cancels_the_children() -> None:
    sim, _ = open_fake()

    async def scenario() -> None:
        await sim.broker.connect()
        parent, profit, stop = await sim.broker.place_bracket(
            single(put(390), 1, 1, 0.50), take_profit_price=-2.00, stop_loss_price=-0.30
        )
        await sim.broker.cancel_order(parent.order_id)
        await step(sim)
        for order_id in (parent.order_id, profit.order_id, stop.order_id):
            assert sim.exchange.order(order_id).status is OrderStatus.CANCELLED  # type: ignore[union-attr]

    run(scenario())


def test_modify_changes_the_price_and_the_order_then_fills() -> None:
    sim, _ = open_fake()

    async def scenario() -> None:
        broker = sim.broker
        await broker.connect()
        order = await broker.place_order(single(put(390), 1, 1, 0.90))
        await broker.modify_order(order.order_id, limit_price=1.10, quantity=3)
        await step(sim)
        fills = [e for e in await broker.executions() if e.order_id == order.order_id]
        assert [(f.quantity, f.price) for f in fills] == [(3, 1.05)]

    run(scenario())


def test_cancel_confirms_with_202_and_cancelled() -> None:
    sim, _ = open_fake()

    async def scenario() -> None:
        await sim.broker.connect()
        stream = sim.broker.events()
        order = await sim.broker.place_order(single(put(390), 1, 1, 0.50))
        pending = await sim.broker.cancel_order(order.order_id)
        assert pending.status is OrderStatus.PENDING_CANCEL
        await step(sim)
        events = stream.drain()
        assert statuses(events, order.order_id)[-2:] == [
            OrderStatus.PENDING_CANCEL,
            OrderStatus.CANCELLED,
        ]
        assert 202 in error_codes(events)

    run(scenario())


def test_a_fill_can_win_the_race_against_a_cancel() -> None:
    sim, _ = open_fake()

    async def scenario() -> None:
        await sim.broker.connect()
        stream = sim.broker.events()
        order = await sim.broker.place_order(single(put(390), 1, 1, 1.10))
        await sim.broker.cancel_order(order.order_id)
        await step(sim)
        events = stream.drain()
        assert statuses(events, order.order_id)[-1] is OrderStatus.FILLED
        assert 10148 in error_codes(events)
        assert 202 not in error_codes(events)
        assert len(of_kind(events, ExecutionEvent)) == 1

    run(scenario())


def test_cancel_and_modify_of_done_or_unknown_orders() -> None:
    sim, _ = open_fake()

    async def scenario() -> None:
        broker = sim.broker
        await broker.connect()
        stream = broker.events()
        order = await broker.place_order(single(put(390), 1, 1, 1.10))
        await step(sim)
        again = await broker.cancel_order(order.order_id)
        assert again.status is OrderStatus.FILLED
        assert 161 in error_codes(stream.drain())
        with pytest.raises(OrderNotModifiableError) as modify_error:
            await broker.modify_order(order.order_id, limit_price=1.20)
        assert modify_error.value.code == 104
        with pytest.raises(UnknownOrderError) as unknown:
            await broker.cancel_order(999)
        assert unknown.value.code == 10147

    run(scenario())


def test_day_orders_end_at_the_close_and_gtc_orders_carry_on() -> None:
    sim, _ = open_fake()

    async def scenario() -> None:
        broker = sim.broker
        await broker.connect()
        day = await broker.place_order(single(put(390), 1, 1, 0.50))
        gtc = await broker.place_order(single(put(395), 1, 1, 0.50, tif=TimeInForce.GTC))
        await step(sim, STEPS_PER_DAY)
        assert [o.order_id for o in await broker.open_orders()] == [gtc.order_id]
        assert sim.exchange.order(day.order_id) is None, "finished orders are dropped overnight"

    run(scenario())


def test_completed_orders_list_the_sessions_ended_orders_until_the_close() -> None:
    sim, _ = open_fake()

    async def scenario() -> None:
        broker = sim.broker
        await broker.connect()
        cancelled = await broker.place_order(single(put(390), 1, 1, 0.50))
        working = await broker.place_order(single(put(395), 1, 1, 0.50, tif=TimeInForce.GTC))
        await broker.cancel_order(cancelled.order_id)
        await step(sim)
        assert [(o.order_id, o.status) for o in await broker.completed_orders()] == [
            (cancelled.order_id, OrderStatus.CANCELLED)
        ]
        assert [o.order_id for o in await broker.open_orders()] == [working.order_id]
        await step(sim, STEPS_PER_DAY)
        assert await broker.completed_orders() == (), "forgotten at the close, as at IB"

    run(scenario())


def test_orders_placed_while_closed_wait_for_the_open() -> None:
    sim, _ = open_fake()

    async def scenario() -> None:
        await sim.broker.connect()
        evening = sim.exchange.now + timedelta(hours=6, minutes=40)
        sim.exchange.advance_to(evening)
        order = await sim.broker.place_order(single(put(390), 1, 1, 1.10))
        assert order.status is OrderStatus.PRE_SUBMITTED
        await step(sim)
        assert [e.order_id for e in await sim.broker.executions()] == [order.order_id]

    run(scenario())


@pytest.mark.parametrize(
    ("spec", "code"),
    [
        (single(put(390), 1, 1, 1.005), 110),
        (single(put(390.5), 1, 1, 1.00), 200),
        (single(put(390, expiry=FakeMarket().expiries[0] + timedelta(days=1)), 1, 1, 1.0), 200),
    ],
)
def test_invalid_orders_end_inactive_with_ibs_code(spec: OrderSpec, code: int) -> None:
    sim, _ = open_fake()

    async def scenario() -> None:
        await sim.broker.connect()
        stream = sim.broker.events()
        state = await sim.broker.place_order(spec)
        assert state.status is OrderStatus.INACTIVE
        assert error_codes(stream.drain()) == [code]

    run(scenario())


@pytest.mark.parametrize(
    ("cash", "spec"),
    [
        (1_000.0, single(put(390), -1, 1, -0.90)),
        (50.0, single(put(390), 1, 1, 1.05)),
    ],
)
def test_orders_beyond_buying_power_are_rejected_201(cash: float, spec: OrderSpec) -> None:
    sim, _ = open_fake(starting_cash=cash)

    async def scenario() -> None:
        await sim.broker.connect()
        stream = sim.broker.events()
        state = await sim.broker.place_order(spec)
        assert state.status is OrderStatus.INACTIVE
        errors = of_kind(stream.drain(), ErrorEvent)
        assert [e.code for e in errors] == [201]
        assert "EQUITY WITH LOAN VALUE" in errors[0].message

    run(scenario())


def test_a_single_leg_stop_sells_when_the_market_falls_to_it() -> None:
    sim, market = open_fake()
    contract = put(390)

    async def scenario() -> None:
        broker = sim.broker
        await broker.connect()
        await broker.place_order(single(contract, 1, 1, 1.05))
        await step(sim)
        stop = OrderSpec((OrderLeg(contract, -1),), 1, order_type=OrderType.STOP, stop_price=-0.60)
        placed = await broker.place_order(stop)
        await step(sim)
        assert sim.exchange.order(placed.order_id).status is OrderStatus.SUBMITTED  # type: ignore[union-attr]
        market.overrides[contract] = PinnedQuote(0.50, 0.60)
        await step(sim)
        fills = [e for e in await broker.executions() if e.order_id == placed.order_id]
        assert [(f.quantity, f.price) for f in fills] == [(-1, 0.50)]

    run(scenario())


def test_modifications_are_checked_and_held_orders_change_at_once() -> None:
    sim, market = open_fake()
    market.overrides[put(390)] = PinnedQuote(0.95, 1.05, ask_size=2)

    async def scenario() -> None:
        broker = sim.broker
        await broker.connect()
        order = await broker.place_order(single(put(390), 1, 5, 1.05))
        await step(sim)
        with pytest.raises(InvalidOrderError, match="must exceed the 2 already filled"):
            await broker.modify_order(order.order_id, quantity=2)
        with pytest.raises(InvalidOrderError, match="no stop price"):
            await broker.modify_order(order.order_id, stop_price=-0.5)
        with pytest.raises(InvalidPriceError) as off_tick:
            await broker.modify_order(order.order_id, limit_price=1.055)
        assert off_tick.value.code == 110
        with pytest.raises(ValueError, match="give a quantity or a price"):
            await broker.modify_order(order.order_id)
        _, profit, _ = await broker.place_bracket(single(put(395), 1, 1, 0.50), -2.00, -0.20)
        changed = await broker.modify_order(profit.order_id, limit_price=-2.50)
        assert (changed.status, changed.spec.limit_price) == (OrderStatus.PRE_SUBMITTED, -2.50)

    run(scenario())
