"""BSM price, Greeks and implied volatility against QuantLib (test-only reference pricer).

QuantLib's BlackCalculator is fed the forward ``S e^((r-q)T)``, the total deviation
``sigma sqrt(T)`` and the discount ``e^(-rT)``; its theta (per year), vega and rho (per 1.00) are
then the Black-Scholes-Merton ones for flat r and q, the same units as ours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pytest

from v6.pricing import bsm_price, bsm_price_greeks, implied_vol

ql = pytest.importorskip("QuantLib")

FloatArray = npt.NDArray[np.float64]
CASES = 10_000


@dataclass(frozen=True)
class Cases:
    S: FloatArray
    K: FloatArray
    T: FloatArray
    r: FloatArray
    q: FloatArray
    sigma: FloatArray
    is_call: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.S)


def random_cases(count: int, seed: int) -> Cases:
    """Spot 1..1000, strikes 0.5x..2x spot, 1 day..5 years, rates -2 %..15 %, vol 1 %..200 %."""
    rng = np.random.default_rng(seed)
    S = np.exp(rng.uniform(0.0, math.log(1000.0), count))
    return Cases(
        S=S,
        K=S * np.exp(rng.uniform(math.log(0.5), math.log(2.0), count)),
        T=np.exp(rng.uniform(math.log(1 / 365), math.log(5.0), count)),
        r=rng.uniform(-0.02, 0.15, count),
        q=rng.uniform(0.0, 0.10, count),
        sigma=np.exp(rng.uniform(math.log(0.01), math.log(2.0), count)),
        is_call=rng.random(count) < 0.5,
    )


def quantlib_calculator(cases: Cases, i: int) -> object:
    S, K, T, r, q = (float(a[i]) for a in (cases.S, cases.K, cases.T, cases.r, cases.q))
    option_type = ql.Option.Call if cases.is_call[i] else ql.Option.Put
    return ql.BlackCalculator(
        ql.PlainVanillaPayoff(option_type, K),
        S * math.exp((r - q) * T),
        float(cases.sigma[i]) * math.sqrt(T),
        math.exp(-r * T),
    )


def quantlib_greeks(cases: Cases) -> dict[str, FloatArray]:
    columns: dict[str, list[float]] = {
        name: [] for name in ("price", "delta", "gamma", "theta", "vega", "rho")
    }
    for i in range(len(cases)):
        calculator = quantlib_calculator(cases, i)
        S, T = float(cases.S[i]), float(cases.T[i])
        columns["price"].append(calculator.value())
        columns["delta"].append(calculator.delta(S))
        columns["gamma"].append(calculator.gamma(S))
        columns["theta"].append(calculator.theta(S, T))
        columns["vega"].append(calculator.vega(T))
        columns["rho"].append(calculator.rho(T))
    return {name: np.array(values) for name, values in columns.items()}


@pytest.fixture(scope="module")
def cases() -> Cases:
    return random_cases(CASES, seed=20261126)


@pytest.fixture(scope="module")
def reference(cases: Cases) -> dict[str, FloatArray]:
    return quantlib_greeks(cases)


def test_price_and_greeks_match_quantlib_on_random_cases(
    cases: Cases, reference: dict[str, FloatArray]
) -> None:
    """1e-9 relative, with an absolute floor in each Greek's own scale (spot for money amounts,
    1 for delta, 1/spot for gamma) for values that are close to zero."""
    ours = bsm_price_greeks(cases.S, cases.K, cases.T, cases.r, cases.q, cases.sigma, cases.is_call)
    floors = {
        "price": cases.S,
        "delta": 1.0,
        "gamma": 1.0 / cases.S,
        "theta": cases.S,
        "vega": cases.S,
        "rho": cases.S,
    }
    for name, expected in reference.items():
        error = np.abs(getattr(ours, name) - expected)
        allowed = 1e-9 * np.maximum(np.abs(expected), floors[name])
        worst = int(np.argmax(error / allowed))
        assert np.all(error <= allowed), (name, worst, getattr(ours, name)[worst], expected[worst])


def test_price_only_function_agrees_with_price_of_greeks(
    cases: Cases, reference: dict[str, FloatArray]
) -> None:
    prices = bsm_price(cases.S, cases.K, cases.T, cases.r, cases.q, cases.sigma, cases.is_call)

    np.testing.assert_allclose(prices, reference["price"], rtol=1e-9, atol=1e-9 * cases.S.max())


def forward_intrinsic(cases: Cases) -> FloatArray:
    sign = np.where(cases.is_call, 1.0, -1.0)
    forward_value = cases.S * np.exp(-cases.q * cases.T) - cases.K * np.exp(-cases.r * cases.T)
    intrinsic: FloatArray = np.maximum(sign * forward_value, 0.0)
    return intrinsic


def test_implied_vol_recovers_sigma_from_quantlib_prices(
    cases: Cases, reference: dict[str, FloatArray]
) -> None:
    """Round trip to 1e-8 on quotable prices: a time value (price minus forward intrinsic value)
    of at least 1e-6 of spot, i.e. a cent on a $10,000 underlying. Below that a price carries
    too few significant digits of volatility to pin sigma to 1e-8 from a double-precision price
    (QuantLib's own far-tail prices of 1e-16 are mostly rounding, for instance).
    """
    time_value = reference["price"] - forward_intrinsic(cases)
    quotable = time_value >= 1e-6 * cases.S

    vols = implied_vol(
        reference["price"], cases.S, cases.K, cases.T, cases.r, cases.q, cases.is_call
    )

    assert quotable.sum() > 3_000  # the rest have almost no time value at these strikes
    np.testing.assert_allclose(vols[quotable], cases.sigma[quotable], rtol=0, atol=1e-8)


@pytest.mark.parametrize(
    ("price", "S", "K", "T", "r", "q", "is_call"),
    [
        pytest.param(1e-6, 100.0, 200.0, 0.5, 0.03, 0.01, True, id="1e-6 call, strike 2x spot"),
        pytest.param(1e-6, 100.0, 50.0, 0.25, 0.03, 0.0, False, id="1e-6 put, strike half spot"),
        pytest.param(0.01, 450.0, 315.0, 30 / 365, 0.05, 0.015, False, id="0.01 SPY put 30% OTM"),
        pytest.param(1e-9, 4000.0, 5000.0, 7 / 365, 0.05, 0.015, True, id="1e-9 weekly call"),
    ],
)
def test_implied_vol_of_tiny_out_of_the_money_prices_matches_quantlib(
    price: float, S: float, K: float, T: float, r: float, q: float, is_call: bool
) -> None:
    """Our vol agrees with QuantLib's own solver run to 1e-14, and reprices to the input."""
    forward, discount = S * math.exp((r - q) * T), math.exp(-r * T)
    option_type = ql.Option.Call if is_call else ql.Option.Put
    quantlib_std_dev = ql.blackFormulaImpliedStdDev(
        option_type, K, forward, price, discount, 0.0, ql.nullDouble(), 1e-14, 1000
    )

    vol = float(implied_vol(price, S, K, T, r, q, is_call))

    assert vol == pytest.approx(quantlib_std_dev / math.sqrt(T), rel=1e-8)
    assert float(bsm_price(S, K, T, r, q, vol, is_call)) == pytest.approx(price, rel=1e-10)
