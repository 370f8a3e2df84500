"""Listed expirations and strike grids of the simulated SPY, QQQ and IWM option chains.

Modelled on the real SPY chain of 2023-09-14 (Cboe), one era for every replayed date:

- **Weeklies**: every Friday from this week's through ``WEEKLY_FRIDAYS_AHEAD`` weeks later
  (real: Sep 15 .. Oct 27). Monday-to-Thursday expirations (SPY and QQQ have had them since
  2016-2022, daily since late 2022) are not listed: the strategies V6 runs hold weeks, not
  days, and one rule for every era keeps old windows (2008, 2020) replayable.
- **Monthlies**: the third Friday of the current and the next ``ALL_MONTHS_AHEAD`` months,
  then of the quarterly months (Mar, Jun, Sep, Dec) up to ``QUARTERLY_MONTHS_AHEAD`` months
  ahead (real: Sep .. Jan, then Mar, Jun, Sep 2024). Longer LEAPS and end-of-quarter
  expirations are not listed.
- A Friday that is not a session (Good Friday, Juneteenth 2026) expires on the session before
  it, as the exchanges do: the weekly of Good Friday 2024-03-29 is 2024-03-28. Expiration
  dates follow today's convention (the Friday) in every era, also before 2015 when the OCC
  dated monthlies on the Saturday after.

Strikes are whole dollars:

- ``FINE_INCREMENT`` ($1) within ``FINE_BAND`` (10 %) of the reference price for expirations
  up to ``FINE_MAX_YEARS``; real: $1 strikes from about -12 % to +10 % out to 6 months, none on
  longer ones;
- ``COARSE_INCREMENT`` ($5; $1 for underlyings below ``COARSE_MIN_PRICE``, as real ETF
  chains under $100 list dollar strikes throughout) out to
  ``reference * exp(-(LOW_BASE + LOW_SLOPE sqrt(T)))`` below and
  ``reference * exp(UP_BASE + UP_SLOPE sqrt(T))`` above: the chain widens with maturity and
  leans to puts, as the real one does (weeklies 0.67-1.20 x spot, the one-year 0.33-1.55 x).

The grid of an expiry is drawn around the session's reference price (the open), so it changes
from day to day as the real grid gains strikes; any whole-dollar strike of a listed expiry is
quotable, so a series bought on an earlier day keeps its quotes when the grid moves away.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

from v6.market.calendar import TradingCalendar

FloatArray = npt.NDArray[np.float64]

FRIDAY = 4
WEEKLY_FRIDAYS_AHEAD = 6
ALL_MONTHS_AHEAD = 4
QUARTERLY_MONTHS_AHEAD = 12
QUARTERLY_MONTHS = frozenset({3, 6, 9, 12})

FINE_INCREMENT = 1.0
COARSE_INCREMENT = 5.0
COARSE_MIN_PRICE = 100.0
FINE_BAND = 0.10
FINE_MAX_YEARS = 0.5
LOW_BASE, LOW_SLOPE = 0.30, 0.75
UP_BASE, UP_SLOPE = 0.15, 0.30


def third_friday(year: int, month: int) -> date:
    """The third Friday of a month: the standard monthly expiration day."""
    first = date(year, month, 1)
    return first + timedelta(days=(FRIDAY - first.weekday()) % 7 + 14)


def expiry_for(friday: date, calendar: TradingCalendar) -> date:
    """The expiration of a nominal Friday: the Friday, or the session before it if closed."""
    return friday if calendar.is_session(friday) else calendar.previous_session(friday)


def listed_expirations(session: date, calendar: TradingCalendar) -> tuple[date, ...]:
    """Expirations listed on ``session`` (which must be a session), nearest first."""
    if not calendar.is_session(session):
        raise ValueError(f"listed_expirations: {session.isoformat()} is not an NYSE session")
    fridays = set(_weekly_fridays(session)) | set(_monthly_fridays(session))
    expiries = {expiry_for(friday, calendar) for friday in fridays}
    return tuple(sorted(expiry for expiry in expiries if expiry >= session))


def _weekly_fridays(session: date) -> list[date]:
    this_friday = session + timedelta(days=(FRIDAY - session.weekday()) % 7)
    return [this_friday + timedelta(weeks=w) for w in range(WEEKLY_FRIDAYS_AHEAD + 1)]


def _monthly_fridays(session: date) -> list[date]:
    fridays = []
    for ahead in range(QUARTERLY_MONTHS_AHEAD + 1):
        year, month = divmod(session.month - 1 + ahead, 12)
        month += 1
        if ahead <= ALL_MONTHS_AHEAD or month in QUARTERLY_MONTHS:
            fridays.append(third_friday(session.year + year, month))
    return fridays


def strike_grid(reference: float, years: float) -> FloatArray:
    """Listed strikes, ascending, for an expiry ``years`` away around price ``reference``."""
    if not (math.isfinite(reference) and reference > 0):
        raise ValueError(f"strike_grid: reference price {reference!r} must be a positive number")
    t = max(years, 0.0)
    lowest = reference * math.exp(-(LOW_BASE + LOW_SLOPE * math.sqrt(t)))
    highest = reference * math.exp(UP_BASE + UP_SLOPE * math.sqrt(t))
    coarse = COARSE_INCREMENT if reference >= COARSE_MIN_PRICE else FINE_INCREMENT
    strikes = _multiples(coarse, lowest, highest)
    if t <= FINE_MAX_YEARS:
        fine = _multiples(FINE_INCREMENT, reference * (1 - FINE_BAND), reference * (1 + FINE_BAND))
        strikes = np.union1d(strikes, fine)
    return strikes[strikes > 0]


def _multiples(step: float, low: float, high: float) -> FloatArray:
    first, last = math.ceil(low / step), math.floor(high / step)
    multiples: FloatArray = np.arange(first, last + 1, dtype=np.float64) * step
    return multiples


def is_listed_strike(strikes: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """True for the strikes any expiry can list: positive whole dollars."""
    values = np.asarray(strikes, dtype=np.float64)
    listed: npt.NDArray[np.bool_] = (values > 0) & (np.round(values) == values)
    return listed
