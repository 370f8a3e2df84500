"""The NYSE calendar, and how every shipped series lines up with it.

The exception lists below are the data as published, found by comparing each series with
exchange_calendars' XNYS; SOURCES.md in v6/market/data explains each one.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest

from v6.market.calendar import CALENDAR_END, CALENDAR_START, TradingCalendar, nyse_calendar
from v6.market.history import (
    available_symbols,
    load_daily_bars,
    load_dividends,
    load_tbill_rate,
    load_vix,
    rate_as_of,
)


@pytest.fixture(scope="session")
def xnys() -> TradingCalendar:
    return nyse_calendar()


def not_in(values: pl.Series, reference: pl.Series) -> list[date]:
    found: list[date] = values.filter(~values.is_in(reference.implode())).to_list()
    return found


def days(*isoformats: str) -> list[date]:
    return [date.fromisoformat(text) for text in isoformats]


# NYSE's published 2020 holidays and early closes.
HOLIDAYS_2020 = days(
    "2020-01-01",
    "2020-01-20",
    "2020-02-17",
    "2020-04-10",
    "2020-05-25",
    "2020-07-03",
    "2020-09-07",
    "2020-11-26",
    "2020-12-25",
)
AD_HOC_CLOSURES = days(
    "1994-04-27",  # President Nixon's funeral
    "2001-09-11",  # September 11 attacks, four days
    "2001-09-12",
    "2001-09-13",
    "2001-09-14",
    "2004-06-11",  # President Reagan's funeral
    "2007-01-02",  # President Ford's funeral
    "2012-10-29",  # Hurricane Sandy, two days
    "2012-10-30",
    "2018-12-05",  # President G. H. W. Bush's funeral
    "2025-01-09",  # President Carter's funeral
)


def test_calendar_is_built_once(xnys: TradingCalendar) -> None:
    assert nyse_calendar() is xnys
    assert xnys.first_session == date(1990, 1, 2)
    assert xnys.last_session <= CALENDAR_END


def test_holidays_2020_match_nyse(xnys: TradingCalendar) -> None:
    assert xnys.holidays(date(2020, 1, 1), date(2020, 12, 31)).to_list() == HOLIDAYS_2020


def test_half_days_2020(xnys: TradingCalendar) -> None:
    assert xnys.half_days(date(2020, 1, 1), date(2020, 12, 31)).to_list() == days(
        "2020-11-27", "2020-12-24"
    )


@pytest.mark.parametrize("closure", AD_HOC_CLOSURES)
def test_ad_hoc_closures_are_holidays(xnys: TradingCalendar, closure: date) -> None:
    assert not xnys.is_session(closure)
    assert closure in xnys.holidays(closure, closure).to_list()


def test_sessions_in_a_year(xnys: TradingCalendar) -> None:
    sessions = xnys.sessions(date(2019, 1, 1), date(2019, 12, 31))
    assert sessions.dtype == pl.Date
    assert sessions.len() == 252
    assert sessions.is_sorted()


@pytest.mark.parametrize("day", days("2019-11-29", "2020-12-24"))
def test_half_days_close_at_1_pm_new_york(xnys: TradingCalendar, day: date) -> None:
    assert xnys.is_session(day)
    assert xnys.is_half_day(day)
    assert xnys.session_close(day) == datetime(day.year, day.month, day.day, 18, 0, tzinfo=UTC)


def test_thanksgiving_2020_is_a_holiday_not_a_half_day(xnys: TradingCalendar) -> None:
    thanksgiving = date(2020, 11, 26)
    assert not xnys.is_session(thanksgiving)
    assert not xnys.is_half_day(thanksgiving)
    with pytest.raises(ValueError, match="2020-11-26 is not an NYSE session"):
        xnys.session_open(thanksgiving)


def test_open_and_close_in_utc_follow_new_york_daylight_time(xnys: TradingCalendar) -> None:
    summer, winter = date(2020, 7, 2), date(2020, 1, 2)
    assert xnys.session_open(summer) == datetime(2020, 7, 2, 13, 30, tzinfo=UTC)
    assert xnys.session_close(summer) == datetime(2020, 7, 2, 20, 0, tzinfo=UTC)
    assert xnys.session_open(winter) == datetime(2020, 1, 2, 14, 30, tzinfo=UTC)
    assert xnys.session_close(winter) == datetime(2020, 1, 2, 21, 0, tzinfo=UTC)
    assert not xnys.is_half_day(summer)


def test_schedule_columns(xnys: TradingCalendar) -> None:
    schedule = xnys.schedule(date(2020, 12, 24), date(2020, 12, 28))
    assert schedule.rows() == [
        (
            date(2020, 12, 24),
            datetime(2020, 12, 24, 14, 30, tzinfo=UTC),
            datetime(2020, 12, 24, 18, 0, tzinfo=UTC),
            True,
        ),
        (
            date(2020, 12, 28),
            datetime(2020, 12, 28, 14, 30, tzinfo=UTC),
            datetime(2020, 12, 28, 21, 0, tzinfo=UTC),
            False,
        ),
    ]


@pytest.mark.parametrize(
    ("day", "following", "preceding"),
    [
        (date(2020, 11, 25), date(2020, 11, 27), date(2020, 11, 24)),  # around Thanksgiving
        (date(2020, 11, 26), date(2020, 11, 27), date(2020, 11, 25)),  # a holiday itself
        (date(2020, 3, 21), date(2020, 3, 23), date(2020, 3, 20)),  # a Saturday
        (date(2001, 9, 10), date(2001, 9, 17), date(2001, 9, 7)),  # before the 9/11 closure
    ],
)
def test_next_and_previous_session(
    xnys: TradingCalendar, day: date, following: date, preceding: date
) -> None:
    assert xnys.next_session(day) == following
    assert xnys.previous_session(day) == preceding


def test_no_session_beyond_the_calendar_edges(xnys: TradingCalendar) -> None:
    with pytest.raises(ValueError, match="no session before 1990-01-02"):
        xnys.previous_session(xnys.first_session)
    with pytest.raises(ValueError, match=r"outside the calendar's range 1990-01-01\.\.2030-12-31"):
        xnys.is_session(date(1989, 12, 29))
    with pytest.raises(ValueError, match="start 2031-01-01 is outside"):
        xnys.sessions(date(2031, 1, 1))
    assert date(1990, 1, 1) == CALENDAR_START


def test_bad_ranges_are_rejected(xnys: TradingCalendar) -> None:
    with pytest.raises(ValueError, match="start 2020-02-01 is after end 2020-01-01"):
        xnys.holidays(date(2020, 2, 1), date(2020, 1, 1))
    with pytest.raises(TypeError, match=r"day must be a datetime\.date"):
        xnys.is_session(datetime(2020, 1, 2, 9, 30))


@pytest.mark.parametrize("symbol", ["SPY", "QQQ", "IWM"])
def test_bars_line_up_with_sessions_exactly(xnys: TradingCalendar, symbol: str) -> None:
    bar_dates = load_daily_bars(symbol)["date"]
    sessions = xnys.sessions(bar_dates[0], bar_dates[-1])
    assert not_in(bar_dates, sessions) == []
    assert not_in(sessions, bar_dates) == []


def test_vix_rows_on_nyse_holidays_are_the_known_ones(xnys: TradingCalendar) -> None:
    # 2004-06-11 repeats the previous close; from 2022-05-30 Cboe publishes VIX on most
    # NYSE holidays (SPX options trade in its global trading hours then).
    vix_dates = load_vix()["date"]
    assert not_in(vix_dates, xnys.sessions(vix_dates[0], vix_dates[-1])) == days(
        "2004-06-11",
        *("2022-05-30", "2022-06-20", "2022-07-04", "2022-09-05", "2022-11-24"),
        *("2023-01-16", "2023-02-20", "2023-05-29", "2023-06-19", "2023-07-04"),
        *("2023-09-04", "2023-11-23"),
        *("2024-01-15", "2024-02-19", "2024-05-27", "2024-06-19", "2024-07-04"),
        *("2024-09-02", "2024-11-28"),
        *("2025-01-09", "2025-01-20", "2025-02-17", "2025-05-26", "2025-06-19"),
        *("2025-07-04", "2025-09-01", "2025-11-27"),
        *("2026-01-19", "2026-02-16", "2026-05-25", "2026-06-19", "2026-07-03"),
    )


def test_vix_lacks_four_nyse_sessions(xnys: TradingCalendar) -> None:
    vix_dates = load_vix()["date"]
    sessions = xnys.sessions(vix_dates[0], vix_dates[-1])
    assert not_in(sessions, vix_dates) == days(
        "1991-03-01", "1997-01-31", "1997-11-26", "1999-12-31"
    )


def test_tbill_rates_published_on_nyse_closures_are_the_known_ones(
    xnys: TradingCalendar,
) -> None:
    # FRED follows the bond market: open on some Good Fridays and some NYSE closures.
    rate_dates = load_tbill_rate()["date"]
    assert not_in(rate_dates, xnys.sessions(rate_dates[0], rate_dates[-1])) == days(
        *("2001-09-13", "2001-09-14", "2007-01-02", "2007-04-06", "2010-04-02"),
        *("2012-04-06", "2012-10-29", "2015-04-03", "2021-04-02", "2023-04-07"),
        "2025-01-09",
    )


def test_sessions_without_a_tbill_rate_are_columbus_or_veterans_day(
    xnys: TradingCalendar,
) -> None:
    rate_dates = load_tbill_rate()["date"]
    unpublished = not_in(xnys.sessions(rate_dates[0], rate_dates[-1]), rate_dates)
    columbus = [d for d in unpublished if d.month == 10 and d.weekday() == 0 and 8 <= d.day <= 14]
    veterans = [d for d in unpublished if d.month == 11 and 10 <= d.day <= 12]
    assert len(unpublished) == 48
    assert sorted(columbus + veterans) == unpublished


def test_every_session_has_a_rate_in_force(xnys: TradingCalendar) -> None:
    rate_dates = load_tbill_rate()["date"]
    sessions = xnys.sessions(rate_dates[0], rate_dates[-1])
    assert rate_as_of(sessions).null_count() == 0


@pytest.mark.parametrize("symbol", available_symbols())
def test_dividend_ex_dates_are_sessions(xnys: TradingCalendar, symbol: str) -> None:
    ex_dates = load_dividends(symbol)["ex_date"]
    assert not_in(ex_dates, xnys.sessions(ex_dates[0], ex_dates[-1])) == []
