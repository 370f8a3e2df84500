"""Vectorized Black-Scholes-Merton implied volatility.

The price is first turned into the normalized price of the out-of-the-money option with the same
strike (an in-the-money call becomes the put through put-call parity, and vice versa), because
the time value alone carries the information about volatility: solving on the in-the-money side
would subtract two nearly equal numbers inside every iteration. The solver itself is in
`v6.pricing._normalized_black`.

No-arbitrage bounds: a call is worth more than its forward intrinsic value
``max(S e^(-qT) - K e^(-rT), 0)`` and less than ``S e^(-qT)``; a put more than
``max(K e^(-rT) - S e^(-qT), 0)`` and less than ``K e^(-rT)``. A price on or outside these bounds
has no implied volatility (a price equal to the intrinsic value would need sigma = 0 and is as
likely to be a stale or rounded quote), so it gives NaN, as do ``T <= 0``, ``S <= 0``,
``K <= 0`` and any non-finite input. The function never raises for a bad value.

An in-the-money price whose time value is below ``_MIN_TIME_VALUE_SHARE`` of the price is also
NaN: double-precision rounding of the price and of the intrinsic value is a few 1e-16 of the
price, so such a time value is mostly noise and would give an arbitrary volatility. Above the
threshold the noise moves sigma by at most ~1e-5 of itself (the deeper in the money, the less the
normalized price depends on sigma's exact value), and by less than 1e-8 from 1e-9 on.
Likewise a time value below the smallest normal double (~2.2e-308) has too few significant bits.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from v6.pricing._arrays import (
    BoolArray,
    FloatArray,
    all_true,
    as_float,
    broadcast_shape,
    is_finite,
    is_positive_finite,
    side_sign,
)
from v6.pricing._normalized_black import normalized_total_vol

_MIN_TIME_VALUE_SHARE = 1e-12
_SMALLEST_NORMAL = float(np.finfo(np.float64).tiny)


def implied_vol(
    price: npt.ArrayLike,
    S: npt.ArrayLike,
    K: npt.ArrayLike,
    T: npt.ArrayLike,
    r: npt.ArrayLike,
    q: npt.ArrayLike,
    is_call: npt.ArrayLike,
) -> FloatArray:
    """Black-Scholes-Merton volatility (per year, decimal) that reproduces `price`.

    Same conventions as `v6.pricing.bsm_price` (continuous r and q, T in years); arguments
    broadcast together and the result has their common shape (0-d for all-scalar input).
    NaN where no volatility fits: outside the no-arbitrage bounds (see the module docstring),
    T <= 0, S <= 0, K <= 0, non-finite input, or (not observed in tests) no convergence.
    """
    named = {
        "price": as_float("price", price),
        "S": as_float("S", S),
        "K": as_float("K", K),
        "T": as_float("T", T),
        "r": as_float("r", r),
        "q": as_float("q", q),
    }
    sign = side_sign(is_call)
    shape = broadcast_shape(named, sign)
    with np.errstate(all="ignore"):
        x, beta, floor, bound = _normalized_out_of_the_money(sign=sign, shape=shape, **named)
        solvable = _valid(**named) & (beta > floor) & (beta < bound)
        return _solve(x, beta, named["T"], np.broadcast_to(solvable, shape))


def _normalized_out_of_the_money(
    *,
    price: FloatArray,
    S: FloatArray,
    K: FloatArray,
    T: FloatArray,
    r: FloatArray,
    q: FloatArray,
    sign: float | FloatArray,
    shape: tuple[int, ...],
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """``x = -|ln(F/K)|``, the out-of-the-money normalized price, its noise floor and bound.

    The normalized price is the undiscounted price over sqrt(F K); the in-the-money option's
    normalized intrinsic value is ``2 sinh(|x| / 2)``; the upper bound is e^(x/2).
    """
    carry = np.multiply(r - q, T, out=np.empty(shape))
    log_moneyness = np.divide(S, K, out=np.empty(shape))
    np.log(log_moneyness, out=log_moneyness)
    log_moneyness += carry
    beta = np.multiply(price, np.exp(r * T - 0.5 * carry) / np.sqrt(S * K), out=np.empty(shape))
    in_the_money = sign * log_moneyness > 0.0
    floor = _MIN_TIME_VALUE_SHARE * beta
    floor += _SMALLEST_NORMAL
    x = np.abs(log_moneyness, out=log_moneyness)
    beta -= np.where(in_the_money, 2.0 * np.sinh(0.5 * x), 0.0)
    x *= -1.0
    return x, beta, floor, np.exp(0.5 * x)


def _valid(
    *, price: FloatArray, S: FloatArray, K: FloatArray, T: FloatArray, r: FloatArray, q: FloatArray
) -> BoolArray:
    return (
        is_finite(price)
        & is_positive_finite(S)
        & is_positive_finite(K)
        & is_positive_finite(T)
        & is_finite(r)
        & is_finite(q)
    )


def _solve(x: FloatArray, beta: FloatArray, T: FloatArray, solvable: BoolArray) -> FloatArray:
    """Solve the solvable elements and scale total volatility back to sigma; NaN elsewhere."""
    if all_true(solvable):
        total_vol = normalized_total_vol(x.ravel(), beta.ravel()).reshape(x.shape)
    else:
        total_vol = np.full(x.shape, np.nan)
        total_vol[solvable] = normalized_total_vol(x[solvable], beta[solvable])
    total_vol /= np.sqrt(T)
    return total_vol
