"""Bid/ask quotes around a model price: spread widths fitted to the real SPY chain, ticks, sizes.

**Width.** Market makers quote out-of-the-money ETF options a fixed number of vol points
wide, so the dollar width is that many vol points times vega; in-the-money options, whose
price is mostly parity with the stock, get a wide dollar spread (nobody trades them outright):

    width = max(TICK, vol_points(T) * vega_per_point + itm_width(T) * itm(|delta|))
    vol_points(T) = v0 * e^(T / tau),   itm_width(T) = i0 + i1 T,
    itm(|delta|) = logistic((|delta| - d0) / dw)

so the width rises with the option's price (through vega), its moneyness (through delta),
the vol level (through vega) and its maturity. On the SPY chain of 2023-09-14 out-of-the-money
options up to four months were 0.05-0.07 vol points wide (1-6 cents), in-the-money ones 0.6-1.0
dollar, and both grow with maturity. That chain is a snapshot taken after the close (16:31),
when in-the-money quotes are wider than during the day; the model keeps what the data shows.

Fitted by ``tools/fit_market_models.py`` (least squares on ln width, soft-L1 loss) to the
chain's 4,448 two-sided quotes up to one year; each option's vega and delta at its strike's
out-of-the-money implied vol. Median width in dollars, real / model:

    |delta|          <0.05      0.05-0.15  0.15-0.3   0.3-0.45   0.45-0.55  0.55-0.7   0.7-0.85
    up to 30 d     0.01/0.01  0.01/0.01  0.02/0.01  0.03/0.015 0.03/0.03  0.05/0.11  0.56/0.45
    30-120 d       0.01/0.01  0.02/0.02  0.03/0.04  0.04/0.05  0.05/0.06  0.41/0.15  0.52/0.51
    120 d-1 y      0.08/0.03  0.26/0.20  0.48/0.74  0.72/1.04  1.04/1.16  1.16/1.18  1.06/1.10

and 0.65-0.79 / 0.72-0.85 for |delta| > 0.85; RMSE of ln(model / real) 0.1-0.7 per bucket,
1.0-1.3 where the real quotes switch regime (|delta| 0.55-0.7) or are sparse (long-dated
far wings). Quoting rounds the width up to whole cents: up to 120 days the median quoted width
is the real one within a cent out of the money and two at the money.

**Ticks.** SPY, QQQ and IWM options are in the penny program: every price is quoted in
``TICK`` = $0.01 (see ``quote_sides``). The model price always lies inside the quote; the bid
is never negative and the ask at least one tick above the bid. A far out-of-the-money option
worth a fraction of a cent therefore quotes 0.00 bid, 0.01 ask, as 80 % of the real chain's
zero-bid quotes do.

**Sizes.** The Cboe downloads carry no sizes, so sizes are plausible, not fitted: exponential
with a mean of 20 contracts in the wings (|delta| near 0 or 1) rising to 500 at the money
(``MIN_MEAN_SIZE + (MAX_MEAN_SIZE - MIN_MEAN_SIZE) (4 |delta| (1 - |delta|))^2``; 290 at 25
delta, 82 at 10 delta), less for long maturities, drawn from a hash of (seed, time, contract,
side) so a quote never depends on which other contracts were requested with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
UIntArray = npt.NDArray[np.uint64]

TICK = 0.01
MIN_MEAN_SIZE = 20.0
MAX_MEAN_SIZE = 500.0
SIZE_MATURITY_DECAY = 4.0
"""Mean size is divided by (1 + SIZE_MATURITY_DECAY * T): long-dated books are thinner."""
_TICK_SNAP = 1e-9


@dataclass(frozen=True, slots=True)
class SpreadModel:
    """Parameters of the width formula in the module docstring (dollars, vol points, years)."""

    v0: float
    tau: float
    i0: float
    i1: float
    d0: float
    dw: float

    def width(
        self, vega_per_point: npt.ArrayLike, abs_delta: npt.ArrayLike, years: npt.ArrayLike
    ) -> FloatArray:
        """Full bid-ask width in dollars; NaN where an input is NaN."""
        t = np.maximum(np.asarray(years, dtype=np.float64), 0.0)
        otm = self.v0 * np.exp(t / self.tau) * np.asarray(vega_per_point, dtype=np.float64)
        itm_share = _logistic((np.asarray(abs_delta, dtype=np.float64) - self.d0) / self.dw)
        width: FloatArray = np.maximum(otm + (self.i0 + self.i1 * t) * itm_share, TICK)
        return width


def _logistic(x: FloatArray) -> FloatArray:
    value: FloatArray = 0.5 * (1.0 + np.tanh(0.5 * x))
    return value


def quote_sides(price: npt.ArrayLike, width: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Bid and ask on the tick grid with ``bid <= price <= ask``, ``bid >= 0``, ``ask > bid``.

    The bid is ``price - width / 2`` rounded down; the ask is the bid plus the width rounded
    up to whole ticks, raised if needed to reach ``price`` (so a quote is at most one tick
    wider than its model width, never narrower).
    """
    value = np.asarray(price, dtype=np.float64)
    full = np.asarray(width, dtype=np.float64)
    width_ticks = np.maximum(np.ceil(full / TICK - _TICK_SNAP), 1.0)
    bid_ticks = np.maximum(np.floor((value - 0.5 * full) / TICK + _TICK_SNAP), 0.0)
    ask_ticks = np.maximum(bid_ticks + width_ticks, np.ceil(value / TICK - _TICK_SNAP))
    return np.round(bid_ticks * TICK, 2), np.round(ask_ticks * TICK, 2)


def last_price(price: npt.ArrayLike, bid: FloatArray, ask: FloatArray) -> FloatArray:
    """The last trade: the model price on the tick grid, at least one tick, inside the quote."""
    on_grid = np.round(np.asarray(price, dtype=np.float64) / TICK) * TICK
    last: FloatArray = np.round(np.clip(np.maximum(on_grid, TICK), bid, ask), 2)
    return last


def mean_size(abs_delta: npt.ArrayLike, years: npt.ArrayLike) -> FloatArray:
    """Expected displayed size in contracts: largest at the money, smaller in the wings."""
    d = np.clip(np.asarray(abs_delta, dtype=np.float64), 0.0, 1.0)
    near_money = (4.0 * d * (1.0 - d)) ** 2
    t = np.maximum(np.asarray(years, dtype=np.float64), 0.0)
    size: FloatArray = (MIN_MEAN_SIZE + (MAX_MEAN_SIZE - MIN_MEAN_SIZE) * near_money) / (
        1.0 + SIZE_MATURITY_DECAY * t
    )
    return size


def quote_sizes(mean: FloatArray, keys: UIntArray) -> IntArray:
    """Sizes >= 1 drawn (exponential around ``mean``) from per-quote hash keys."""
    uniform = uniform_from_keys(keys)
    sizes: IntArray = (1.0 + np.floor(-np.log1p(-uniform) * mean)).astype(np.int64)
    return sizes


_GOLDEN_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX_MULTIPLIERS = (np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB))
_MIX_SHIFTS = (np.uint64(30), np.uint64(27), np.uint64(31))


def mix_keys(keys: UIntArray, salt: int) -> UIntArray:
    """SplitMix64 of ``keys`` combined with ``salt``: well-spread 64-bit values, vectorized."""
    first, second = _MIX_MULTIPLIERS
    shift_a, shift_b, shift_c = _MIX_SHIFTS
    with np.errstate(over="ignore"):
        z = keys ^ np.uint64(salt & 0xFFFFFFFFFFFFFFFF)
        z = z + _GOLDEN_GAMMA
        z = (z ^ (z >> shift_a)) * first
        z = (z ^ (z >> shift_b)) * second
        mixed: UIntArray = z ^ (z >> shift_c)
    return mixed


def uniform_from_keys(keys: UIntArray) -> FloatArray:
    """Map 64-bit keys to uniforms in [0, 1) using their top 53 bits."""
    uniform: FloatArray = (keys >> np.uint64(11)).astype(np.float64) * (1.0 / 2.0**53)
    return uniform


FITTED_SPREADS = SpreadModel(v0=0.03155, tau=0.2450, i0=0.8095, i1=0.3558, d0=0.7751, dw=0.07097)
"""Fitted to the SPY chain of 2023-09-14: 0.032 vol points wide at T = 0, growing e-fold every
0.245 years; in the money $0.81 + $0.36 per year, switching on around |delta| = 0.78."""
