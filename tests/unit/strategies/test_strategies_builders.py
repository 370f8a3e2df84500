"""Builders on the real simulated exchange: strikes, deltas and credit rules checked against
the broker's own chain on real dates (a calm 2023-09-14 and the 2020-03-16 crash)."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Coroutine, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

import pytest
from scipy.stats import lognorm

from v6.brokers import ContractNotFoundError, Quote
from v6.brokers.pacing import PacedBroker, TokenBucket
from v6.brokers.sim import Simulation, open_simulation
from v6.clock import NEW_YORK
from v6.config.broker import BrokerConfig, SimConfig
from v6.config.decisions import DecisionsConfig
from v6.config.execution import SelectionConfig
from v6.config.strategies import DEFAULT_TEMPLATES, StrategyKind, StrategyTemplate
from v6.domain import Contract, IntentKind, OptionContract, Right
from v6.domain import StrategyKind as Kind
from v6.market.simulated import SimulatedMarket
from v6.strategies.builders import LegSpec, StrategyBuilder, VerticalSpread
from v6.strategies.results import BuiltStrategy, Rejection, RejectReason
from v6.strategies.selection import DteWindow, Wing

T = TypeVar("T")
CALM, CRASH = date(2023, 9, 14), date(2020, 3, 16)
WINDOW = DteWindow(45, 30, 60)


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


async def at_ten(day: date) -> Simulation:
    config = SimConfig(symbols=("SPY",), start_date=day, end_date=day, bar_step_minutes=5)
    sim = open_simulation(SimulatedMarket(config), BrokerConfig(sim=config))
    await sim.broker.connect()
    await sim.clock.sleep_until(datetime(day.year, day.month, day.day, 10, tzinfo=NEW_YORK))
    return sim


def builder(sim: Simulation, config: SelectionConfig | None = None) -> StrategyBuilder:
    paced = PacedBroker(sim.broker, TokenBucket(45.0, 4, sim.clock.now()), sim.clock)
    return StrategyBuilder(paced, sim.clock, config or SelectionConfig())


async def whole_side(sim: Simulation, expiry: date, right: Right, spot: float) -> list[Quote]:
    """Every listed strike of one side within 30 % of the spot, read independently."""
    chain = await sim.broker.option_chain("SPY")
    strikes = [k for k in chain.strikes if abs(float(k) / spot - 1) < 0.3]
    quotes: list[Quote] = []
    for strike in strikes:
        contract = OptionContract("SPY", expiry, strike, right)
        try:
            quotes += await sim.broker.snapshot_quotes([contract])
        except ContractNotFoundError:
            continue
        await sim.clock.sleep(0.05)
    return [q for q in quotes if q.is_valid and q.greeks is not None]


def legs_by(built: BuiltStrategy) -> dict[tuple[Right, int], OptionContract]:
    return {(leg.contract.right, leg.quantity): leg.contract for leg in built.strategy.legs}


def test_an_iron_condor_takes_the_chains_nearest_deltas_and_prices_from_its_quotes() -> None:
    async def scenario() -> None:
        sim = await at_ten(CALM)
        built = await builder(sim).iron_condor(
            "ic1",
            "SPY",
            short_delta=0.30,
            wing=Wing(width=5),
            dte=WINDOW,
            min_credit_fraction=0.2,
            quantity=2,
        )
        assert isinstance(built, BuiltStrategy), built
        chain = await sim.broker.option_chain("SPY")
        nearest = min(
            (e for e in chain.expirations if 30 <= (e - CALM).days <= 60),
            key=lambda e: abs((e - CALM).days - 45),
        )
        assert built.strategy.expiries == (nearest,)
        legs = legs_by(built)
        for right in (Right.PUT, Right.CALL):
            side = await whole_side(sim, nearest, right, built.spot)
            best = min(side, key=lambda q: abs(abs(q.greeks.delta) - 0.30))  # type: ignore[union-attr]
            assert legs[(right, -1)] == best.contract, "the chain's nearest delta to 0.30"
            wing = float(legs[(right, 1)].strike) - float(legs[(right, -1)].strike)
            assert abs(wing) == 5.0
        credit = -built.mid_price
        quotes = {q.contract: q for q in built.quotes}
        assert credit == pytest.approx(
            sum(-leg.quantity * quotes[leg.contract].mid for leg in built.strategy.legs)
        )
        assert credit >= 0.2 * 5
        assert built.limit_price == -1.00
        short_put, short_call = (
            float(legs[(Right.PUT, -1)].strike),
            float(legs[(Right.CALL, -1)].strike),
        )
        assert built.max_profit == pytest.approx(credit * 100)
        assert built.max_loss == pytest.approx((5 - credit) * 100)
        assert built.breakevens == pytest.approx((short_put - credit, short_call + credit))
        delta = sum(
            leg.quantity * 2 * 100 * quotes[leg.contract].greeks.delta  # type: ignore[union-attr]
            for leg in built.strategy.legs
        )
        assert built.greeks.delta == pytest.approx(delta)
        assert built.greeks.theta > 0 > built.greeks.vega, "a short condor earns time, sells vol"
        intent = built.open_intent()
        assert (intent.intent, intent.quantity, intent.limit_price) == (IntentKind.OPEN, 2, -1.00)
        candidate = built.entry_candidate(margin=800.0)
        assert candidate.max_loss == pytest.approx((5 - 1.00) * 100 * 2)
        assert (candidate.underlying, candidate.margin) == ("SPY", 800.0)

    run(scenario())


def test_probability_of_profit_is_the_lognormal_mass_between_the_breakevens() -> None:
    async def scenario() -> None:
        sim = await at_ten(CALM)
        built = await builder(sim).iron_condor(
            "ic1", "SPY", short_delta=0.16, wing=Wing(width=5), dte=WINDOW, min_credit_fraction=0.1
        )
        assert isinstance(built, BuiltStrategy), built
        low, high = built.breakevens
        quotes = {q.contract: q for q in built.quotes}
        legs = legs_by(built)
        put_vol, call_vol = quotes[legs[(Right.PUT, -1)]].iv, quotes[legs[(Right.CALL, -1)]].iv
        expiry_close = datetime(2023, 10, 27, 16, tzinfo=NEW_YORK)
        years = (expiry_close - built.built_at).total_seconds() / (365 * 86400)

        def below(level: float, vol: float) -> float:
            spread = vol * math.sqrt(years)
            scale = built.forward * math.exp(-spread * spread / 2)
            return float(lognorm.cdf(level, spread, scale=scale))

        expected = below(high, call_vol) - below(low, put_vol)
        assert built.probability_of_profit == pytest.approx(expected, abs=1e-6)
        assert 0.55 < built.probability_of_profit < 0.8, "about 1 - 2 x 0.16 and a bit more"

    run(scenario())


def test_the_default_templates_build_on_a_calm_day_below_the_delta_breach() -> None:
    breach = DecisionsConfig().delta_breach.max_short_delta

    async def scenario() -> None:
        sim = await at_ten(CALM)
        paced_builder = builder(sim)
        for template in DEFAULT_TEMPLATES:
            built = await paced_builder.from_template("s1", template, "SPY")
            assert isinstance(built, BuiltStrategy), (template.name, built)
            assert -built.limit_price == pytest.approx(template.min_credit_fraction * 5)
            shorts = [q for q, leg in zip(built.quotes, built.strategy.legs, strict=True)
                      if leg.quantity < 0]  # fmt: skip
            for quote in shorts:
                assert quote.greeks is not None
                assert abs(quote.greeks.delta) < breach, "an entry is not an exit at once"

    run(scenario())


def test_a_16_delta_condor_asking_a_third_of_the_width_is_rejected_in_calm_markets() -> None:
    async def scenario() -> None:
        sim = await at_ten(CALM)
        result = await builder(sim).iron_condor(
            "ic1",
            "SPY",
            short_delta=0.16,
            wing=Wing(width=5),
            dte=WINDOW,
            min_credit_fraction=1 / 3,
        )
        assert isinstance(result, Rejection)
        assert result.reason is RejectReason.CREDIT_BELOW_MINIMUM
        assert "below the minimum 1.67" in result.detail

    run(scenario())


def test_in_the_crash_the_condor_reaches_onto_the_five_dollar_grid() -> None:
    async def scenario() -> None:
        sim = await at_ten(CRASH)
        built = await builder(sim).iron_condor(
            "ic1", "SPY", short_delta=0.16, wing=Wing(width=5), dte=WINDOW, min_credit_fraction=0.2
        )
        assert isinstance(built, BuiltStrategy), built
        for quote, leg in zip(built.quotes, built.strategy.legs, strict=True):
            if leg.quantity < 0:
                assert quote.greeks is not None
                assert abs(abs(quote.greeks.delta) - 0.16) <= 0.05
        assert all(leg.contract.strike % 5 == 0 for leg in built.strategy.legs)
        assert -built.mid_price >= 0.2 * 5

    run(scenario())


@pytest.mark.parametrize(
    ("spread", "right", "anchor_sign"),
    [
        (VerticalSpread.BULL_PUT, Right.PUT, -1),
        (VerticalSpread.BEAR_CALL, Right.CALL, -1),
        (VerticalSpread.BULL_CALL, Right.CALL, 1),
        (VerticalSpread.BEAR_PUT, Right.PUT, 1),
    ],
)
def test_verticals_put_the_wing_further_out_of_the_money_than_the_delta_leg(
    spread: VerticalSpread, right: Right, anchor_sign: int
) -> None:
    async def scenario() -> None:
        sim = await at_ten(CALM)
        built = await builder(sim).vertical(
            "v1",
            "SPY",
            spread,
            delta=0.30 if spread.is_credit else 0.50,
            wing=Wing(width=5),
            dte=WINDOW,
        )
        assert isinstance(built, BuiltStrategy), built
        assert built.strategy.kind is Kind.VERTICAL
        legs = {leg.quantity: leg.contract for leg in built.strategy.legs}
        anchor, wing = legs[anchor_sign], legs[-anchor_sign]
        assert anchor.right is wing.right is right
        further = wing.strike < anchor.strike if right is Right.PUT else wing.strike > anchor.strike
        assert further
        assert abs(float(anchor.strike - wing.strike)) == 5.0
        if spread.is_credit:
            assert built.mid_price < 0
            assert built.limit_price == -0.01, "no minimum: any credit, never a debit"
        else:
            assert 0 < built.mid_price < 5
            assert built.limit_price == 4.99, "never pay the whole width"
            assert built.max_loss == pytest.approx(built.mid_price * 100)

    run(scenario())


def test_a_debit_spread_above_its_maximum_is_rejected() -> None:
    async def scenario() -> None:
        sim = await at_ten(CALM)
        result = await builder(sim).vertical(
            "v1",
            "SPY",
            VerticalSpread.BULL_CALL,
            delta=0.5,
            wing=Wing(width=5),
            dte=WINDOW,
            max_debit_fraction=0.2,
        )
        assert isinstance(result, Rejection)
        assert result.reason is RejectReason.DEBIT_ABOVE_MAXIMUM

    run(scenario())


@pytest.mark.parametrize(
    ("config", "window", "reason"),
    [
        (SelectionConfig(), DteWindow(200, 200, 205), RejectReason.NO_EXPIRY),
        (SelectionConfig(max_delta_miss=1e-5), WINDOW, RejectReason.NO_STRIKE_NEAR_DELTA),
        (SelectionConfig(max_spread_fraction=0.01), WINDOW, RejectReason.SPREAD_TOO_WIDE),
    ],
)
def test_market_conditions_give_typed_rejections(
    config: SelectionConfig, window: DteWindow, reason: RejectReason
) -> None:
    async def scenario() -> None:
        sim = await at_ten(CALM)
        result = await builder(sim, config).iron_condor(
            "ic1", "SPY", short_delta=0.3, wing=Wing(width=5), dte=window, min_credit_fraction=0.1
        )
        assert isinstance(result, Rejection)
        assert (result.reason, result.strategy_id, result.symbol) == (reason, "ic1", "SPY")
        assert result.detail

    run(scenario())


def test_a_custom_butterfly_from_leg_specifications() -> None:
    async def scenario() -> None:
        sim = await at_ten(CALM)
        specs = [
            LegSpec(Right.PUT, 1, strike=430),
            LegSpec(Right.PUT, -2, delta=0.30),
            LegSpec(Right.PUT, 1, strike=450),
        ]
        built = await builder(sim).custom("bf1", "SPY", specs, dte=WINDOW, max_debit=5.0)
        assert isinstance(built, BuiltStrategy), built
        assert built.strategy.kind is Kind.CUSTOM
        assert [(float(leg.contract.strike), leg.quantity) for leg in built.strategy.legs] == [
            (430.0, 1),
            (440.0, -2),
            (450.0, 1),
        ]
        assert built.max_profit > 0
        assert built.limit_price == 5.0

    run(scenario())


def test_impossible_leg_specifications_are_errors_not_rejections() -> None:
    with pytest.raises(ValueError, match="exactly one of strike and delta"):
        LegSpec(Right.PUT, 1)
    with pytest.raises(ValueError, match="non-zero integer"):
        LegSpec(Right.PUT, 0, strike=400)
    with pytest.raises(ValueError, match="0 < delta < 1"):
        LegSpec(Right.CALL, 1, delta=1.5)


def test_templates_build_their_kind() -> None:
    template = StrategyTemplate(
        name="bear_calls",
        kind=StrategyKind.VERTICAL_BEAR_CALL,
        short_delta=0.3,
        min_credit_fraction=0.2,
    )

    async def scenario() -> None:
        sim = await at_ten(CALM)
        built = await builder(sim).from_template("bc1", template, "SPY")
        assert isinstance(built, BuiltStrategy), built
        assert {leg.contract.right for leg in built.strategy.legs} == {Right.CALL}
        assert built.limit_price == -1.00

    run(scenario())


def test_builds_sharing_a_reader_build_the_same_and_ask_for_each_quote_once() -> None:
    async def scenario() -> None:
        sim = await at_ten(CALM)
        paced_builder = builder(sim)
        alone = [await paced_builder.from_template("s1", t, "SPY") for t in DEFAULT_TEMPLATES]
        asked: list[Contract] = []
        snapshot = sim.broker.snapshot_quotes

        async def counted(contracts: Sequence[Contract]) -> tuple[Quote, ...]:
            asked.extend(contracts)
            return await snapshot(contracts)

        sim.broker.snapshot_quotes = counted  # type: ignore[method-assign]
        reader = paced_builder.reader()
        shared = [
            await paced_builder.from_template("s1", t, "SPY", reader=reader)
            for t in DEFAULT_TEMPLATES
        ]
        assert all(isinstance(b, BuiltStrategy) for b in [*alone, *shared])
        assert [(b.strategy, b.quotes) for b in shared if isinstance(b, BuiltStrategy)] == [
            (b.strategy, b.quotes) for b in alone if isinstance(b, BuiltStrategy)
        ]
        assert len(asked) == len(set(asked)), "no contract asked for twice"

    run(scenario())
