"""Strike selection rules and the paced chain reader."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from v6.brokers import Quote
from v6.brokers.pacing import PacedBroker, TokenBucket
from v6.brokers.sim import Simulation, open_simulation
from v6.clock import NEW_YORK
from v6.config.broker import BrokerConfig, SimConfig
from v6.domain import Greeks, OptionContract, Right, StockContract
from v6.market.simulated import SimulatedMarket
from v6.pricing import bsm_price_greeks
from v6.strategies.chain import ChainReader
from v6.strategies.selection import (
    ChainView,
    DteWindow,
    Wing,
    best_by_delta,
    choose_expiry,
    delta_strike,
    search_strikes,
    wing_strikes,
)

TODAY = date(2023, 9, 14)


@given(
    forward=st.floats(min_value=20, max_value=800),
    vol=st.floats(min_value=0.05, max_value=1.2),
    years=st.floats(min_value=0.02, max_value=1.0),
    target=st.floats(min_value=0.05, max_value=0.5),
    is_call=st.booleans(),
)
def test_the_guessed_strike_has_the_target_black_scholes_delta(
    forward: float, vol: float, years: float, target: float, is_call: bool
) -> None:
    right = Right.CALL if is_call else Right.PUT
    strike = delta_strike(forward, vol, years, right, target)
    delta = bsm_price_greeks(forward, strike, years, 0.0, 0.0, vol, is_call).delta
    assert abs(float(delta)) == pytest.approx(target, abs=1e-9)


def test_the_expiry_nearest_the_target_inside_the_window_is_chosen() -> None:
    expiries = [TODAY + timedelta(days=d) for d in (29, 36, 43, 47, 64)]
    assert choose_expiry(expiries, TODAY, DteWindow(45, 30, 60)) == TODAY + timedelta(days=43)
    assert choose_expiry(expiries, TODAY, DteWindow(45, 44, 60)) == TODAY + timedelta(days=47)
    assert choose_expiry(expiries, TODAY, DteWindow(30, 30, 35)) is None
    tie = [TODAY + timedelta(days=d) for d in (43, 47)]
    assert choose_expiry(tie, TODAY, DteWindow(45, 30, 60)) == tie[0]


def test_windows_and_wings_refuse_impossible_shapes() -> None:
    with pytest.raises(ValueError, match="minimum <= target <= maximum"):
        DteWindow(20, 30, 60)
    with pytest.raises(ValueError, match="exactly one"):
        Wing(width=5, delta=0.05)
    with pytest.raises(ValueError, match="dollars > 0"):
        Wing(width=-5)


STRIKES = tuple(Decimal(k) for k in [*range(380, 441), *range(445, 500, 5)])


def test_a_wing_is_the_listed_strike_nearest_the_width_beyond_the_short() -> None:
    assert wing_strikes(STRIKES, Decimal(430), Right.PUT, 5)[0] == Decimal(425)
    assert wing_strikes(STRIKES, Decimal(438), Right.CALL, 5)[0] == Decimal(445)
    assert wing_strikes(STRIKES, Decimal(438), Right.CALL, 2)[0] == Decimal(440)
    assert wing_strikes(STRIKES, Decimal(450), Right.CALL, 7)[0] == Decimal(455)
    assert wing_strikes(STRIKES, Decimal(380), Right.PUT, 5) == []


def test_the_search_quotes_a_bounded_window_around_the_guess() -> None:
    view = ChainView("SPY", date(2023, 10, 27), 449.4, 450.0, 0.12, 0.117, STRIKES, 100)
    found = search_strikes(view, Right.PUT, 0.16, limit=10)
    guess = delta_strike(450.0, 0.12, 0.117, Right.PUT, 0.16)
    assert len(found) == 10
    assert min(found) <= Decimal(round(guess)) <= max(found)
    assert all(k < Decimal(450) for k in found)


def quote(strike: int, delta: float, bid: float = 1.0) -> Quote:
    contract = OptionContract("SPY", date(2023, 10, 27), strike, Right.PUT)
    greeks = Greeks(delta, 0.01, -0.05, 0.3)
    now = datetime(2023, 9, 14, 14, tzinfo=UTC)
    return Quote(contract, now, bid, bid + 0.02, bid, 10, 10, 0.15, greeks, 449.0)


def test_the_quote_nearest_the_target_delta_wins_and_ties_go_further_out() -> None:
    quotes = [quote(430, -0.19), quote(428, -0.15), quote(429, -0.17), quote(427, -0.13)]
    assert best_by_delta(quotes, 0.16) == quotes[1]
    assert best_by_delta([quote(430, -0.2, bid=-1.0)], 0.2) is None


def simulation() -> Simulation:
    sim = SimConfig(symbols=("SPY",), start_date=TODAY, end_date=TODAY, bar_step_minutes=5)
    return open_simulation(SimulatedMarket(sim), BrokerConfig(sim=sim))


def test_the_reader_drops_unlisted_strikes_and_stays_within_the_brokers_pacing() -> None:
    sim = simulation()
    expiry = date(2023, 10, 27)
    listed = [OptionContract("SPY", expiry, k, Right.PUT) for k in range(400, 460)]
    unlisted = OptionContract("SPY", expiry, 900, Right.PUT)

    async def scenario() -> None:
        await sim.broker.connect()
        await sim.clock.sleep_until(datetime(2023, 9, 14, 10, tzinfo=NEW_YORK))
        paced = PacedBroker(sim.broker, TokenBucket(45.0, 4, sim.clock.now()), sim.clock)
        reader = ChainReader(paced, sim.clock)
        quotes = await reader.quotes([*listed[:30], unlisted, *listed[30:]])
        assert list(quotes) == listed
        assert all(q.is_valid for q in quotes.values())
        again = await reader.quotes(listed[:3])
        assert again == {c: quotes[c] for c in listed[:3]}
        assert (
            await reader.spot("SPY")
            == (await sim.broker.snapshot_quotes([StockContract("SPY")]))[0].mid
        )

    asyncio.run(scenario())
