"""Payoff metrics against textbook examples.

Hull, *Options, Futures, and Other Derivatives* (chapter "Trading Strategies Involving
Options"): the bull spread bought with a 30 call at 3 and a 35 call sold at 1, and the bear
spread bought with a 35 put at 3 and a 30 put sold at 1, both cost 2 and pay at most 5. The
credit spread and iron condor figures are the standard OIC/Cboe definitions: max profit = net
credit, max loss = wing width - credit, breakevens = short strikes -/+ credit.
"""

import math
from collections.abc import Callable
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from v6.domain import (
    Leg,
    PayoffUndefinedError,
    Right,
    Strategy,
    StrategyKind,
    payoff_at_expiry,
    payoff_profile,
)

CALL, PUT = Right.CALL, Right.PUT
MakeLeg = Callable[..., Leg]


def test_bull_put_credit_spread(leg: MakeLeg) -> None:
    spread = Strategy(
        "bps", StrategyKind.VERTICAL, (leg(450, PUT, -1), leg(445, PUT, 1)), entry_premium=1.50
    )
    assert spread.max_profit == pytest.approx(150.0)
    assert spread.max_loss == pytest.approx(350.0)
    assert spread.breakevens == pytest.approx((448.50,))


def test_iron_condor(leg: MakeLeg) -> None:
    legs = (leg(440, PUT, 1), leg(445, PUT, -1), leg(470, CALL, -1), leg(475, CALL, 1))
    condor = Strategy("ic", StrategyKind.IRON_CONDOR, legs, entry_premium=2.00)
    profile = condor.payoff_profile()
    assert profile.max_profit == pytest.approx(200.0)
    assert profile.max_loss == pytest.approx(300.0)
    assert profile.breakevens == pytest.approx((443.0, 472.0))


def test_asymmetric_iron_condor_loses_most_on_the_wider_wing(leg: MakeLeg) -> None:
    legs = (leg(440, PUT, 1), leg(445, PUT, -1), leg(470, CALL, -1), leg(480, CALL, 1))
    condor = Strategy("ic", StrategyKind.IRON_CONDOR, legs, entry_premium=2.00)
    assert condor.max_profit == pytest.approx(200.0)
    assert condor.max_loss == pytest.approx(800.0)  # 10-wide call wing - 2.00 credit
    assert condor.breakevens == pytest.approx((443.0, 472.0))
    assert condor.payoff_at_expiry(442.0) == pytest.approx(-100.0)  # 5-wide put side loses 3
    assert condor.payoff_at_expiry(485.0) == pytest.approx(-800.0)


def test_hull_bull_call_debit_spread(leg: MakeLeg) -> None:
    legs = (leg(30, CALL, 1), leg(35, CALL, -1))
    spread = Strategy("bcs", StrategyKind.VERTICAL, legs, entry_premium=-2.0)  # 3 - 1 paid
    assert spread.max_profit == pytest.approx(300.0)
    assert spread.max_loss == pytest.approx(200.0)
    assert spread.breakevens == pytest.approx((32.0,))
    assert spread.payoff_at_expiry(33.0) == pytest.approx(100.0)


def test_hull_bear_put_debit_spread(leg: MakeLeg) -> None:
    legs = (leg(35, PUT, 1), leg(30, PUT, -1))
    spread = Strategy("bps", StrategyKind.VERTICAL, legs, entry_premium=-2.0)
    assert spread.max_profit == pytest.approx(300.0)
    assert spread.max_loss == pytest.approx(200.0)
    assert spread.breakevens == pytest.approx((33.0,))


def test_naked_short_call_has_unbounded_loss(leg: MakeLeg) -> None:
    naked = Strategy(
        "n", StrategyKind.CUSTOM, (leg(450, CALL, -1),), entry_premium=3.0, defined_risk=False
    )
    assert naked.max_profit == pytest.approx(300.0)
    assert naked.max_loss == math.inf
    assert naked.breakevens == pytest.approx((453.0,))


def test_long_straddle_has_unbounded_profit_and_two_breakevens(leg: MakeLeg) -> None:
    legs = (leg(100, CALL, 1), leg(100, PUT, 1))
    straddle = Strategy("s", StrategyKind.CUSTOM, legs, entry_premium=-7.0)
    assert straddle.max_profit == math.inf
    assert straddle.max_loss == pytest.approx(700.0)
    assert straddle.breakevens == pytest.approx((93.0, 107.0))


def test_short_put_loss_is_bounded_by_the_strike(leg: MakeLeg) -> None:
    naked_put = Strategy(
        "p", StrategyKind.CUSTOM, (leg(50, PUT, -1),), entry_premium=2.0, defined_risk=False
    )
    assert naked_put.max_loss == pytest.approx(4800.0)  # stock to zero: 50 - 2 per share


def test_ratio_of_one_unit_is_in_the_metrics(leg: MakeLeg) -> None:
    """A 1x2 put back-spread for a 1.00 credit; the legs are one unit's ratios."""
    legs = (leg(100, PUT, -1), leg(95, PUT, 2))
    spread = Strategy("r", StrategyKind.CUSTOM, legs, entry_premium=1.0)
    assert spread.payoff_at_expiry(95.0) == pytest.approx(-400.0)
    assert spread.max_loss == pytest.approx(400.0)
    assert spread.max_profit == pytest.approx(9100.0)  # at S = 0: 1 - 100 + 190 = 91 per share
    assert spread.breakevens == pytest.approx((91.0, 99.0))


def test_metrics_need_a_premium(leg: MakeLeg) -> None:
    spread = Strategy("v", StrategyKind.VERTICAL, (leg(450, PUT, -1), leg(445, PUT, 1)))
    with pytest.raises(PayoffUndefinedError, match="entry_premium is None"):
        _ = spread.max_loss


def test_metrics_are_undefined_across_expiries(leg: MakeLeg) -> None:
    legs = (leg(450, CALL, -1), leg(450, CALL, 1, expiry=date(2024, 2, 16)))
    calendar = Strategy("cal", StrategyKind.CUSTOM, legs, entry_premium=-1.0)
    with pytest.raises(
        PayoffUndefinedError,
        match=r"one expiry across the legs, got \['2024-01-19', '2024-02-16'\]",
    ):
        calendar.payoff_profile()


def test_metrics_are_undefined_across_underlyings(leg: MakeLeg) -> None:
    legs = (leg(450, PUT, -1), leg(445, PUT, 1), leg(380, PUT, 1, underlying="QQQ"))
    with pytest.raises(PayoffUndefinedError, match=r"one underlying .* \['QQQ', 'SPY'\]"):
        payoff_profile(legs, 1.0)


@pytest.mark.parametrize("spot", [-1.0, math.nan, math.inf])
def test_payoff_needs_a_real_spot(leg: MakeLeg, spot: float) -> None:
    with pytest.raises(PayoffUndefinedError, match="expected a finite price >= 0"):
        payoff_at_expiry((leg(450, PUT, -1),), 1.0, spot)


strikes = st.integers(min_value=1, max_value=400).map(lambda k: k * 2.5)
legs_strategy = st.lists(
    st.tuples(strikes, st.sampled_from(Right), st.integers(-3, 3).filter(bool)),
    min_size=1,
    max_size=4,
    unique_by=lambda t: (t[0], t[1]),
)
premiums = st.integers(min_value=-2000, max_value=2000).map(lambda c: c / 100)
spots = st.floats(min_value=0, max_value=1500, allow_nan=False)


@given(legs_strategy, premiums, spots)
def test_payoff_lies_between_the_extremes_and_is_zero_at_breakevens(
    leg: MakeLeg,
    specs: list[tuple[float, Right, int]],
    premium: float,
    spot: float,
) -> None:
    legs = tuple(leg(strike, right, quantity) for strike, right, quantity in specs)
    profile = payoff_profile(legs, premium)
    value = payoff_at_expiry(legs, premium, spot)
    assert -profile.max_loss - 1e-6 <= value <= profile.max_profit + 1e-6
    for breakeven in profile.breakevens:
        assert payoff_at_expiry(legs, premium, breakeven) == pytest.approx(0.0, abs=1e-6)
    assert list(profile.breakevens) == sorted(profile.breakevens)


@given(strikes, st.integers(min_value=1, max_value=8), premiums, st.sampled_from(Right))
def test_vertical_profit_plus_loss_is_the_width(
    leg: MakeLeg, low: float, steps: int, premium: float, right: Right
) -> None:
    legs = (leg(low, right, 1), leg(low + 2.5 * steps, right, -1))
    profile = payoff_profile(legs, premium)
    assert profile.max_profit + profile.max_loss == pytest.approx(2.5 * steps * 100)
