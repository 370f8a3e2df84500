"""Portfolio limits: the pre-trade check on both sides of every limit, candidates built from
strategies against independent BSM numbers, and post-trade breaches with their targets."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import numpy as np
import polars as pl
import pytest

from v6.config.risk import PortfolioLimits
from v6.decisions import LIMIT_TARGET_SCHEMA
from v6.domain import (
    Greeks,
    IntentKind,
    Leg,
    OptionContract,
    OrderIntent,
    Right,
    Strategy,
    StrategyKind,
)
from v6.pricing import bsm_price_greeks
from v6.risk import (
    EntryCandidate,
    Exposure,
    LimitMonitor,
    LimitName,
    RiskEventKind,
    breaches,
    check_entry,
    limit_targets,
)
from v6.table import ArrayTable

NOW = datetime(2024, 1, 10, 15, tzinfo=UTC)
LIMITS = PortfolioLimits()
BUYING_POWER = 100_000.0
EXPIRY = date(2024, 2, 16)
CONDOR = (
    Leg(OptionContract("SPY", EXPIRY, 420, Right.PUT), 1),
    Leg(OptionContract("SPY", EXPIRY, 430, Right.PUT), -1),
    Leg(OptionContract("SPY", EXPIRY, 470, Right.CALL), -1),
    Leg(OptionContract("SPY", EXPIRY, 480, Right.CALL), 1),
)


def entry(
    strategy_id: str = "new",
    *,
    delta: float = 0.0,
    gamma: float = 0.0,
    theta: float = 0.0,
    vega: float = 0.0,
    max_loss: float = 500.0,
    underlying: str = "SPY",
) -> EntryCandidate:
    intent = OrderIntent(strategy_id, IntentKind.OPEN, CONDOR, 1, -2.0)
    return EntryCandidate(intent, underlying, Greeks(delta, gamma, theta, vega), max_loss)


def names(exposure: Exposure, candidate: EntryCandidate) -> list[str]:
    return [v.key for v in check_entry(exposure, candidate, LIMITS, BUYING_POWER)]


@pytest.mark.parametrize(
    ("book", "added", "expected"),
    [
        ({"delta": 150.0}, {"delta": 50.0}, []),
        ({"delta": 150.0}, {"delta": 50.5}, ["delta"]),
        ({"delta": -150.0}, {"delta": -50.5}, ["delta"]),
        ({"gamma": -450.0}, {"gamma": -50.0}, []),
        ({"gamma": -450.0}, {"gamma": -51.0}, ["gamma"]),
        ({"vega": -900.0}, {"vega": -100.0}, []),
        ({"vega": -900.0}, {"vega": -101.0}, ["vega"]),
        ({"theta": 480.0}, {"theta": 20.0}, []),
        ({"theta": 480.0}, {"theta": 21.0}, ["theta"]),
    ],
)
def test_greek_limits_hold_up_to_and_including_the_limit(
    book: dict[str, float], added: dict[str, float], expected: list[str]
) -> None:
    assert names(Exposure(**book), entry(**added)) == expected


def test_the_rejection_says_which_limit_what_value_and_why() -> None:
    (violation,) = check_entry(Exposure(delta=180.0), entry(delta=30.0), LIMITS, BUYING_POWER)

    assert violation.limit is LimitName.DELTA
    assert (violation.limit_value, violation.value) == (200.0, 210.0)
    assert violation.reason == "|delta| 210.00 > 200"


@pytest.mark.parametrize(("open_now", "expected"), [(19, []), (20, ["open_strategies"])])
def test_max_open_strategies(open_now: int, expected: list[str]) -> None:
    spread_out = tuple((f"S{i}", 500.0) for i in range(open_now))
    book = Exposure(open_strategies=open_now, max_loss_by_symbol=spread_out)

    assert names(book, entry(underlying="S0", max_loss=1.0)) == expected


@pytest.mark.parametrize(("open_now", "expected"), [(3, []), (4, ["concentration:SPY"])])
def test_concentration_counts_from_the_configured_number_of_strategies(
    open_now: int, expected: list[str]
) -> None:
    """SPY would hold 16,000 of the 50,000 risk budget (32%); checked from the 5th on."""
    others = (("DIA", 5_000.0), ("IWM", 5_000.0), ("QQQ", 5_000.0))
    book = Exposure(open_strategies=open_now, max_loss_by_symbol=others)

    assert names(book, entry(max_loss=16_000.0)) == expected


def test_concentration_within_the_limit_passes() -> None:
    book = Exposure(
        open_strategies=9,
        max_loss_by_symbol=(("DIA", 10_000.0), ("IWM", 10_000.0), ("QQQ", 10_000.0)),
    )
    # 40,000 in use, 10,000 (20% of the 50,000 budget) on each underlying
    assert names(book, entry(max_loss=10_000.0)) == []


def test_an_even_book_on_three_underlyings_is_not_concentrated() -> None:
    """Each symbol holds a third of the book's max loss but only 6% of the risk budget: the
    book's total alone would call that concentrated (33% > 30%) and refuse every entry."""
    even = (("IWM", 3_000.0), ("QQQ", 3_000.0), ("SPY", 2_500.0))
    book = Exposure(open_strategies=17, max_loss_by_symbol=even)

    assert names(book, entry(max_loss=500.0)) == []


def test_concentration_of_a_book_past_its_budget_is_measured_by_its_total() -> None:
    """60,000 of max loss against a 50,000 budget: SPY's 30,000 is half of the total."""
    book = Exposure(open_strategies=6, max_loss_by_symbol=(("QQQ", 30_000.0),))
    found = check_entry(book, entry(max_loss=30_000.0), LIMITS, BUYING_POWER)

    concentration = {v.key: v.value for v in found}
    assert concentration["concentration:SPY"] == pytest.approx(0.5)
    assert concentration["concentration:QQQ"] == pytest.approx(0.5)


@pytest.mark.parametrize(("margin", "expected"), [(10_000.0, []), (10_001.0, ["buying_power"])])
def test_buying_power_use(margin: float, expected: list[str]) -> None:
    """40,000 of max loss in use; the limit is 50% of 100,000."""
    book = Exposure(open_strategies=1, max_loss_by_symbol=(("SPY", 40_000.0),))
    candidate = replace(entry(max_loss=100.0), margin=margin)

    assert names(book, candidate) == expected


def test_every_broken_limit_is_listed() -> None:
    book = Exposure(delta=199.0, gamma=-499.0, open_strategies=20)

    assert names(book, entry(delta=2.0, gamma=-2.0, max_loss=20_000.0)) == [
        "delta",
        "gamma",
        "open_strategies",
        "concentration:SPY",
    ]


def test_buying_power_must_be_positive() -> None:
    with pytest.raises(ValueError, match=r"buying_power = 0\.0"):
        check_entry(Exposure(), entry(), LIMITS, 0.0)


def test_a_candidate_from_a_strategy_matches_an_independent_bsm_calculation() -> None:
    spot, years, rate, vol = 452.0, 37 / 365, 0.05, 0.17
    strikes = np.array([420.0, 430.0, 470.0, 480.0])
    calls = np.array([False, False, True, True])
    ratios = np.array([1, -1, -1, 1])
    priced = bsm_price_greeks(spot, strikes, years, rate, 0.0, vol, calls)
    strategy = Strategy.propose(
        "ic-new", StrategyKind.IRON_CONDOR, CONDOR, as_of=date(2024, 1, 10), entry_premium=2.1
    )
    per_share = {
        leg.contract: Greeks(
            float(priced.delta[i]),
            float(priced.gamma[i]),
            float(priced.theta[i]),
            float(priced.vega[i]),
        )
        for i, leg in enumerate(CONDOR)
    }
    intent = OrderIntent("ic-new", IntentKind.OPEN, strategy.legs, 3, -2.1)

    candidate = EntryCandidate.from_strategy(intent, strategy, per_share)

    contracts = ratios * 3 * 100
    assert candidate.greeks.delta == pytest.approx(float(np.sum(priced.delta * contracts)))
    assert candidate.greeks.gamma == pytest.approx(float(np.sum(priced.gamma * contracts)))
    assert candidate.greeks.theta == pytest.approx(float(np.sum(priced.theta * contracts)) / 365)
    assert candidate.greeks.vega == pytest.approx(float(np.sum(priced.vega * contracts)) / 100)
    assert candidate.max_loss == pytest.approx((10 - 2.1) * 100 * 3)
    assert candidate.underlying == "SPY"


def test_a_closing_intent_is_no_candidate() -> None:
    intent = OrderIntent("x", IntentKind.CLOSE, CONDOR, 1, 1.0)

    with pytest.raises(ValueError, match="expected open or roll"):
        EntryCandidate(intent, "SPY", Greeks.zero(), 100.0)


def book_frame(*rows: tuple[str, str, bool, float, float, float | None]) -> pl.DataFrame:
    """Strategies as (id, underlying, managed, delta, vega, max_loss)."""
    frame = pl.DataFrame(
        rows,
        schema={
            "strategy_id": pl.String,
            "underlying": pl.String,
            "managed": pl.Boolean,
            "delta": pl.Float64,
            "vega": pl.Float64,
            "max_loss": pl.Float64,
        },
        orient="row",
    )
    return frame.with_columns(gamma=pl.lit(0.0), theta=pl.lit(0.0))


def test_the_exposure_of_a_book_sums_every_strategy_managed_or_not() -> None:
    book = book_frame(
        ("a", "SPY", True, 120.0, -10.0, 800.0), ("b", "QQQ", False, -20.0, 5.0, None)
    )
    exposure = Exposure.of(ArrayTable.of_frame(book))

    assert (exposure.delta, exposure.vega, exposure.open_strategies) == (100.0, -5.0, 2)
    assert exposure.max_loss_by_symbol == (("SPY", 800.0),)


def test_unknown_greeks_count_as_zero_and_losses_sum_per_underlying_in_symbol_order() -> None:
    book = book_frame(
        ("a", "SPY", True, 10.0, 1.0, 300.0),
        ("b", "IWM", True, 5.0, 2.0, 200.0),
        ("c", "SPY", True, 1.0, 4.0, 100.0),
    ).with_columns(delta=pl.when(pl.col("strategy_id") == "b").then(None).otherwise("delta"))
    exposure = Exposure.of(ArrayTable.of_frame(book))

    assert (exposure.delta, exposure.vega) == (11.0, 7.0)
    assert exposure.max_loss_by_symbol == (("IWM", 200.0), ("SPY", 400.0))
    assert Exposure.of(ArrayTable.of_frame(book.head(0))) == Exposure()


def test_a_breach_targets_the_managed_strategy_adding_most_to_it() -> None:
    book = book_frame(
        ("small", "SPY", True, 60.0, 0.0, 500.0),
        ("big", "QQQ", True, 120.0, 0.0, 500.0),
        ("hedge", "IWM", True, -40.0, 0.0, 500.0),
        ("adopted", "SPY", False, 150.0, 0.0, 500.0),
    )
    (breach,) = breaches(ArrayTable.of_frame(book), LIMITS, BUYING_POWER)

    assert breach.violation.key == "delta"
    assert breach.violation.value == pytest.approx(290.0)
    assert (breach.target, breach.contribution) == ("big", 120.0)


def test_a_short_breach_targets_the_most_negative_contributor() -> None:
    book = book_frame(("a", "SPY", True, -150.0, 0.0, 1.0), ("b", "QQQ", True, -60.0, 0.0, 1.0))

    assert breaches(ArrayTable.of_frame(book), LIMITS, BUYING_POWER)[0].target == "a"


def test_a_concentration_breach_targets_the_largest_risk_on_that_symbol() -> None:
    rows = [(f"q{i}", "QQQ", True, 0.0, 0.0, 1_000.0) for i in range(4)]
    rows += [
        ("spy-small", "SPY", True, 0.0, 0.0, 6_000.0),
        ("spy-big", "SPY", True, 0.0, 0.0, 12_000.0),
    ]
    (breach,) = breaches(ArrayTable.of_frame(book_frame(*rows)), LIMITS, BUYING_POWER)

    assert breach.violation.key == "concentration:SPY"
    assert breach.violation.value == pytest.approx(18_000 / 50_000)
    assert breach.target == "spy-big"


def test_a_breach_nobody_managed_adds_to_has_no_target() -> None:
    book = book_frame(
        ("adopted", "SPY", False, 250.0, 0.0, 1.0), ("mine", "QQQ", True, -5.0, 0.0, 1.0)
    )
    found = breaches(ArrayTable.of_frame(book), LIMITS, BUYING_POWER)

    assert found[0].target is None
    assert limit_targets(found).height == 0


def test_no_targets_are_a_fresh_empty_frame_each_time() -> None:
    book = book_frame(("a", "SPY", True, 260.0, -1500.0, 1.0))
    first = limit_targets(())
    first.extend(limit_targets(breaches(ArrayTable.of_frame(book), LIMITS, BUYING_POWER)))
    second = limit_targets(())

    assert first.height == 2
    assert second.schema == LIMIT_TARGET_SCHEMA
    assert second.height == 0


def test_limit_targets_feed_rule_twelve() -> None:
    book = book_frame(("a", "SPY", True, 260.0, -1500.0, 1.0))
    targets = limit_targets(breaches(ArrayTable.of_frame(book), LIMITS, BUYING_POWER))

    assert targets.schema == LIMIT_TARGET_SCHEMA
    assert targets.rows() == [
        ("a", "delta", 200.0, 260.0, 260.0),
        ("a", "vega", 1000.0, -1500.0, 1500.0),
    ]


def test_the_monitor_records_a_breach_when_it_starts_and_when_it_ends() -> None:
    over = book_frame(("a", "SPY", True, 260.0, 0.0, 1.0))
    within = book_frame(("a", "SPY", True, 150.0, 0.0, 1.0))
    first = LimitMonitor().update(ArrayTable.of_frame(over), LIMITS, BUYING_POWER, NOW)
    again = first.monitor.update(ArrayTable.of_frame(over), LIMITS, BUYING_POWER, NOW)
    cleared = again.monitor.update(ArrayTable.of_frame(within), LIMITS, BUYING_POWER, NOW)

    (breached,) = first.events
    assert breached.kind is RiskEventKind.LIMIT_BREACHED
    assert (breached.limit, breached.value, breached.limit_value) == ("delta", 260.0, 200.0)
    assert breached.strategy_id == "a"
    assert "reduce a" in breached.reason
    assert again.events == ()
    assert again.targets.height == 1
    assert [e.kind for e in cleared.events] == [RiskEventKind.LIMIT_CLEARED]
    assert cleared.monitor.breached == frozenset()
