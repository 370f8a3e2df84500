"""Expiration, exercise, assignment and cash settlement on the simulated exchange."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from brokers_sim_fakes import FRIDAY, FakeMarket, PinnedQuote, call, open_fake, put, run, single

from v6.brokers import ExecutionKind, OrderStatus, TimeInForce
from v6.brokers.sim import Simulation
from v6.brokers.sim.settlement import early_assignments, settle_expiring
from v6.clock import NEW_YORK
from v6.domain import OptionContract, Right, StockContract

NEXT_MONDAY = date(2020, 3, 23)
TUESDAY = date(2020, 3, 17)


def opening(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, 30, tzinfo=NEW_YORK)


async def hold_to_expiry(sim: Simulation, market: FakeMarket, spot: float) -> None:
    """Let the week pass; the underlying closes Friday at ``spot``."""
    await sim.clock.sleep_until(opening(FRIDAY))
    market.spots[market.symbols[0]] = spot
    await sim.clock.sleep_until(opening(NEXT_MONDAY))


def week_market(**kwargs: object) -> FakeMarket:
    return FakeMarket(end=NEXT_MONDAY, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("close", "assigned"), [(380.0, True), (389.99, True), (389.995, False), (395.0, False)]
)
def test_a_short_etf_put_is_assigned_when_in_the_money_by_a_cent(
    close: float, assigned: bool
) -> None:
    sim, market = open_fake(week_market())

    async def scenario() -> None:
        await sim.broker.connect()
        await sim.broker.place_order(single(put(390), -1, 2, -0.90))
        await sim.clock.sleep(1800)
        cash_after_sale = (await sim.broker.account_values()).total_cash
        await hold_to_expiry(sim, market, close)
        positions = {p.contract: p.quantity for p in await sim.broker.positions()}
        values = await sim.broker.account_values()
        if assigned:
            assert positions == {StockContract("SPY"): 200}
            assert values.total_cash == pytest.approx(cash_after_sale - 2 * 100 * 390)
        else:
            assert positions == {}
            assert values.total_cash == pytest.approx(cash_after_sale)

    run(scenario())


def test_assignment_and_expiration_are_reported_as_executions() -> None:
    sim, market = open_fake(week_market())

    async def scenario() -> None:
        await sim.broker.connect()
        await sim.broker.place_order(single(put(390), -1, 1, -0.90))
        await sim.broker.place_order(single(put(370), -1, 1, -0.90))
        await sim.clock.sleep(1800)
        stream = sim.broker.events()
        await hold_to_expiry(sim, market, 385.0)
        executions = [e for e in stream.drain() if type(e).__name__ == "ExecutionEvent"]
        assert [(e.contract, e.quantity, e.price, e.kind) for e in executions] == [
            (put(370), 1, 0.0, ExecutionKind.EXPIRATION),
            (put(390), 1, 0.0, ExecutionKind.ASSIGNMENT),
            (StockContract("SPY"), 100, 390.0, ExecutionKind.ASSIGNMENT),
        ]
        assert all(e.order_id is None for e in executions)

    run(scenario())


def test_a_long_call_in_the_money_is_exercised_into_shares() -> None:
    sim, market = open_fake(week_market())

    async def scenario() -> None:
        await sim.broker.connect()
        await sim.broker.place_order(single(call(400), 1, 1, 1.10))
        await hold_to_expiry(sim, market, 410.0)
        assert [(p.contract, p.quantity, p.avg_cost) for p in await sim.broker.positions()] == [
            (StockContract("SPY"), 100, 400.0)
        ]

    run(scenario())


def test_index_options_settle_in_cash() -> None:
    grid = tuple(float(k) for k in range(3_700, 4_101, 50))
    market = week_market(symbols=("SPX",), strike_grid=grid, spots={"SPX": 4_000.0})
    sim, _ = open_fake(market, symbols=("SPX",), starting_cash=1_000_000.0)
    contract = OptionContract("SPX", FRIDAY, 3_900, Right.PUT)

    async def scenario() -> None:
        await sim.broker.connect()
        await sim.broker.place_order(single(contract, -1, 1, -0.90))
        await sim.clock.sleep(1800)
        before = (await sim.broker.account_values()).total_cash
        await hold_to_expiry(sim, market, 3_850.0)
        assert await sim.broker.positions() == ()
        after = (await sim.broker.account_values()).total_cash
        assert after - before == pytest.approx(-50.0 * 100)

    run(scenario())


@pytest.mark.parametrize(("dividend", "assigned"), [(1.40, True), (0.50, False)])
def test_short_calls_are_assigned_early_when_extrinsic_is_below_the_dividend(
    dividend: float, assigned: bool
) -> None:
    # The fake market prices every option at intrinsic + 1.00 of extrinsic value.
    sim, _ = open_fake(dividends={"SPY": {TUESDAY: dividend}})

    async def scenario() -> None:
        await sim.broker.connect()
        await sim.broker.place_order(single(call(380, FRIDAY), -1, 1, -20.0))
        await sim.clock.sleep_until(opening(TUESDAY))
        positions = {p.contract: p.quantity for p in await sim.broker.positions()}
        expected = {StockContract("SPY"): -100} if assigned else {call(380, FRIDAY): -1}
        assert positions == expected

    run(scenario())


def test_orders_on_expiring_contracts_end_at_the_close() -> None:
    sim, _ = open_fake(week_market())

    async def scenario() -> None:
        await sim.broker.connect()
        order = await sim.broker.place_order(single(put(390), 1, 1, 0.50, tif=TimeInForce.GTC))
        await sim.clock.sleep_until(opening(FRIDAY))
        stream = sim.broker.events()
        await sim.clock.sleep_until(opening(NEXT_MONDAY))
        ended = [e for e in stream.drain() if type(e).__name__ == "OrderStatusEvent"]
        assert [(e.order.order_id, e.order.status, e.order.message) for e in ended] == [
            (order.order_id, OrderStatus.CANCELLED, "contract expired")
        ]

    run(scenario())


def test_closed_positions_show_zero_until_the_session_ends() -> None:
    sim, market = open_fake()
    market.overrides[put(390)] = PinnedQuote(0.95, 1.05)

    async def scenario() -> None:
        await sim.broker.connect()
        await sim.broker.place_order(single(put(390), 1, 1, 1.05))
        await sim.clock.sleep(1800)
        await sim.broker.place_order(single(put(390), -1, 1, -0.95))
        await sim.clock.sleep(1800)
        assert [p.quantity for p in await sim.broker.positions()] == [0]
        await sim.clock.sleep_until(opening(TUESDAY))
        assert await sim.broker.positions() == ()

    run(scenario())


def test_settlement_functions_directly() -> None:
    spy_put, spy_call = put(390), call(410)
    holdings = {spy_put: -1, spy_call: 2, put(390, date(2020, 4, 17)): -1}
    settled = settle_expiring(holdings, FRIDAY, {"SPY": 420.0})
    assert [(s.contract, s.quantity, s.kind) for s in settled] == [
        (spy_call, -2, ExecutionKind.EXERCISE),
        (StockContract("SPY"), 200, ExecutionKind.EXERCISE),
        (spy_put, 1, ExecutionKind.EXPIRATION),
    ]
    early = early_assignments({spy_call: -1}, {"SPY": 2.0}, {"SPY": 420.0}, lambda c: 11.0)
    assert [s.kind for s in early] == [ExecutionKind.ASSIGNMENT] * 2
    assert early_assignments({spy_call: -1}, {"SPY": 0.9}, {"SPY": 420.0}, lambda c: 11.0) == []
