"""What the simulated market takes from the shipped history for one session.

- the underlying's daily bar (the path replays it);
- the T-bill rate in force, as a continuous ACT/365 rate (``v6.market.rates``);
- VIX at the open and at the close (the surface moves from one to the other during the
  session; where Cboe has no open, the previous close stands in);
- the underlying's volatility scale: its realized volatility over the ``VOL_RATIO_WINDOW``
  sessions before this one (close to close, so no look-ahead) over SPY's, clipped to
  ``VOL_RATIO_BOUNDS``. QQQ has run about 1.2-1.4 times SPY's volatility, IWM 1.2-1.6; the
  clip keeps a quiet or a wild window from making an implausible surface.

Each series is read once into arrays and each answer is cached per (symbol, day).
"""

from __future__ import annotations

import bisect
import functools
import math
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import polars as pl

from v6.market.history import load_daily_bars, load_tbill_rate, load_vix
from v6.market.paths import DailyBar
from v6.market.rates import continuous_rate_from_discount

FloatArray = npt.NDArray[np.float64]

REFERENCE_SYMBOL = "SPY"
VOL_RATIO_WINDOW = 60
VOL_RATIO_BOUNDS = (0.8, 2.0)
MIN_RATIO_RETURNS = 10
"""Fewer returns than this (the first weeks of a fund's history) give a ratio of 1."""


@dataclass(frozen=True, slots=True)
class SessionInputs:
    """Market-wide inputs of one session."""

    day: date
    rate: float
    """Continuous ACT/365 rate from the 3-month T-bill in force."""
    vix_open: float
    vix_close: float

    def vix_at(self, fraction: float) -> float:
        """VIX at ``fraction`` (0 at the open, 1 at the close) of the session, linearly."""
        return self.vix_open + (self.vix_close - self.vix_open) * fraction


@dataclass(frozen=True, slots=True)
class _Series:
    """One shipped series as a sorted list of dates and aligned columns."""

    dates: list[date]
    columns: dict[str, FloatArray]

    def row(self, day: date) -> int | None:
        position = bisect.bisect_left(self.dates, day)
        found = position < len(self.dates) and self.dates[position] == day
        return position if found else None

    def latest_on_or_before(self, day: date) -> int | None:
        position = bisect.bisect_right(self.dates, day) - 1
        return position if position >= 0 else None


def _series(frame: pl.DataFrame, names: tuple[str, ...]) -> _Series:
    columns = {name: frame[name].cast(pl.Float64).fill_null(np.nan).to_numpy() for name in names}
    return _Series(frame["date"].to_list(), columns)


@functools.cache
def _bars(symbol: str) -> _Series:
    return _series(load_daily_bars(symbol), ("open", "high", "low", "close"))


@functools.cache
def _vix() -> _Series:
    return _series(load_vix(), ("open", "close"))


@functools.cache
def _rates() -> _Series:
    return _series(load_tbill_rate(), ("rate",))


def daily_bar(symbol: str, day: date) -> DailyBar:
    """The real bar of ``symbol`` on session ``day``; ValueError if the history has none."""
    bars = _bars(symbol)
    row = bars.row(day)
    if row is None:
        raise ValueError(
            f"no {symbol} bar on {day.isoformat()}: shipped history covers "
            f"{bars.dates[0].isoformat()}..{bars.dates[-1].isoformat()} (sessions only)"
        )
    values = (bars.columns[name][row] for name in ("open", "high", "low", "close"))
    return DailyBar(*(float(v) for v in values))


@functools.lru_cache(maxsize=4096)
def session_inputs(day: date) -> SessionInputs:
    """Rate and VIX of session ``day``; ValueError before the first T-bill rate or VIX."""
    rates = _rates()
    rate_row = rates.latest_on_or_before(day)
    if rate_row is None:
        raise ValueError(f"no T-bill rate on or before {day.isoformat()} (data from 2000-01-03)")
    vix = _vix()
    close_row = vix.latest_on_or_before(day)
    if close_row is None:
        raise ValueError(f"no VIX close on or before {day.isoformat()} (data from 1990-01-02)")
    vix_close = float(vix.columns["close"][close_row])
    return SessionInputs(
        day=day,
        rate=float(continuous_rate_from_discount(rates.columns["rate"][rate_row])),
        vix_open=_vix_open(vix, day, fallback=vix_close),
        vix_close=vix_close,
    )


def _vix_open(vix: _Series, day: date, fallback: float) -> float:
    row = vix.row(day)
    if row is not None and not math.isnan(vix.columns["open"][row]):
        return float(vix.columns["open"][row])
    if row is not None and row > 0:
        return float(vix.columns["close"][row - 1])
    return fallback


@functools.lru_cache(maxsize=4096)
def vol_ratio(symbol: str, day: date) -> float:
    """Realized vol of ``symbol`` over SPY's in the window before ``day``, clipped."""
    if symbol == REFERENCE_SYMBOL:
        return 1.0
    mine = _trailing_returns(symbol, day)
    reference = _trailing_returns(REFERENCE_SYMBOL, day)
    count = min(mine.size, reference.size)
    if count < MIN_RATIO_RETURNS:
        return 1.0
    ratio = float(np.std(mine[-count:]) / np.std(reference[-count:]))
    return float(np.clip(ratio, *VOL_RATIO_BOUNDS))


def _trailing_returns(symbol: str, day: date) -> FloatArray:
    bars = _bars(symbol)
    end = bisect.bisect_left(bars.dates, day)
    closes = bars.columns["close"][max(end - VOL_RATIO_WINDOW - 1, 0) : end]
    returns: FloatArray = np.diff(np.log(closes))
    return returns
