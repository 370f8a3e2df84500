"""Discrete dividends for option pricing: the shipped ex-dates, projected past the data's end.

The simulated market prices options with the escrowed-dividend model: the spot minus the
present value of the dividends that go ex after now and on or before the expiry is the
diffusing part of the price, and Black-Scholes-Merton runs on it with no dividend yield.
On the ex-date the shipped open already trades ex (Yahoo's bars are the prices that traded),
so a dividend counts while its ex-date is after the current session.

The market's forecast of future dividends is the dividends that were actually paid: the
shipped history (a perfect forecast, which real quarterly ETF dividends nearly are). Beyond
the last shipped ex-date, the dividends of the last ``PROJECTION_WINDOW_DAYS`` (one of each
quarterly payment; a full 365 days would catch the same quarter twice when ex-dates drift by
a day) repeat one year later, again and again, each ex-date moved to the session on or before
it.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from datetime import date, timedelta

from v6.market.calendar import TradingCalendar
from v6.market.history import load_dividends

PROJECTION_WINDOW_DAYS = 350


@dataclass(frozen=True, slots=True)
class Dividend:
    ex_date: date
    amount: float
    """US dollars per share."""
    projected: bool
    """True when the ex-date lies past the shipped data and was projected from the last year."""


class DividendSchedule:
    """Known and projected dividends of one underlying, queried by ex-date range."""

    def __init__(self, symbol: str, calendar: TradingCalendar) -> None:
        frame = load_dividends(symbol)
        self.symbol = symbol
        self._calendar = calendar
        self._known = tuple(
            Dividend(ex_date, amount, projected=False)
            for ex_date, amount in frame.select("ex_date", "amount").iter_rows()
        )
        self._template = _last_year(self._known)

    def between(self, after: date, through: date) -> tuple[Dividend, ...]:
        """Dividends with ``after < ex_date <= through``, in ex-date order."""
        known = tuple(d for d in self._known if after < d.ex_date <= through)
        return known + tuple(d for d in self._projected(through) if after < d.ex_date)

    def _projected(self, through: date) -> tuple[Dividend, ...]:
        if not self._template:
            return ()
        found: list[Dividend] = []
        for years in itertools.count(1):
            shifted = [self._shift(d, years) for d in self._template]
            found.extend(d for d in shifted if d.ex_date <= through)
            if all(d.ex_date > through for d in shifted):
                break
        return tuple(found)

    def _shift(self, dividend: Dividend, years: int) -> Dividend:
        nominal = _add_years(dividend.ex_date, years)
        ex_date = nominal
        if not self._calendar.is_session(nominal):
            ex_date = self._calendar.previous_session(nominal)
        return Dividend(ex_date, dividend.amount, projected=True)


def _last_year(known: tuple[Dividend, ...]) -> tuple[Dividend, ...]:
    """The dividends that repeat past the data: those of its last PROJECTION_WINDOW_DAYS."""
    if not known:
        return ()
    start = known[-1].ex_date - timedelta(days=PROJECTION_WINDOW_DAYS)
    return tuple(d for d in known if d.ex_date > start)


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # February 29 in a year that has none
        return day.replace(year=day.year + years, day=28)


@functools.cache
def dividend_schedule(symbol: str, calendar: TradingCalendar) -> DividendSchedule:
    """The process-wide schedule of ``symbol`` (built once: the shipped table is small)."""
    return DividendSchedule(symbol, calendar)
