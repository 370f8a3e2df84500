"""Session inputs of the simulated market: bars, rate, VIX and the realized-vol scale."""

from __future__ import annotations

import math
from datetime import date

import pytest

from v6.market.daily import (
    VOL_RATIO_BOUNDS,
    daily_bar,
    session_inputs,
    vol_ratio,
)


def test_daily_bar_is_the_real_one() -> None:
    bar = daily_bar("SPY", date(2020, 3, 23))

    assert bar.close == pytest.approx(222.95, abs=0.005)
    assert bar.low <= min(bar.open, bar.close) <= bar.high


def test_missing_bars_are_reported_with_the_covered_range() -> None:
    with pytest.raises(ValueError, match=r"no SPY bar on 2031-01-02.*1993-01-29"):
        daily_bar("SPY", date(2031, 1, 2))


def test_session_inputs_read_vix_and_convert_the_rate() -> None:
    inputs = session_inputs(date(2020, 3, 16))

    assert inputs.vix_close == 82.69
    assert 20 < inputs.vix_open < 82.69
    discount = 0.0024  # FRED DTB3 on 2020-03-16
    assert inputs.rate == pytest.approx(-math.log(1 - discount * 91 / 360) * 365 / 91, rel=1e-12)
    assert inputs.vix_at(0.0) == inputs.vix_open
    assert inputs.vix_at(1.0) == inputs.vix_close


def test_vix_open_falls_back_to_the_previous_close() -> None:
    """2006-02-08 is one of the rows whose open Cboe's file contradicts (shipped as null)."""
    inputs = session_inputs(date(2006, 2, 8))
    previous = session_inputs(date(2006, 2, 7))

    assert inputs.vix_open == previous.vix_close


def test_no_rate_before_the_t_bill_series() -> None:
    with pytest.raises(ValueError, match="no T-bill rate"):
        session_inputs(date(1999, 6, 1))


def test_vol_ratio_is_one_for_spy_and_clipped_for_others() -> None:
    assert vol_ratio("SPY", date(2024, 3, 1)) == 1.0
    for symbol in ("QQQ", "IWM"):
        ratio = vol_ratio(symbol, date(2024, 3, 1))
        assert VOL_RATIO_BOUNDS[0] <= ratio <= VOL_RATIO_BOUNDS[1]
        assert ratio > 1.0, symbol


def test_vol_ratio_uses_only_the_days_before() -> None:
    """2020-03-16's -13 % QQQ day is not in the ratio of that morning."""
    before = vol_ratio("QQQ", date(2020, 3, 16))

    assert before == vol_ratio("QQQ", date(2020, 3, 16))
    assert before != vol_ratio("QQQ", date(2020, 3, 17))
