"""Entry signals: session window on the NYSE calendar, IV rank from the real VIX history, the
trend filter against the real closes, DTE window, concurrency and events."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta

import pytest

from v6.brokers.pacing import PacedBroker, TokenBucket
from v6.brokers.sim import open_simulation
from v6.clock import NEW_YORK
from v6.config.broker import BrokerConfig, SimConfig
from v6.config.decisions import EventRule
from v6.config.execution import IvRankSource, SignalConfig
from v6.config.strategies import StrategyKind, StrategyTemplate
from v6.market.history import load_daily_bars, load_vix
from v6.market.simulated import SimulatedMarket
from v6.strategies.signals import (
    EntrySignal,
    EntrySignals,
    MarketFacts,
    SignalCheck,
    closes_before,
    history_iv_rank,
    iv_rank,
    vix_iv_rank,
)

DAY = date(2023, 9, 14)
HALF_DAY = date(2023, 11, 24)
EXPIRIES = (date(2023, 10, 20), date(2023, 10, 27), date(2023, 11, 17))
CONDOR = StrategyTemplate(name="ic", kind=StrategyKind.IRON_CONDOR, min_iv_rank=10)
BULL_PUT = StrategyTemplate(name="bp", kind=StrategyKind.VERTICAL_BULL_PUT, trend_filter=True)
BEAR_CALL = StrategyTemplate(name="bc", kind=StrategyKind.VERTICAL_BEAR_CALL, trend_filter=True)


def new_york(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NEW_YORK)


def facts(
    spot: float = 450.0, rank: float | None = 50.0, closes: tuple[float, ...] = ()
) -> MarketFacts:
    return MarketFacts(spot, rank, closes or (440.0,) * 60, EXPIRIES)


def verdict(
    template: StrategyTemplate = CONDOR,
    moment: datetime | None = None,
    market: MarketFacts | None = None,
    *,
    open_count: int = 0,
    events: EventRule | None = None,
    config: SignalConfig | None = None,
) -> EntrySignal:
    checker = EntrySignals(config or SignalConfig(), events or EventRule())
    when = moment or new_york(DAY, 11)
    return checker.evaluate(template, "SPY", when, market or facts(), open_count=open_count)


def passes(name: SignalCheck, result: EntrySignal) -> bool:
    return next(c.passed for c in result.checks if c.check is name)


@pytest.mark.parametrize(
    ("moment", "inside"),
    [
        (new_york(DAY, 9, 40), False),
        (new_york(DAY, 9, 45), True),
        (new_york(DAY, 15, 45), True),
        (new_york(DAY, 15, 50), False),
    ],
)
def test_entries_wait_15_minutes_after_the_open_and_stop_15_before_the_close(
    moment: datetime, inside: bool
) -> None:
    result = verdict(moment=moment)
    assert passes(SignalCheck.ENTRY_WINDOW, result) is inside
    assert result.passed is inside


def test_no_entries_on_half_days_or_closed_days() -> None:
    half = verdict(moment=new_york(HALF_DAY, 11))
    assert not passes(SignalCheck.SESSION, half)
    assert "half day" in half.explain()
    saturday = verdict(moment=new_york(date(2023, 9, 16), 11))
    assert not passes(SignalCheck.SESSION, saturday)
    assert not passes(SignalCheck.ENTRY_WINDOW, saturday)
    allowed = SignalConfig(avoid_half_days=False)
    assert passes(SignalCheck.SESSION, verdict(moment=new_york(HALF_DAY, 11), config=allowed))


def test_the_vix_rank_ranks_the_last_close_before_the_day_in_the_years_closes() -> None:
    closes = load_vix(DAY - timedelta(days=500), DAY - timedelta(days=1))["close"].to_list()
    window = closes[-252:]
    expected = (window[-1] - min(window)) / (max(window) - min(window)) * 100
    assert vix_iv_rank(DAY, 252) == pytest.approx(expected)
    assert 0 <= expected < 10, "VIX near 13 in September 2023, a low of its year"


def test_the_rank_threshold_passes_at_or_above_and_unknown_ranks_fail_a_positive_one() -> None:
    assert passes(SignalCheck.IV_RANK, verdict(market=facts(rank=10.0)))
    assert not passes(SignalCheck.IV_RANK, verdict(market=facts(rank=9.9)))
    assert not passes(SignalCheck.IV_RANK, verdict(market=facts(rank=None)))
    no_threshold = CONDOR.model_copy(update={"min_iv_rank": 0.0})
    assert passes(SignalCheck.IV_RANK, verdict(no_threshold, market=facts(rank=None)))


def test_an_underlyings_own_iv_history_ranks_without_look_ahead() -> None:
    history = [(DAY - timedelta(days=d), 0.10 + d / 1000) for d in range(1, 40)]
    history.append((DAY, 0.99))
    assert history_iv_rank(history, DAY, 30) == pytest.approx(0.0)
    assert iv_rank(0.2, [0.1, 0.3]) == pytest.approx(50.0)
    assert iv_rank(0.2, [0.2, 0.2]) is None
    own = EntrySignals(
        SignalConfig(iv_rank_source=IvRankSource.UNDERLYING),
        EventRule(),
        iv_history={"SPY": history},
    )
    assert own.iv_rank("SPY", DAY) == pytest.approx(0.0)
    assert own.iv_rank("QQQ", DAY) is None


def test_bull_puts_need_the_spot_above_its_average_and_bear_calls_below() -> None:
    closes = closes_before("SPY", DAY)
    bars = load_daily_bars("SPY", DAY - timedelta(days=120), DAY - timedelta(days=1))
    assert closes[-50:] == tuple(bars["close"].to_list()[-50:])
    average = sum(closes[-50:]) / 50
    above, below = facts(spot=average + 1, closes=closes), facts(spot=average - 1, closes=closes)
    assert passes(SignalCheck.TREND, verdict(BULL_PUT, market=above))
    assert not passes(SignalCheck.TREND, verdict(BULL_PUT, market=below))
    assert passes(SignalCheck.TREND, verdict(BEAR_CALL, market=below))
    assert not passes(SignalCheck.TREND, verdict(BEAR_CALL, market=above))
    assert not passes(SignalCheck.TREND, verdict(BULL_PUT, market=facts(closes=closes[-10:])))
    assert passes(SignalCheck.TREND, verdict(CONDOR, market=below)), "condors have no filter"


def test_dte_window_concurrency_and_events_inside_the_trade() -> None:
    result = verdict()
    assert result.passed
    assert result.expiry == date(2023, 10, 27)
    far = MarketFacts(450.0, 50.0, (440.0,) * 60, (date(2024, 3, 15),))
    assert not passes(SignalCheck.DTE_WINDOW, verdict(market=far))
    assert not passes(SignalCheck.CONCURRENCY, verdict(open_count=1))
    fomc = EventRule(market_wide=(date(2023, 9, 20),))
    assert not passes(SignalCheck.EVENT, verdict(events=fomc))
    earnings = EventRule(per_symbol={"QQQ": (date(2023, 10, 1),)})
    assert passes(SignalCheck.EVENT, verdict(events=earnings))
    after_expiry = EventRule(market_wide=(date(2023, 11, 1),))
    assert passes(SignalCheck.EVENT, verdict(events=after_expiry))
    assert not verdict(CONDOR.model_copy(update={"enabled": False})).passed


def test_the_facts_come_from_the_broker_and_the_shipped_history() -> None:
    config = SimConfig(symbols=("SPY",), start_date=DAY, end_date=DAY, bar_step_minutes=5)
    sim = open_simulation(SimulatedMarket(config), BrokerConfig(sim=config))

    async def scenario() -> None:
        await sim.broker.connect()
        await sim.clock.sleep_until(new_york(DAY, 11))
        checker = EntrySignals(SignalConfig(), EventRule())
        paced = PacedBroker(sim.broker, TokenBucket(45.0, 4, sim.clock.now()), sim.clock)
        found = await checker.facts(paced, "SPY", sim.clock.now())
        assert found.spot == pytest.approx(sim.exchange.prices.spot("SPY"), abs=0.01)
        assert found.expirations == (await sim.broker.option_chain("SPY")).expirations
        assert found.iv_rank == vix_iv_rank(DAY, 252)
        assert found.closes == closes_before("SPY", DAY)
        result = verdict(moment=sim.clock.now(), market=found)
        assert not result.passed
        assert [c.check for c in result.failed] == [SignalCheck.IV_RANK]
        assert result.explain().startswith("ic on SPY: iv_rank: IV rank")

    asyncio.run(scenario())


def test_one_checker_asked_again_and_again_answers_as_a_fresh_one() -> None:
    """The checks that hold all day are kept per template and symbol: a new day, new facts
    or another template of the same name must still be judged afresh."""
    checker = EntrySignals(SignalConfig(), EventRule())
    stricter = CONDOR.model_copy(update={"min_iv_rank": 60})
    market, low_rank = facts(), facts(rank=5.0)
    asked = [
        (CONDOR, new_york(DAY, 9, 40), market, 0),
        (CONDOR, new_york(DAY, 11), market, 0),
        (CONDOR, new_york(DAY, 11, 5), low_rank, 0),
        (CONDOR, new_york(DAY, 11, 10), market, 0),
        (stricter, new_york(DAY, 11, 15), market, 0),
        (CONDOR, new_york(DAY, 11, 20), market, 1),
        (CONDOR, new_york(HALF_DAY, 11), market, 0),
        (CONDOR, new_york(DAY + timedelta(days=35), 11), market, 0),
    ]
    verdicts = []
    for template, moment, market, open_count in asked:
        result = checker.evaluate(template, "SPY", moment, market, open_count=open_count)
        fresh = verdict(template, moment, market, open_count=open_count)
        assert result == fresh
        verdicts.append(result.passed)
    assert verdicts == [False, True, False, True, False, False, False, False]


def test_passes_answers_as_the_full_verdict() -> None:
    checker = EntrySignals(SignalConfig(), EventRule())
    saturday, closes = date(2023, 9, 16), (440.0,) * 60
    asked = [
        (template, moment, market, open_count)
        for template in (CONDOR, BULL_PUT, BEAR_CALL, CONDOR.model_copy(update={"enabled": False}))
        for moment in (
            new_york(DAY, 9, 40),
            new_york(DAY, 9, 45),
            new_york(DAY, 15, 45),
            new_york(DAY, 15, 50),
            new_york(HALF_DAY, 11),
            new_york(saturday, 11),
        )
        for market in (facts(), facts(rank=5.0), facts(spot=430.0, closes=closes))
        for open_count in (0, 1)
    ]
    answers = []
    for template, moment, market, open_count in asked:
        answer = checker.passes(template, "SPY", moment, market, open_count=open_count)
        assert answer == verdict(template, moment, market, open_count=open_count).passed
        answers.append(answer)
    assert True in answers
    assert False in answers


@pytest.mark.parametrize(
    "day", [date(1993, 2, 10), date(2008, 10, 10), DAY, date(2026, 1, 1), date(2030, 1, 1)]
)
def test_closes_and_vix_rank_read_the_shipped_history_as_its_loaders_do(day: date) -> None:
    """Each read picks from the series read once what the loaders return for its range."""
    for sessions in (1, 50, 400):
        start = day - timedelta(days=round(sessions * 1.6) + 7)
        bars = load_daily_bars("SPY", start, day - timedelta(days=1))
        assert closes_before("SPY", day, sessions) == tuple(bars["close"].to_list()[-sessions:])
        vix = load_vix(start, day - timedelta(days=1))["close"].drop_nulls().to_list()
        window = vix[-sessions:]
        expected = iv_rank(window[-1], window) if window else None
        assert vix_iv_rank(day, sessions) == expected
    assert closes_before("XYZ", day) == ()
