"""Listed expirations and strike grids, against known dates and the real SPY chain of 2023-09-14.

Measured against the real chain (reference price: that day's open, 449.07; spot 450.81):
every expiration we list is a real one, and every real Friday weekly within six weeks and real
monthly within a year is listed. Within +-10 % of spot, on expirations up to four months,
91-100 % of the real strikes are on our grid and 71-100 % of ours are real ones (the real grid
mixes $1, $2 and $0.50 strikes left by its listing history). The one-year grid spans 0.35-1.56
x spot against the real 0.33-1.55; weeklies reach 0.58-0.67 x spot below against the real 0.67-
0.72 and 1.21-1.28 above against 1.20.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from v6.market.calendar import nyse_calendar
from v6.market.cboe import read_cboe_chain
from v6.market.expirations import (
    expiry_for,
    is_listed_strike,
    listed_expirations,
    strike_grid,
    third_friday,
)

CALENDAR = nyse_calendar()
SPY_DAY = date(2023, 9, 14)
SPY_OPEN = 449.07


@pytest.mark.parametrize(
    ("year", "month", "expected"),
    [(2020, 3, date(2020, 3, 20)), (2024, 3, date(2024, 3, 15)), (2023, 9, date(2023, 9, 15))],
)
def test_third_friday(year: int, month: int, expected: date) -> None:
    assert third_friday(year, month) == expected


def test_march_2020_monthly_is_listed_from_months_before_until_its_day() -> None:
    expiry = date(2020, 3, 20)
    listed_on = list(CALENDAR.sessions(date(2019, 10, 1), expiry).to_list())

    assert all(expiry in listed_expirations(day, CALENDAR) for day in listed_on)
    assert expiry not in listed_expirations(date(2020, 3, 23), CALENDAR)


def test_good_friday_moves_the_weekly_to_thursday() -> None:
    listed = listed_expirations(date(2024, 3, 1), CALENDAR)

    assert date(2024, 3, 28) in listed
    assert date(2024, 3, 29) not in listed


def test_good_friday_on_the_third_friday_moves_the_monthly() -> None:
    assert expiry_for(date(2008, 3, 21), CALENDAR) == date(2008, 3, 20)
    assert date(2008, 3, 20) in listed_expirations(date(2008, 2, 1), CALENDAR)


def test_juneteenth_2026_moves_the_monthly_to_thursday() -> None:
    assert date(2026, 6, 18) in listed_expirations(date(2026, 5, 1), CALENDAR)


def test_expiring_today_is_listed_and_weeklies_reach_six_weeks_out() -> None:
    listed = listed_expirations(date(2024, 1, 5), CALENDAR)  # a Friday

    assert listed[0] == date(2024, 1, 5)
    weeklies = [d for d in listed if d <= date(2024, 2, 16)]
    assert weeklies == [date(2024, 1, 5) + timedelta(weeks=w) for w in range(7)]


def test_a_listed_expiry_stays_listed_until_it_expires() -> None:
    sessions = CALENDAR.sessions(date(2023, 1, 3), date(2023, 12, 29)).to_list()
    listed = {day: set(listed_expirations(day, CALENDAR)) for day in sessions}

    for earlier, later in itertools.pairwise(sessions):
        still_open = {expiry for expiry in listed[earlier] if expiry >= later}
        assert still_open <= listed[later], earlier


def test_listing_needs_a_session() -> None:
    with pytest.raises(ValueError, match="not an NYSE session"):
        listed_expirations(date(2024, 3, 29), CALENDAR)


def real_spy_strikes(shared_data: Path) -> dict[date, np.ndarray]:
    options = read_cboe_chain(shared_data / "options" / "SPY_2023-09-14.csv").options
    return {
        expiry: np.unique(group["strike"].to_numpy())
        for (expiry,), group in options.group_by(["expiry"])
    }


def test_expirations_match_the_real_spy_chain(shared_data: Path) -> None:
    real = real_spy_strikes(shared_data)
    ours = listed_expirations(SPY_DAY, CALENDAR)
    real_fridays = {d for d in real if d.weekday() == 4}
    weeklies = {d for d in real_fridays if d <= SPY_DAY + timedelta(weeks=7)}
    monthlies = {d for d in real_fridays if d == third_friday(d.year, d.month)}

    assert set(ours) <= set(real)
    assert weeklies <= set(ours)
    assert {d for d in monthlies if d <= SPY_DAY + timedelta(days=372)} <= set(ours)


def test_strike_grids_match_the_real_spy_chain_near_the_money(shared_data: Path) -> None:
    real = real_spy_strikes(shared_data)
    spot = 450.81
    for expiry in listed_expirations(SPY_DAY, CALENDAR):
        if (expiry - SPY_DAY).days > 120:
            continue
        grid = strike_grid(SPY_OPEN, (expiry - SPY_DAY).days / 365)
        real_near = real[expiry][np.abs(real[expiry] / spot - 1) <= 0.10]
        ours_near = grid[np.abs(grid / spot - 1) <= 0.10]

        assert np.isin(real_near, grid).mean() >= 0.9, expiry
        assert np.isin(ours_near, real[expiry]).mean() >= 0.7, expiry


def test_strike_grid_extent_matches_the_real_spy_chain(shared_data: Path) -> None:
    real = real_spy_strikes(shared_data)
    spot = 450.81
    one_year = date(2024, 9, 20)
    grid = strike_grid(SPY_OPEN, (one_year - SPY_DAY).days / 365)
    assert grid.min() / spot == pytest.approx(real[one_year].min() / spot, abs=0.05)
    assert grid.max() / spot == pytest.approx(real[one_year].max() / spot, abs=0.05)
    for weekly in (date(2023, 9, 22), date(2023, 10, 6), date(2023, 10, 27)):
        grid = strike_grid(SPY_OPEN, (weekly - SPY_DAY).days / 365)
        assert grid.min() / spot == pytest.approx(real[weekly].min() / spot, abs=0.15)
        assert grid.max() / spot == pytest.approx(real[weekly].max() / spot, abs=0.10)


def test_strike_grid_shape() -> None:
    weekly = strike_grid(450.0, 14 / 365)
    leap = strike_grid(450.0, 1.0)

    assert is_listed_strike(weekly).all()
    assert is_listed_strike(leap).all()
    near = weekly[np.abs(weekly / 450.0 - 1) <= 0.10]
    far = weekly[np.abs(weekly / 450.0 - 1) > 0.10]
    assert (np.diff(near) == 1.0).all()
    assert (far % 5 == 0).all()
    assert (leap % 5 == 0).all()
    assert leap.min() < weekly.min()
    assert leap.max() > weekly.max()


def test_cheap_underlyings_list_dollar_strikes_throughout() -> None:
    grid = strike_grid(40.0, 30 / 365)

    assert (np.diff(grid) == 1.0).all()
    assert grid.min() > 0


def test_listed_strike_rule_and_bad_reference() -> None:
    assert is_listed_strike([450.0, 1.0]).all()
    assert not is_listed_strike([450.5, 0.0, -5.0]).any()
    with pytest.raises(ValueError, match="positive number"):
        strike_grid(float("nan"), 0.1)
