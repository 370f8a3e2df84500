"""Intraday paths: real open/high/low/close hit exactly, range kept, sessions, determinism."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from v6.market.calendar import nyse_calendar
from v6.market.daily import daily_bar
from v6.market.paths import (
    DailyBar,
    bridge_path,
    day_generator,
    intraday_path,
    session_times,
)

CALENDAR = nyse_calendar()
REAL_DAYS = [
    ("SPY", date(2020, 3, 16)),  # -11 %: open near the high, close near the low
    ("SPY", date(2020, 3, 24)),  # +9 %
    ("QQQ", date(2008, 10, 13)),
    ("IWM", date(2024, 7, 3)),  # half day
    ("SPY", date(2023, 9, 14)),
]


def assert_replays(prices: np.ndarray, bar: DailyBar) -> None:
    assert prices[0] == bar.open
    assert prices[-1] == bar.close
    assert prices.max() == bar.high
    assert prices.min() == bar.low
    assert np.isfinite(prices).all()


@pytest.mark.parametrize(("symbol", "day"), REAL_DAYS)
def test_real_days_hit_open_high_low_close_exactly(symbol: str, day: date) -> None:
    bar = daily_bar(symbol, day)

    path = intraday_path(bar, symbol, day, seed=7, step_minutes=5, calendar=CALENDAR)

    assert_replays(path.prices, bar)
    assert len(path.times) == len(path.prices)


@settings(max_examples=100, deadline=None)
@given(
    low=st.floats(1.0, 1000.0),
    spread=st.floats(0.0, 0.3),
    open_at=st.floats(0.0, 1.0),
    close_at=st.floats(0.0, 1.0),
    steps=st.integers(3, 400),
    seed=st.integers(0, 2**32),
)
def test_any_bar_is_replayed_within_its_range(
    low: float, spread: float, open_at: float, close_at: float, steps: int, seed: int
) -> None:
    high = low * (1.0 + spread)
    bar = DailyBar(
        open=min(max(low + open_at * (high - low), low), high),
        high=high,
        low=low,
        close=min(max(low + close_at * (high - low), low), high),
    )

    prices = bridge_path(bar, steps, np.random.default_rng(seed))

    assert prices.size == steps + 1
    assert_replays(prices, bar)


def test_extremes_at_the_open_or_close_stay_there() -> None:
    bar = DailyBar(open=100.0, high=100.0, low=95.0, close=95.0)

    prices = bridge_path(bar, 78, np.random.default_rng(3))

    assert prices[0] == 100.0
    assert prices[-1] == 95.0
    assert (prices[1:] < 100.0).all()
    assert (prices[:-1] > 95.0).all()


def test_a_flat_day_is_flat() -> None:
    bar = DailyBar(open=50.0, high=50.0, low=50.0, close=50.0)

    assert (bridge_path(bar, 10, np.random.default_rng(1)) == 50.0).all()


def test_full_and_half_sessions_have_the_right_steps() -> None:
    full = session_times(date(2024, 7, 2), 5, CALENDAR)
    half = session_times(date(2024, 7, 3), 5, CALENDAR)
    minute = session_times(date(2024, 7, 2), 1, CALENDAR)

    assert len(full) == 79
    assert len(half) == 43
    assert len(minute) == 391
    assert full[0] == datetime(2024, 7, 2, 13, 30, tzinfo=UTC)
    assert full[-1] == datetime(2024, 7, 2, 20, 0, tzinfo=UTC)
    assert half[-1] == datetime(2024, 7, 3, 17, 0, tzinfo=UTC)  # 13:00 New York


def test_winter_sessions_are_in_utc() -> None:
    times = session_times(date(2024, 1, 2), 30, CALENDAR)

    assert times[0] == datetime(2024, 1, 2, 14, 30, tzinfo=UTC)
    assert times[-1] == datetime(2024, 1, 2, 21, 0, tzinfo=UTC)


def test_same_seed_same_path_and_each_day_stands_alone() -> None:
    day, other = date(2020, 3, 16), date(2020, 3, 17)
    bar = daily_bar("SPY", day)

    first = intraday_path(bar, "SPY", day, 11, 5, CALENDAR).prices
    intraday_path(daily_bar("SPY", other), "SPY", other, 11, 5, CALENDAR)
    again = intraday_path(bar, "SPY", day, 11, 5, CALENDAR).prices
    reseeded = intraday_path(bar, "SPY", day, 12, 5, CALENDAR).prices
    other_symbol = intraday_path(bar, "QQQ", day, 11, 5, CALENDAR).prices

    assert np.array_equal(first, again)
    assert not np.array_equal(first, reseeded)
    assert not np.array_equal(first, other_symbol)


def test_streams_differ_by_purpose() -> None:
    day = date(2024, 1, 2)

    path_draw = day_generator(1, "SPY", day, 1).random()
    other_draw = day_generator(1, "SPY", day, 2).random()

    assert path_draw != other_draw


def test_extremes_fall_near_the_open_and_close_more_often_than_uniform() -> None:
    """The arcsine law puts 41 % of extremes in the first or last tenth (measured: 38 %)."""
    bar = DailyBar(open=100.0, high=102.0, low=98.0, close=100.5)
    steps = 78
    edges = 0
    draws = 1000
    for seed in range(draws):
        prices = bridge_path(bar, steps, np.random.default_rng(seed))
        at = int(np.argmax(prices)) / steps
        edges += at <= 0.1 or at >= 0.9

    assert 0.33 <= edges / draws <= 0.49  # uniform timing would give 0.2


def test_up_days_make_their_low_first_more_often() -> None:
    bar = DailyBar(open=98.5, high=102.0, low=98.0, close=101.8)
    low_first = sum(
        int(np.argmin(p)) < int(np.argmax(p))
        for p in (bridge_path(bar, 78, np.random.default_rng(seed)) for seed in range(500))
    )

    assert low_first / 500 > 0.85  # probability 0.5 + 3.3 / 8 = 0.91


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ((100.0, 99.0, 98.0, 100.0), "expected low <= open, close <= high"),
        ((100.0, 101.0, 98.0, 97.0), "expected low <= open, close <= high"),
        ((0.0, 101.0, 98.0, 100.0), "positive finite"),
        ((float("nan"), 101.0, 98.0, 100.0), "positive finite"),
    ],
)
def test_bad_bars_are_rejected(values: tuple[float, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DailyBar(*values)


def test_too_few_steps_and_uneven_steps_are_rejected() -> None:
    bar = DailyBar(100.0, 101.0, 99.0, 100.5)
    with pytest.raises(ValueError, match="at least 3"):
        bridge_path(bar, 2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="divisor"):
        session_times(date(2024, 7, 2), 7, CALENDAR)
