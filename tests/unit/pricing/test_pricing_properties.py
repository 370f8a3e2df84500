"""Invariants of the model, checked on generated inputs: put-call parity, monotonicity in
volatility, and the implied-volatility round trip."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from v6.pricing import bsm_price, bsm_price_greeks, implied_vol


@dataclass(frozen=True)
class Market:
    S: float
    K: float
    T: float
    r: float
    q: float

    @property
    def spot_df(self) -> float:
        return math.exp(-self.q * self.T)

    @property
    def strike_df(self) -> float:
        return math.exp(-self.r * self.T)


markets = st.builds(
    lambda S, moneyness, T, r, q: Market(S, S * moneyness, T, r, q),
    S=st.floats(1.0, 5_000.0),
    moneyness=st.floats(0.5, 2.0),
    T=st.floats(1 / 365, 5.0),
    r=st.floats(-0.02, 0.15),
    q=st.floats(0.0, 0.10),
)
vols = st.floats(0.01, 2.0)
BOTH_SIDES = np.array([True, False])


@settings(max_examples=300, deadline=None)
@given(market=markets, sigma=vols)
def test_put_call_parity_for_price_and_every_greek(market: Market, sigma: float) -> None:
    """C - P = S e^(-qT) - K e^(-rT), and the same identity differentiated for each Greek."""
    m = market
    result = bsm_price_greeks(m.S, m.K, m.T, m.r, m.q, sigma, BOTH_SIDES)
    scale = m.S + m.K

    def call_minus_put(name: str) -> float:
        call, put = getattr(result, name)
        return float(call - put)

    parity = {
        "price": (m.S * m.spot_df - m.K * m.strike_df, 1e-12 * scale),
        "delta": (m.spot_df, 1e-12),
        "gamma": (0.0, 1e-12 / m.S),
        "vega": (0.0, 1e-12 * scale),
        "theta": (m.q * m.S * m.spot_df - m.r * m.K * m.strike_df, 1e-11 * scale),
        "rho": (m.K * m.T * m.strike_df, 1e-11 * scale),
    }
    for name, (expected, tolerance) in parity.items():
        assert math.isclose(call_minus_put(name), expected, abs_tol=tolerance), name


@settings(max_examples=300, deadline=None)
@given(market=markets, low=vols, high=vols)
def test_price_rises_with_volatility_and_vega_is_positive(
    market: Market, low: float, high: float
) -> None:
    m = market
    low, high = min(low, high), max(low, high)
    lower = bsm_price_greeks(m.S, m.K, m.T, m.r, m.q, low, BOTH_SIDES)
    higher = bsm_price(m.S, m.K, m.T, m.r, m.q, high, BOTH_SIDES)

    assert np.all(higher >= lower.price - 1e-13 * (m.S + m.K))
    assert np.all(lower.vega >= 0.0)


@settings(max_examples=300, deadline=None)
@given(market=markets, sigma=vols, is_call=st.booleans())
def test_implied_vol_round_trip(market: Market, sigma: float, is_call: bool) -> None:
    """Quotable prices (time value at least 1e-6 of spot) give back sigma to 1e-8; any other
    price gives NaN or a volatility that reprices it to within rounding."""
    m = market
    price = float(bsm_price(m.S, m.K, m.T, m.r, m.q, sigma, is_call))
    sign = 1.0 if is_call else -1.0
    time_value = price - max(sign * (m.S * m.spot_df - m.K * m.strike_df), 0.0)

    vol = float(implied_vol(price, m.S, m.K, m.T, m.r, m.q, is_call))

    if time_value >= 1e-6 * m.S:
        assert math.isclose(vol, sigma, abs_tol=1e-8)
    elif not math.isnan(vol):
        repriced = float(bsm_price(m.S, m.K, m.T, m.r, m.q, vol, is_call))
        assert math.isclose(repriced, price, rel_tol=1e-9, abs_tol=1e-13 * (m.S + m.K))
