"""The simulated exchange on the real ``SimulatedMarket``: expiration and assignment on real
dates of March 2020, determinism, resuming from the journal, and the chain command."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from pathlib import Path

import pytest
from brokers_sim_fakes import run
from typer.testing import CliRunner

from v6.brokers import ExecutionEvent, ExecutionKind, OrderLeg, OrderSpec, QuoteEvent
from v6.brokers.sim import Simulation, open_simulation
from v6.brokers.sim.__main__ import app
from v6.clock import NEW_YORK
from v6.config.broker import BrokerConfig, SimConfig
from v6.domain import OptionContract, Right, StockContract
from v6.market.history import load_daily_bars
from v6.market.simulated import SimulatedMarket

MONDAY, THURSDAY, FRIDAY = date(2020, 3, 16), date(2020, 3, 19), date(2020, 3, 20)
NEXT_MONDAY = date(2020, 3, 23)
STEP_MINUTES = 30


def config(seed: int = 1, end: date = NEXT_MONDAY) -> BrokerConfig:
    sim = SimConfig(
        seed=seed, symbols=("SPY",), start_date=MONDAY, end_date=end, bar_step_minutes=STEP_MINUTES
    )
    return BrokerConfig(sim=sim)


def simulation(seed: int = 1, data_dir: Path | None = None) -> Simulation:
    broker_config = config(seed)
    return open_simulation(SimulatedMarket(broker_config.sim), broker_config, data_dir=data_dir)


def opening(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, 30, tzinfo=NEW_YORK)


def spy(expiry: date, strike: float, right: Right) -> OptionContract:
    return OptionContract("SPY", expiry, strike, right)


async def sell_at_the_bid(sim: Simulation, contract: OptionContract) -> None:
    """Sell one contract at the next step's bid (a limit far below it) and wait for it."""
    quote = (await sim.broker.snapshot_quotes([contract]))[0]
    await sim.broker.place_order(
        OrderSpec((OrderLeg(contract, -1),), 1, limit_price=-round(quote.bid / 2, 2))
    )
    await sim.clock.sleep(STEP_MINUTES * 60)
    assert [p.contract for p in await sim.broker.positions()] == [contract]


def test_a_short_spy_put_in_the_money_on_2020_03_20_is_assigned_at_the_strike() -> None:
    sim = simulation()
    itm, otm = spy(FRIDAY, 240, Right.PUT), spy(FRIDAY, 220, Right.PUT)
    close = float(load_daily_bars("SPY", FRIDAY, FRIDAY)["close"][0])
    assert otm.strike < close < itm.strike, "SPY closed at 228.80 that Friday"

    async def scenario() -> None:
        await sim.broker.connect()
        await sell_at_the_bid(sim, itm)
        await sim.broker.place_order(OrderSpec((OrderLeg(otm, -1),), 1, limit_price=-0.01))
        await sim.clock.sleep(STEP_MINUTES * 60)
        cash = (await sim.broker.account_values()).total_cash
        stream = sim.broker.events()
        await sim.clock.sleep_until(opening(NEXT_MONDAY))
        settled = [e for e in stream.drain() if isinstance(e, ExecutionEvent)]
        assert [(e.contract, e.quantity, e.price, e.kind) for e in settled] == [
            (otm, 1, 0.0, ExecutionKind.EXPIRATION),
            (itm, 1, 0.0, ExecutionKind.ASSIGNMENT),
            (StockContract("SPY"), 100, 240.0, ExecutionKind.ASSIGNMENT),
        ]
        assert {e.time.astimezone(NEW_YORK).date() for e in settled} == {FRIDAY}
        listed = await sim.broker.executions()
        bare = [dataclasses.replace(e, commission=None) for e in listed]
        assert bare == settled, "listed for reconciliation"
        assert [e.commission for e in listed] == [0.0, 0.0, 0.0], "settlements are free"
        assert sim.exchange.prices.spot("SPY") != close, "Monday's price, not Friday's close"
        positions = await sim.broker.positions()
        assert [(p.contract, p.quantity, p.avg_cost) for p in positions] == [
            (StockContract("SPY"), 100, 240.0)
        ]
        after = await sim.broker.account_values()
        assert after.total_cash == pytest.approx(cash - 24_000.0)

    run(scenario())


@pytest.mark.parametrize(("strike", "assigned"), [(150, True), (240, False)])
def test_short_calls_are_assigned_the_day_before_spys_2020_03_20_ex_dividend(
    strike: float, assigned: bool
) -> None:
    # SPY went ex 1.406 on 2020-03-20: a deep in-the-money call is worth less than that
    # dividend over its intrinsic value on the 19th, an at-the-money one is not.
    sim = simulation()
    contract = spy(date(2020, 4, 17), strike, Right.CALL)

    async def scenario() -> None:
        await sim.broker.connect()
        await sell_at_the_bid(sim, contract)
        stream = sim.broker.events()
        await sim.clock.sleep_until(opening(FRIDAY))
        positions = {p.contract: p.quantity for p in await sim.broker.positions()}
        expected = {StockContract("SPY"): -100} if assigned else {contract: -1}
        assert positions == expected
        assignments = [
            e.time.astimezone(NEW_YORK)
            for e in stream.drain()
            if isinstance(e, ExecutionEvent) and e.kind is ExecutionKind.ASSIGNMENT
        ]
        expected_times = [(THURSDAY, 16)] * 2 if assigned else []
        assert [(t.date(), t.hour) for t in assignments] == expected_times

    run(scenario())


async def open_trades(sim: Simulation) -> None:
    """Stream a line and rest two limits inside the spread: a put and a put spread."""
    await sim.broker.connect()
    put = spy(FRIDAY, 235, Right.PUT)
    await sim.broker.subscribe_quotes(put)
    quote = (await sim.broker.snapshot_quotes([put]))[0]
    await sim.broker.place_order(
        OrderSpec((OrderLeg(put, -1),), 3, limit_price=-round(quote.mid, 2))
    )
    spread = (OrderLeg(put, -1), OrderLeg(spy(FRIDAY, 230, Right.PUT), 1))
    await sim.broker.place_order(OrderSpec(spread, 2, limit_price=-1.50))


async def trade_a_day(sim: Simulation) -> list[object]:
    stream = sim.broker.events()
    await open_trades(sim)
    await sim.clock.sleep_until(opening(date(2020, 3, 17)))
    return stream.drain()


def test_the_same_seed_gives_the_same_quotes_fills_and_pnl_on_the_real_market() -> None:
    first, second, other = simulation(1), simulation(1), simulation(2)
    first_events, second_events = run(trade_a_day(first)), run(trade_a_day(second))
    assert first_events == second_events
    assert first.exchange.state_json() == second.exchange.state_json()
    assert any(isinstance(e, ExecutionEvent) for e in first_events)
    other_events = run(trade_a_day(other))
    quotes = [e.quote for e in first_events if isinstance(e, QuoteEvent)]
    other_quotes = [e.quote for e in other_events if isinstance(e, QuoteEvent)]
    assert quotes != other_quotes


def test_a_killed_run_resumes_on_the_real_market(tmp_path: Path) -> None:
    whole = simulation(3, tmp_path / "whole")
    run(trade_a_day(whole))

    killed = simulation(3, tmp_path / "killed")

    async def morning(sim: Simulation) -> None:
        await open_trades(sim)
        await sim.clock.sleep(2 * 3600)

    run(morning(killed))
    killed.exchange.close()
    resumed = simulation(3, tmp_path / "killed")
    assert resumed.clock.now() == killed.clock.now()

    async def afternoon(sim: Simulation) -> None:
        await sim.broker.connect()
        await sim.clock.sleep_until(opening(date(2020, 3, 17)))

    run(afternoon(resumed))
    assert resumed.exchange.state_json() == whole.exchange.state_json()
    assert resumed.exchange.positions() == whole.exchange.positions()


def test_the_chain_command_prints_a_real_days_chain() -> None:
    result = CliRunner().invoke(
        app, ["chain", "SPY", "--date", "2020-03-16", "--time", "10:00", "--within", "0.01"]
    )
    assert result.exit_code == 0, result.output
    assert "SPY 2020-03-16 10:00 New York" in result.output
    assert "2020-03-20" in result.output
    assert "240" in result.output
    closed = CliRunner().invoke(app, ["chain", "SPY", "--date", "2020-03-15"])
    assert closed.exit_code == 1
    assert "not an NYSE session" in closed.output
