"""Intraday price paths that replay a real day: open, high, low and close hit exactly.

A day's path runs from the session open to the close (13:00 New York on half days) in steps
of ``step_minutes``: ``steps + 1`` prices, the first the day's open, the last its close. The
high and the low are each hit exactly once at an anchor step, and every price stays within
``[low, high]``:

1. **When**: the time of a Brownian motion's maximum on an interval follows the arcsine law,
   so the two extremes fall at arcsine-distributed fractions of the session (more often near
   the open and the close, as on real tapes). An extreme equal to the open or the close sits
   there.
2. **Which first**: the low comes first with probability ``1/2 + (close - open) / (2 (high -
   low))`` (a day that closes up more often made its low first), a heuristic.
3. **Between anchors** (open, first extreme, second extreme, close) the log price follows a
   Brownian bridge with the day's Parkinson volatility ``ln(high/low) / (2 sqrt(ln 2))``,
   folded back at the high and the low (a reflected walk), so it stays inside the day's range
   and meets each anchor exactly.

Deterministic per (seed, symbol, day, steps): each day draws from its own seeded stream, so
any day can be regenerated alone (resume, seek) without replaying the days before it.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import numpy.typing as npt

from v6.market.calendar import TradingCalendar

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

MIN_STEPS = 3
"""Two extremes strictly inside the session need at least three steps."""
_PATH_STREAM = 1
_PARKINSON = 1.0 / (2.0 * math.sqrt(math.log(2.0)))


@dataclass(frozen=True, slots=True)
class DailyBar:
    """One real day's open, high, low and close (positive, high/low bracketing open/close)."""

    open: float
    high: float
    low: float
    close: float

    def __post_init__(self) -> None:
        values = (self.open, self.high, self.low, self.close)
        if not all(math.isfinite(v) and v > 0 for v in values):
            raise ValueError(f"daily bar {values}: expected positive finite prices")
        if not self.low <= min(self.open, self.close) <= max(self.open, self.close) <= self.high:
            raise ValueError(
                f"daily bar open={self.open} high={self.high} low={self.low} close={self.close}:"
                " expected low <= open, close <= high"
            )


@dataclass(frozen=True, slots=True)
class IntradayPath:
    """A day's simulated prices at ``times`` (tz-aware UTC), open first, close last."""

    times: tuple[datetime, ...]
    prices: FloatArray


def day_generator(seed: int, symbol: str, day: date, stream: int) -> np.random.Generator:
    """An independent random stream for one (seed, symbol, day, purpose)."""
    entropy = [seed, zlib.crc32(symbol.encode()), day.toordinal(), stream]
    return np.random.default_rng(np.random.SeedSequence(entropy))


def session_times(day: date, step_minutes: int, calendar: TradingCalendar) -> tuple[datetime, ...]:
    """Step times of a session from its open to its close inclusive (tz-aware UTC)."""
    opens, closes = calendar.session_open(day), calendar.session_close(day)
    minutes = (closes - opens) / timedelta(minutes=1)
    if step_minutes <= 0 or minutes % step_minutes:
        raise ValueError(
            f"step_minutes {step_minutes}: expected a positive divisor of the {minutes:.0f}-"
            f"minute session of {day.isoformat()}"
        )
    step = timedelta(minutes=step_minutes)
    return tuple(opens + i * step for i in range(int(minutes) // step_minutes + 1))


def intraday_path(
    bar: DailyBar,
    symbol: str,
    day: date,
    seed: int,
    step_minutes: int,
    calendar: TradingCalendar,
) -> IntradayPath:
    """The path of ``symbol`` on ``day`` replaying ``bar``; see the module docstring."""
    times = session_times(day, step_minutes, calendar)
    rng = day_generator(seed, symbol, day, _PATH_STREAM)
    return IntradayPath(times, bridge_path(bar, len(times) - 1, rng))


def bridge_path(bar: DailyBar, steps: int, rng: np.random.Generator) -> FloatArray:
    """``steps + 1`` prices from the open to the close through the high and the low."""
    if steps < MIN_STEPS:
        raise ValueError(f"steps {steps}: expected at least {MIN_STEPS}")
    if bar.high == bar.low:
        return np.full(steps + 1, bar.open)
    anchors = _anchors(bar, steps, rng)
    log_low, log_high = math.log(bar.low), math.log(bar.high)
    step_vol = _PARKINSON * (log_high - log_low) / math.sqrt(steps)
    noise = rng.standard_normal(steps) * step_vol
    indices = np.array(sorted(anchors), dtype=np.int64)
    log_values = np.log([anchors[int(i)] for i in indices])
    path = _pinned_walk(indices, log_values, noise)
    if log_high > log_low:  # a range of a few ulps can vanish in logs; the clip below suffices
        path = _fold(path, log_low, log_high)
    prices = np.clip(np.exp(path), bar.low, bar.high)
    prices[indices] = [anchors[int(i)] for i in indices]
    return prices


def _anchors(bar: DailyBar, steps: int, rng: np.random.Generator) -> dict[int, float]:
    """Step index -> exact price for the open, the close, the high and the low."""
    low_first = rng.random() < 0.5 + (bar.close - bar.open) / (2.0 * (bar.high - bar.low))
    first, second = np.sort(np.sin(0.5 * math.pi * rng.random(2)) ** 2)
    first_index = min(max(round(first * steps), 1), steps - 2)
    second_index = min(max(round(second * steps), first_index + 1), steps - 1)
    low_index, high_index = (
        (first_index, second_index) if low_first else (second_index, first_index)
    )
    low_index = _at_endpoint(bar.low, bar, steps, low_index)
    high_index = _at_endpoint(bar.high, bar, steps, high_index)
    return {0: bar.open, low_index: bar.low, high_index: bar.high, steps: bar.close}


def _at_endpoint(extreme: float, bar: DailyBar, steps: int, drawn: int) -> int:
    if extreme == bar.open:
        return 0
    if extreme == bar.close:
        return steps
    return drawn


def _pinned_walk(indices: IntArray, log_values: FloatArray, noise: FloatArray) -> FloatArray:
    """Random walk ``noise`` bent into Brownian bridges through each (index, value) anchor."""
    walk = np.concatenate(([0.0], np.cumsum(noise)))
    steps = np.arange(walk.size, dtype=np.float64)
    anchor_walk = walk[indices]
    # Subtracting the walk's own linear interpolation between anchors pins it to zero there;
    # adding the anchors' interpolation then pins it to the anchor values.
    bridge = walk - np.interp(steps, indices, anchor_walk)
    pinned: FloatArray = bridge + np.interp(steps, indices, log_values)
    return pinned


def _fold(path: FloatArray, low: float, high: float) -> FloatArray:
    """Reflect ``path`` at ``low`` and ``high`` (repeatedly) so it stays within them."""
    width = high - low
    shifted = np.mod(path - low, 2.0 * width)
    folded: FloatArray = low + width - np.abs(shifted - width)
    return folded
