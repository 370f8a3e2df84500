"""Bad input, expired and zero-volatility options, broadcasting, and implied-vol bounds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from v6.pricing import BsmResult, bsm_price, bsm_price_greeks, implied_vol

GREEKS = ("price", "delta", "gamma", "theta", "vega", "rho")


def test_bad_elements_are_nan_and_leave_the_others_alone() -> None:
    S = np.array([100.0, np.nan, 0.0, -5.0, 100.0, 100.0, 100.0, 100.0, np.inf, 100.0])
    K = np.array([95.0, 95.0, 95.0, 95.0, 0.0, 95.0, 95.0, 95.0, 95.0, 95.0])
    T = np.array([0.5, 0.5, 0.5, 0.5, 0.5, np.inf, 0.5, 0.5, 0.5, 0.5])
    r = np.array([0.03, 0.03, 0.03, 0.03, 0.03, 0.03, np.nan, 0.03, 0.03, 0.03])
    sigma = np.array([0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, -0.1, 0.2, 0.2])
    good = np.zeros(10, dtype=bool)
    good[[0, 9]] = True

    result = bsm_price_greeks(S, K, T, r, 0.01, sigma, True)

    single = bsm_price_greeks(100.0, 95.0, 0.5, 0.03, 0.01, 0.2, True)
    for name in GREEKS:
        values = getattr(result, name)
        assert np.all(np.isnan(values[~good])), name
        np.testing.assert_array_equal(values[good], float(getattr(single, name)))
    assert np.all(np.isnan(bsm_price(S, K, T, r, 0.01, sigma, True)[~good]))


def test_expired_options_are_worth_their_payoff_with_a_step_delta() -> None:
    """At the strike the delta is the midpoint 0.5, the limit of N(d1) as T -> 0."""
    S = np.array([90.0, 100.0, 110.0, 90.0, 100.0, 110.0])
    is_call = np.array([True, True, True, False, False, False])

    for T in (0.0, -0.01):
        result = bsm_price_greeks(S, 100.0, T, 0.05, 0.02, 0.3, is_call)

        np.testing.assert_array_equal(result.price, [0.0, 0.0, 10.0, 10.0, 0.0, 0.0])
        np.testing.assert_array_equal(result.delta, [0.0, 0.5, 1.0, -1.0, -0.5, 0.0])
        for name in ("gamma", "theta", "vega", "rho"):
            np.testing.assert_array_equal(getattr(result, name), 0.0)


def test_zero_volatility_is_the_limit_of_small_volatility() -> None:
    """With sigma = 0 the forward is certain: discounted forward intrinsic value and its
    derivatives. They must agree with the ordinary formula at a tiny volatility."""
    S = np.array([80.0, 120.0, 80.0, 120.0])
    is_call = np.array([True, True, False, False])
    args = (S, 100.0, 0.75, 0.04, 0.01)

    exact = bsm_price_greeks(*args, 0.0, is_call)
    nearby = bsm_price_greeks(*args, 1e-6, is_call)

    for name in GREEKS:
        np.testing.assert_allclose(getattr(exact, name), getattr(nearby, name), atol=1e-9)
    spot_df, strike_df = math.exp(-0.0075), math.exp(-0.03)
    np.testing.assert_allclose(
        exact.price, [0.0, 120 * spot_df - 100 * strike_df, 100 * strike_df - 80 * spot_df, 0.0]
    )
    np.testing.assert_allclose(exact.delta, [0.0, spot_df, -spot_df, 0.0])


def test_arguments_broadcast_and_scalars_give_zero_dimensional_arrays() -> None:
    strikes = np.array([[90.0], [100.0]])
    spots = np.array([95.0, 100.0, 105.0])

    grid = bsm_price_greeks(spots, strikes, 0.5, 0.03, 0.0, 0.2, np.array([True, False, True]))
    scalar = bsm_price_greeks(100.0, 100.0, 0.5, 0.03, 0.0, 0.2, False)

    for name in GREEKS:
        assert getattr(grid, name).shape == (2, 3)
        assert getattr(scalar, name).shape == ()
    assert grid.price[1, 1] == scalar.price
    assert implied_vol(np.array([[5.0], [6.0]]), spots, 100.0, 0.5, 0.03, 0.0, True).shape == (2, 3)


def test_result_is_immutable() -> None:
    result = bsm_price_greeks(100.0, 100.0, 1.0, 0.0, 0.0, 0.2, True)

    assert isinstance(result, BsmResult)
    with pytest.raises(AttributeError):
        result.price = result.delta  # type: ignore[misc]


def test_bad_arguments_raise_errors_naming_them() -> None:
    with pytest.raises(TypeError, match="is_call must be a bool"):
        bsm_price(100.0, 100.0, 1.0, 0.0, 0.0, 0.2, np.array([1, 0]))
    with pytest.raises(ValueError, match=r"S\(3,\), K\(2,\)"):
        bsm_price(np.ones(3), np.ones(2), 1.0, 0.0, 0.0, 0.2, True)
    with pytest.raises(TypeError, match="sigma must be a number"):
        bsm_price_greeks(100.0, 100.0, 1.0, 0.0, 0.0, "high", True)
    with pytest.raises(ValueError, match=r"price\(2,\), S\(3,\)"):
        implied_vol(np.ones(2), np.ones(3), 1.0, 1.0, 0.0, 0.0, True)


def test_implied_vol_is_nan_outside_the_no_arbitrage_bounds() -> None:
    """Call bounds: forward intrinsic < price < S e^(-qT); put: forward intrinsic < price <
    K e^(-rT). Exactly on a bound, beyond it, or negative: NaN, in one call, no exception."""
    S, K, T, r, q = 100.0, 90.0, 0.5, 0.04, 0.01
    call_floor = S * math.exp(-q * T) - K * math.exp(-r * T)
    put_cap = K * math.exp(-r * T)
    prices = np.array(
        [call_floor, call_floor - 0.01, S * math.exp(-q * T), S * 2, -1.0, 0.0, put_cap, 12.0]
    )
    is_call = np.array([True, True, True, True, True, False, False, True])

    vols = implied_vol(prices, S, K, T, r, q, is_call)

    assert np.all(np.isnan(vols[:-1]))
    assert float(bsm_price(S, K, T, r, q, vols[-1], True)) == pytest.approx(12.0, rel=1e-12)


@pytest.mark.parametrize(
    ("price", "S", "K", "T", "r", "q"),
    [
        (5.0, 100.0, 100.0, 0.0, 0.03, 0.0),
        (5.0, 100.0, 100.0, -1.0, 0.03, 0.0),
        (np.nan, 100.0, 100.0, 1.0, 0.03, 0.0),
        (np.inf, 100.0, 100.0, 1.0, 0.03, 0.0),
        (5.0, np.nan, 100.0, 1.0, 0.03, 0.0),
        (5.0, 0.0, 100.0, 1.0, 0.03, 0.0),
        (5.0, 100.0, -100.0, 1.0, 0.03, 0.0),
        (5.0, 100.0, 100.0, np.inf, 0.03, 0.0),
        (5.0, 100.0, 100.0, 1.0, np.nan, 0.0),
        (5.0, 100.0, 100.0, 1.0, 0.03, np.inf),
    ],
)
def test_implied_vol_is_nan_for_expired_or_non_finite_input(
    price: float, S: float, K: float, T: float, r: float, q: float
) -> None:
    assert math.isnan(float(implied_vol(price, S, K, T, r, q, True)))


def test_deep_in_the_money_time_value_below_rounding_noise_is_nan() -> None:
    """A time value of 1e-14 on a price of ~50 is below double rounding: no volatility in it.
    One of 1e-6 of the price still carries it, and the solve must find it."""
    S, K, T, r, q, sigma = 100.0, 50.0, 0.1, 0.02, 0.0, 0.25
    intrinsic = S - K * math.exp(-r * T)
    true_vol = 0.9
    priced = float(bsm_price(S, K, T, r, q, true_vol, True))
    time_value = priced - intrinsic

    vols = implied_vol(np.array([intrinsic + 1e-14, priced]), S, K, T, r, q, True)

    assert math.isnan(vols[0])
    assert time_value > 1e-6 * priced
    assert vols[1] == pytest.approx(true_vol, abs=1e-7)
    assert sigma < true_vol  # the 25 % vol would leave no time value at all here
