"""Dividend schedules: shipped ex-dates, and the projection past the end of the data."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from v6.market.calendar import nyse_calendar
from v6.market.dividends import dividend_schedule

CALENDAR = nyse_calendar()


def test_known_dividends_come_from_the_shipped_data() -> None:
    found = dividend_schedule("SPY", CALENDAR).between(date(2020, 3, 19), date(2020, 3, 20))

    assert [(d.ex_date, d.amount, d.projected) for d in found] == [
        (date(2020, 3, 20), 1.406, False)
    ]


def test_range_excludes_today_and_includes_the_last_day() -> None:
    schedule = dividend_schedule("SPY", CALENDAR)

    assert schedule.between(date(2020, 3, 20), date(2020, 6, 18)) == ()
    assert len(schedule.between(date(2020, 3, 20), date(2020, 6, 19))) == 1


@pytest.mark.parametrize("symbol", ["SPY", "QQQ", "IWM"])
def test_projection_repeats_the_last_year_once_a_quarter(symbol: str) -> None:
    schedule = dividend_schedule(symbol, CALENDAR)
    last_known = schedule.between(date(2025, 4, 1), date(2026, 5, 1))

    projected = schedule.between(date(2026, 5, 1), date(2028, 5, 1))

    assert [d.projected for d in last_known] == [False] * 4
    assert len(projected) == 8
    assert all(d.projected for d in projected)
    assert [d.amount for d in projected[4:]] == [d.amount for d in projected[:4]]
    assert all(CALENDAR.is_session(d.ex_date) for d in projected)
    gaps = [(b.ex_date - a.ex_date).days for a, b in itertools.pairwise(projected)]
    assert all(84 <= gap <= 98 for gap in gaps)


def test_projected_ex_dates_move_to_the_session_before() -> None:
    """SPY's 2025-06-20 dividend projects to 2026-06-19 (Juneteenth, a Friday): the 18th."""
    projected = dividend_schedule("SPY", CALENDAR).between(date(2026, 6, 1), date(2026, 6, 30))

    assert [(d.ex_date, d.amount) for d in projected] == [(date(2026, 6, 18), 1.761)]
