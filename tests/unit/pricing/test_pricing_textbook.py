"""BSM price and Greeks against published textbook values (Hull; Haug via QuantLib's tests)."""

from __future__ import annotations

import numpy as np
import pytest

from v6.pricing import bsm_price, bsm_price_greeks


def test_hull_greek_letters_example() -> None:
    """Hull, "Options, Futures, and Other Derivatives", chapter "The Greek Letters": a call with
    S = 49, K = 50, r = 5 %, sigma = 20 %, T = 20 weeks, no dividend. Hull prints the values
    rounded as below; each must hold to half a unit of its last printed digit."""
    greeks = bsm_price_greeks(S=49.0, K=50.0, T=20 / 52, r=0.05, q=0.0, sigma=0.20, is_call=True)

    assert float(greeks.price) == pytest.approx(2.40, abs=0.005)
    assert float(greeks.delta) == pytest.approx(0.522, abs=0.0005)
    assert float(greeks.gamma) == pytest.approx(0.066, abs=0.0005)
    assert float(greeks.theta) == pytest.approx(-4.31, abs=0.005)  # per year
    assert float(greeks.vega) == pytest.approx(12.1, abs=0.05)  # per 1.00 of volatility
    assert float(greeks.rho) == pytest.approx(8.91, abs=0.005)  # per 1.00 of rate


# E. G. Haug, "The Complete Guide to Option Pricing Formulas" (1998), pp. 2-8, 24 and 27, as
# tabulated in QuantLib's test-suite/europeanoption.cpp, EuropeanOptionTest::testValues
# (github.com/lballabio/QuantLib), where the analytic engine must match them to 1e-4.
# Columns: is_call, K, S, q, r, T, sigma, price.
HAUG_PRICES = [
    (True, 65.00, 60.00, 0.00, 0.08, 0.25, 0.30, 2.1334),
    (False, 95.00, 100.00, 0.05, 0.10, 0.50, 0.20, 2.4648),
    (False, 19.00, 19.00, 0.10, 0.10, 0.75, 0.28, 1.7011),
    (True, 19.00, 19.00, 0.10, 0.10, 0.75, 0.28, 1.7011),
    (True, 1.60, 1.56, 0.08, 0.06, 0.50, 0.12, 0.0291),
    (False, 70.00, 75.00, 0.05, 0.10, 0.50, 0.35, 4.0870),
    (True, 100.00, 90.00, 0.10, 0.10, 0.10, 0.15, 0.0205),
    (True, 100.00, 100.00, 0.10, 0.10, 0.10, 0.15, 1.8734),
    (True, 100.00, 110.00, 0.10, 0.10, 0.10, 0.15, 9.9413),
    (True, 100.00, 90.00, 0.10, 0.10, 0.10, 0.25, 0.3150),
    (True, 100.00, 100.00, 0.10, 0.10, 0.10, 0.25, 3.1217),
    (True, 100.00, 110.00, 0.10, 0.10, 0.10, 0.25, 10.3556),
    (True, 100.00, 90.00, 0.10, 0.10, 0.10, 0.35, 0.9474),
    (True, 100.00, 100.00, 0.10, 0.10, 0.10, 0.35, 4.3693),
    (True, 100.00, 110.00, 0.10, 0.10, 0.10, 0.35, 11.1381),
    (True, 100.00, 90.00, 0.10, 0.10, 0.50, 0.15, 0.8069),
    (True, 100.00, 100.00, 0.10, 0.10, 0.50, 0.15, 4.0232),
    (True, 100.00, 110.00, 0.10, 0.10, 0.50, 0.15, 10.5769),
    (True, 100.00, 90.00, 0.10, 0.10, 0.50, 0.25, 2.7026),
    (True, 100.00, 100.00, 0.10, 0.10, 0.50, 0.25, 6.6997),
    (True, 100.00, 110.00, 0.10, 0.10, 0.50, 0.25, 12.7857),
    (True, 100.00, 90.00, 0.10, 0.10, 0.50, 0.35, 4.9329),
    (True, 100.00, 100.00, 0.10, 0.10, 0.50, 0.35, 9.3679),
    (True, 100.00, 110.00, 0.10, 0.10, 0.50, 0.35, 15.3086),
    (False, 100.00, 90.00, 0.10, 0.10, 0.10, 0.15, 9.9210),
    (False, 100.00, 100.00, 0.10, 0.10, 0.10, 0.15, 1.8734),
    (False, 100.00, 110.00, 0.10, 0.10, 0.10, 0.15, 0.0408),
    (False, 100.00, 90.00, 0.10, 0.10, 0.10, 0.25, 10.2155),
    (False, 100.00, 100.00, 0.10, 0.10, 0.10, 0.25, 3.1217),
    (False, 100.00, 110.00, 0.10, 0.10, 0.10, 0.25, 0.4551),
    (False, 100.00, 90.00, 0.10, 0.10, 0.10, 0.35, 10.8479),
    (False, 100.00, 100.00, 0.10, 0.10, 0.10, 0.35, 4.3693),
    (False, 100.00, 110.00, 0.10, 0.10, 0.10, 0.35, 1.2376),
    (False, 100.00, 90.00, 0.10, 0.10, 0.50, 0.15, 10.3192),
    (False, 100.00, 100.00, 0.10, 0.10, 0.50, 0.15, 4.0232),
    (False, 100.00, 110.00, 0.10, 0.10, 0.50, 0.15, 1.0646),
    (False, 100.00, 90.00, 0.10, 0.10, 0.50, 0.25, 12.2149),
    (False, 100.00, 100.00, 0.10, 0.10, 0.50, 0.25, 6.6997),
    (False, 100.00, 110.00, 0.10, 0.10, 0.50, 0.25, 3.2734),
    (False, 100.00, 90.00, 0.10, 0.10, 0.50, 0.35, 14.4452),
    (False, 100.00, 100.00, 0.10, 0.10, 0.50, 0.35, 9.3679),
    (False, 100.00, 110.00, 0.10, 0.10, 0.50, 0.35, 5.7963),
    (True, 40.00, 42.00, 0.08, 0.04, 0.75, 0.35, 5.0975),
]


def test_haug_price_table_in_one_vectorized_call() -> None:
    columns = (np.array(column) for column in zip(*HAUG_PRICES, strict=True))
    is_call, K, S, q, r, T, sigma, expected = columns

    prices = bsm_price(S, K, T, r, q, sigma, is_call.astype(bool))

    np.testing.assert_allclose(prices, expected, rtol=0, atol=1e-4)


# Haug (1998) pp. 11-16, as tabulated in QuantLib's test-suite/europeanoption.cpp,
# EuropeanOptionTest::testGreekValues (tolerance 1e-4 there). QuantLib's theta is per year and
# its thetaPerDay divides by 365; its vega and rho are per 1.00; elasticity = delta S / price.
# Columns: Greek, is_call, K, S, q, r, T, sigma, value.
HAUG_GREEKS = [
    ("delta", True, 100.00, 105.00, 0.10, 0.10, 0.5, 0.36, 0.5946),
    ("delta", False, 100.00, 105.00, 0.10, 0.10, 0.5, 0.36, -0.3566),
    ("elasticity", False, 100.00, 105.00, 0.10, 0.10, 0.5, 0.36, -4.8775),
    ("gamma", True, 60.00, 55.00, 0.00, 0.10, 0.75, 0.30, 0.0278),
    ("gamma", False, 60.00, 55.00, 0.00, 0.10, 0.75, 0.30, 0.0278),
    ("vega", True, 60.00, 55.00, 0.00, 0.10, 0.75, 0.30, 18.9358),
    ("vega", False, 60.00, 55.00, 0.00, 0.10, 0.75, 0.30, 18.9358),
    ("theta", False, 405.00, 430.00, 0.05, 0.07, 1 / 12, 0.20, -31.1924),
    ("theta_per_day", False, 405.00, 430.00, 0.05, 0.07, 1 / 12, 0.20, -0.0855),
    ("rho", True, 75.00, 72.00, 0.00, 0.09, 1.0, 0.19, 38.7325),
]


@pytest.mark.parametrize(
    ("greek", "is_call", "K", "S", "q", "r", "T", "sigma", "expected"), HAUG_GREEKS
)
def test_haug_greek_values(
    greek: str,
    is_call: bool,
    K: float,
    S: float,
    q: float,
    r: float,
    T: float,
    sigma: float,
    expected: float,
) -> None:
    result = bsm_price_greeks(S, K, T, r, q, sigma, is_call)
    derived = {
        "elasticity": result.delta * S / result.price,
        "theta_per_day": result.theta / 365.0,
    }
    value = derived[greek] if greek in derived else getattr(result, greek)

    assert float(value) == pytest.approx(expected, abs=1e-4)
