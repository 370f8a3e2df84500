"""The NYSE trading calendar: sessions, holidays, half days, open and close times.

A thin wrapper around exchange_calendars' "XNYS" calendar. It answers with plain
``datetime.date`` values, tz-aware UTC ``datetime`` values and polars Series, so the rest
of V6 never handles pandas objects. The calendar covers ``CALENDAR_START``..``CALENDAR_END``:
the shipped history starts in 1990 (VIX) and the simulator may run a few years past it.
Rules beyond today are exchange_calendars' projection; ad-hoc closures (a national day of
mourning, a hurricane) become known only when the library adds them.

Build the calendar with :func:`nyse_calendar`: it is created once per process (the
exchange_calendars import and build take about half a second) and shared afterwards.
"""

from __future__ import annotations

import bisect
import functools
import warnings
from datetime import date, datetime

import numpy as np
import polars as pl
from numpy.typing import NDArray

CALENDAR_START = date(1990, 1, 1)
CALENDAR_END = date(2030, 12, 31)
EXCHANGE_CODE = "XNYS"

_UTC_MICROS = pl.Datetime("us", "UTC")
_PANDAS_TZ_VALUES_WARNING = "Series.values returning an ndarray that drops timezone"


def validate_date(value: date | None, name: str) -> None:
    """Reject anything that is not a plain date (a datetime is a date subclass, so check it)."""
    if value is None:
        return
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(
            f"{name} must be a datetime.date (no time of day), got {type(value).__name__} {value!r}"
        )


def validate_date_range(start: date | None, end: date | None) -> None:
    """Check an inclusive ``start``..``end`` range where either bound may be open (None)."""
    validate_date(start, "start")
    validate_date(end, "end")
    if start is not None and end is not None and start > end:
        raise ValueError(f"start {start.isoformat()} is after end {end.isoformat()}")


def _nanos_to_utc(nanos: NDArray[np.int64], name: str) -> pl.Series:
    return pl.Series(name, nanos, dtype=pl.Int64).cast(pl.Datetime("ns", "UTC")).cast(_UTC_MICROS)


def _build_schedule(start: date, end: date) -> pl.DataFrame:
    """One row per session: date, open and close (UTC), and whether it closes early."""
    import exchange_calendars

    with warnings.catch_warnings():
        # exchange_calendars 4.13 reads tz-aware Series.values while building its schedule;
        # pandas 3.1 warns that this will change in pandas 4. The values read are still right.
        warnings.filterwarnings("ignore", message=_PANDAS_TZ_VALUES_WARNING)
        xnys = exchange_calendars.get_calendar(EXCHANGE_CODE, start=start, end=end)
    early_closes = _nanos_to_utc(xnys.early_closes.asi8, "early").dt.date()
    return pl.DataFrame(
        [
            _nanos_to_utc(xnys.sessions_nanos, "date").dt.date(),
            _nanos_to_utc(xnys.opens_nanos, "open"),
            _nanos_to_utc(xnys.closes_nanos, "close"),
        ]
    ).with_columns(pl.col("date").is_in(early_closes.implode()).alias("half_day"))


class TradingCalendar:
    """NYSE sessions between ``start`` and ``end`` (inclusive).

    Range queries take optional inclusive bounds (None means the calendar's own bound) and
    return polars ``Date`` Series named "date", sorted. Single-date queries raise
    ``ValueError`` for a date outside the calendar's range rather than guess.
    """

    def __init__(self, start: date = CALENDAR_START, end: date = CALENDAR_END) -> None:
        validate_date_range(start, end)
        self._start = start
        self._end = end
        self._schedule = _build_schedule(start, end)
        self._session_dates: list[date] = self._schedule["date"].to_list()
        self._row_of: dict[date, int] = {d: i for i, d in enumerate(self._session_dates)}
        self._opens: list[datetime] = self._schedule["open"].to_list()
        self._closes: list[datetime] = self._schedule["close"].to_list()
        self._half_days = frozenset(self._schedule.filter("half_day")["date"].to_list())

    @property
    def first_session(self) -> date:
        return self._session_dates[0]

    @property
    def last_session(self) -> date:
        return self._session_dates[-1]

    def schedule(self, start: date | None = None, end: date | None = None) -> pl.DataFrame:
        """Columns date, open, close (tz-aware UTC datetimes) and half_day, one row a session."""
        lower, upper = self._range(start, end)
        return self._schedule.filter(pl.col("date").is_between(lower, upper))

    def sessions(self, start: date | None = None, end: date | None = None) -> pl.Series:
        """The trading days in the range."""
        return self.schedule(start, end)["date"]

    def half_days(self, start: date | None = None, end: date | None = None) -> pl.Series:
        """Sessions that close early (13:00 New York time: July 3, day after Thanksgiving, ...)."""
        return self.schedule(start, end).filter("half_day")["date"]

    def holidays(self, start: date | None = None, end: date | None = None) -> pl.Series:
        """Weekdays in the range without a session: regular holidays and ad-hoc closures."""
        lower, upper = self._range(start, end)
        weekdays = pl.date_range(lower, upper, "1d", eager=True).alias("date")
        weekdays = weekdays.filter(weekdays.dt.weekday() <= 5)
        return weekdays.filter(~weekdays.is_in(self.sessions(lower, upper).implode()))

    def is_session(self, day: date) -> bool:
        self._check_in_range(day, "day")
        return day in self._row_of

    def is_half_day(self, day: date) -> bool:
        """True for a session that closes early; False for a full session or a closed day."""
        self._check_in_range(day, "day")
        return day in self._half_days

    def session_open(self, day: date) -> datetime:
        return self._opens[self._session_row(day)]

    def session_close(self, day: date) -> datetime:
        return self._closes[self._session_row(day)]

    def next_session(self, day: date) -> date:
        """The first session strictly after ``day`` (which need not be a session)."""
        self._check_in_range(day, "day")
        position = bisect.bisect_right(self._session_dates, day)
        if position == len(self._session_dates):
            raise ValueError(f"no session after {day.isoformat()} within the calendar's range")
        return self._session_dates[position]

    def previous_session(self, day: date) -> date:
        """The last session strictly before ``day`` (which need not be a session)."""
        self._check_in_range(day, "day")
        position = bisect.bisect_left(self._session_dates, day)
        if position == 0:
            raise ValueError(f"no session before {day.isoformat()} within the calendar's range")
        return self._session_dates[position - 1]

    def _session_row(self, day: date) -> int:
        self._check_in_range(day, "day")
        row = self._row_of.get(day)
        if row is None:
            raise ValueError(f"{day.isoformat()} is not an NYSE session")
        return row

    def _range(self, start: date | None, end: date | None) -> tuple[date, date]:
        validate_date_range(start, end)
        lower = self._start if start is None else start
        upper = self._end if end is None else end
        self._check_in_range(lower, "start")
        self._check_in_range(upper, "end")
        return lower, upper

    def _check_in_range(self, day: date, name: str) -> None:
        validate_date(day, name)
        if not self._start <= day <= self._end:
            raise ValueError(
                f"{name} {day.isoformat()} is outside the calendar's range "
                f"{self._start.isoformat()}..{self._end.isoformat()}"
            )


@functools.cache
def nyse_calendar() -> TradingCalendar:
    """The process-wide NYSE calendar over ``CALENDAR_START``..``CALENDAR_END``."""
    return TradingCalendar()
