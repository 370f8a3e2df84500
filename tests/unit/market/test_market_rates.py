"""T-bill discount quotes to continuous rates, checked against the textbook bill arithmetic."""

from __future__ import annotations

import math

import numpy as np
import pytest

from v6.market.rates import continuous_rate_from_discount


def test_a_five_percent_discount_bill_is_a_higher_continuous_rate() -> None:
    # 91-day bill at 5 % discount: price 0.987361..., held 91 days -> continuous ACT/365 rate.
    price = 1 - 0.05 * 91 / 360
    assert price == pytest.approx(0.98736111, abs=1e-8)
    rate = continuous_rate_from_discount(0.05)
    assert float(rate) == pytest.approx(math.log(1 / price) * 365 / 91, rel=1e-15)
    assert float(rate) == pytest.approx(0.05102, abs=1e-5)


def test_zero_discount_is_zero_rate_and_arrays_keep_their_shape() -> None:
    rates = continuous_rate_from_discount(np.array([[0.0, 0.01], [0.02, 0.0527]]))
    assert rates.shape == (2, 2)
    assert rates[0, 0] == 0.0
    assert np.all(np.diff(rates.ravel()[[0, 1, 2, 3]]) > 0)


def test_a_discount_that_prices_the_bill_at_zero_or_less_is_not_a_rate() -> None:
    assert np.isnan(continuous_rate_from_discount(5.0))
