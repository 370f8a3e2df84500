"""IB's limits on the simulated broker: connection, market-data lines (101), pacing (100),
contract qualification (200) and option-chain parameters."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from brokers_sim_fakes import (
    FRIDAY,
    MONDAY,
    NEXT_MONTH,
    FakeMarket,
    call,
    events_of,
    of_kind,
    open_fake,
    put,
    run,
    step,
)

from v6.brokers import (
    ConnectionEvent,
    ContractNotFoundError,
    ErrorEvent,
    MarketDataLimitError,
    NotConnectedError,
    PacingViolationError,
    QuoteEvent,
    Severity,
)
from v6.brokers.sim.account import Holding
from v6.domain import Greeks, StockContract


def test_requests_need_a_connection_first() -> None:
    sim, _ = open_fake()

    async def scenario() -> None:
        with pytest.raises(NotConnectedError) as error:
            await sim.broker.account_values()
        assert error.value.code == 504
        assert not sim.broker.is_connected

    run(scenario())


def test_connecting_reports_the_farms_as_informational() -> None:
    sim, _ = open_fake()

    async def scenario() -> None:
        stream = sim.broker.events()
        await sim.broker.connect()
        events = stream.drain()
        assert isinstance(events[0], ConnectionEvent)
        assert events[0].connected
        farms = of_kind(events, ErrorEvent)
        assert [e.code for e in farms] == [2104, 2106, 2158]
        assert all(e.classification.severity is Severity.INFO for e in farms)
        assert sim.broker.is_connected

    run(scenario())


def test_streaming_lines_are_limited_with_error_101() -> None:
    sim, _ = open_fake(market_data_lines=2)

    async def scenario() -> None:
        broker = sim.broker
        await broker.connect()
        stream = broker.events()
        first = await broker.subscribe_quotes(put(390))
        await broker.subscribe_quotes(StockContract("SPY"))
        assert await broker.subscribe_quotes(put(390)) == first
        with pytest.raises(MarketDataLimitError) as error:
            await broker.subscribe_quotes(put(395))
        assert (error.value.code, error.value.req_id) == (101, error.value.req_id)
        assert [e.code for e in events_of(stream, ErrorEvent)] == [101]
        await broker.unsubscribe_quotes(put(390))
        await broker.subscribe_quotes(put(395))

    run(scenario())


def test_streamed_quotes_arrive_every_step_with_greeks_in_ibs_units() -> None:
    sim, _ = open_fake()

    async def scenario() -> None:
        broker = sim.broker
        await broker.connect()
        stream = broker.events()
        line = await broker.subscribe_quotes(put(390))
        await step(sim, 2)
        quotes = events_of(stream, QuoteEvent)
        assert [q.req_id for q in quotes] == [line] * 3
        assert [q.quote.time for q in quotes] == sorted({q.quote.time for q in quotes})
        quote = quotes[-1].quote
        assert (quote.bid, quote.ask, quote.underlying_price) == (0.95, 1.05, 400.0)
        assert quote.greeks == Greeks(0.5, 0.01, -0.1, 0.3)

    run(scenario())


def test_pacing_refuses_messages_beyond_the_rate_with_error_100() -> None:
    sim, _ = open_fake()
    strikes = [float(k) for k in range(300, 505, 5)]
    contracts = ([put(k) for k in strikes] + [call(k) for k in strikes])[:50]

    async def scenario() -> None:
        broker = sim.broker
        await broker.connect()
        stream = broker.events()
        quotes = await broker.snapshot_quotes(contracts)
        assert [q.contract for q in quotes] == contracts
        with pytest.raises(PacingViolationError) as error:
            await broker.snapshot_quotes(contracts[:1])
        assert error.value.code == 100
        assert [e.code for e in events_of(stream, ErrorEvent)] == [100]
        await sim.clock.sleep(1.0)
        assert len(await broker.snapshot_quotes(contracts[:1])) == 1
        await sim.clock.sleep(1.0)
        with pytest.raises(PacingViolationError):
            await broker.snapshot_quotes([*contracts, call(495)])

    run(scenario())


def test_qualification_and_chain_parameters() -> None:
    sim, market = open_fake()

    async def scenario() -> None:
        broker = sim.broker
        await broker.connect()
        stream = broker.events()
        assert await broker.qualify([put(390), StockContract("SPY")]) == (
            put(390),
            StockContract("SPY"),
        )
        for unknown in (put(390.5), put(390, expiry=NEXT_MONTH.replace(day=16))):
            with pytest.raises(ContractNotFoundError):
                await broker.qualify([unknown])
        with pytest.raises(ContractNotFoundError):
            await broker.option_chain("QQQ")
        assert [e.code for e in events_of(stream, ErrorEvent)] == [200, 200, 200]
        chain = await broker.option_chain("SPY")
        assert chain.expirations == (FRIDAY, NEXT_MONTH)
        assert chain.strikes[0] == Decimal("300.000")
        assert chain.strikes == tuple(Decimal(int(k)) for k in market.strike_grid)
        assert (chain.multiplier, chain.trading_class) == (100, "SPY")

    run(scenario())


def test_whole_dollar_strikes_inside_the_grid_and_held_contracts_stay_listed() -> None:
    sim, _ = open_fake()

    async def scenario() -> None:
        await sim.broker.connect()
        assert await sim.broker.qualify([put(391)]) == (put(391),)
        with pytest.raises(ContractNotFoundError):
            await sim.broker.qualify([put(501)])

    run(scenario())


def test_an_option_off_the_grid_is_listed_while_the_account_holds_it() -> None:
    sim, _ = open_fake()
    exchange, holdings = sim.exchange, sim.exchange.state.account.holdings
    assert not exchange.is_listed(put(390.5))
    holdings[put(390.5)] = Holding(-1, 100.0)
    assert exchange.is_listed(put(390.5))
    del holdings[put(390.5)]
    assert not exchange.is_listed(put(390.5))


def test_the_chain_follows_the_listed_expiries_from_day_to_day() -> None:
    tuesday = MONDAY + timedelta(days=1)
    sim, _ = open_fake(FakeMarket(expiries=(tuesday, FRIDAY)))
    exchange = sim.exchange
    assert exchange.option_chain("SPY").expirations == (tuesday, FRIDAY)
    assert exchange.option_chain("SPY") == exchange.option_chain("SPY")
    assert exchange.is_listed(put(390, expiry=tuesday))
    wednesday_open = exchange.now + timedelta(days=2)
    exchange.advance_to(wednesday_open, skip_idle=True)
    assert exchange.option_chain("SPY").expirations == (FRIDAY,)
    assert not exchange.is_listed(put(390, expiry=tuesday))


def test_a_request_checks_again_what_was_listed_yesterday_or_only_while_held() -> None:
    tuesday = MONDAY + timedelta(days=1)
    sim, _ = open_fake(FakeMarket(expiries=(tuesday, FRIDAY)))
    exchange, holdings = sim.exchange, sim.exchange.state.account.holdings
    holdings[put(390.5)] = Holding(-1, 100.0)
    exchange.require_listed([put(390, expiry=tuesday), put(390.5)])
    del holdings[put(390.5)]
    with pytest.raises(ContractNotFoundError):
        exchange.require_listed([put(390.5)])
    exchange.require_listed([put(390, expiry=tuesday)])
    exchange.advance_to(exchange.now + timedelta(days=2), skip_idle=True)
    with pytest.raises(ContractNotFoundError):
        exchange.require_listed([put(390, expiry=tuesday)])
