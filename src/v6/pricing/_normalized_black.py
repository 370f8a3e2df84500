"""Inverse of the normalized Black formula for out-of-the-money calls.

With forward F, strike K, undiscounted price p, ``x = ln(F/K)`` and total volatility
``s = sigma sqrt(T)``, the normalized call price is

    b(x, s) = p / sqrt(F K) = e^(x/2) N(x/s + s/2) - e^(-x/2) N(x/s - s/2).

Every European option reduces to an out-of-the-money call (``x <= 0``) by put-call parity and the
symmetry ``put(x) = call(-x)``; there ``0 < b < e^(x/2)`` and b rises in s from 0 to e^(x/2), with
one inflection at ``s_c = sqrt(2|x|)`` (where d1 = 0). This module solves ``b(x, s) = beta``.

Method (own implementation after the ideas in P. Jaeckel, "Let's be rational", Wilmott 2015):

- Two objectives that are close to linear in s where they are used, so Newton-type steps converge
  in a few iterations from a rough guess:
  low prices ``f = 1 / sqrt(-2 ln b)``, which tends to ``s / |x|`` as s -> 0;
  high prices ``f = sqrt(-2 ln(e^(x/2) - b))``, which tends to ``s / 2`` as s -> infinity.
  The complement ``e^(x/2) - b`` is evaluated as ``e^(x/2) N(-d1) + e^(-x/2) N(d2)``, a sum of
  positive terms, so it keeps full relative precision where b is close to its upper bound.
- Initial guesses: below the inflection point the larger of an asymptotic inversion (good far
  below it) and a power law through the exact value and slope at s_c (good near it); above it
  an inversion of the large-s form. Three or four iterations then reach double precision.
- Halley steps (the second derivative costs no further special function), kept inside a bracket
  that every evaluation tightens; a step that leaves the bracket is replaced by bisection (or a
  doubling while the bracket is unbounded above).
- All elements iterate together in numpy; converged ones are dropped from the working set once
  they are the majority, so a few slow elements do not keep the whole array busy.

Elements that do not converge within the iteration budget come back as NaN, never as a guess.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr, ndtri

from v6.pricing._arrays import BoolArray, FloatArray

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_LN_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_COMPLEMENT_FROM = 0.1
"""High-price objective only where beta >= this fraction of its bound e^(x/2): below that the
complement ``e^(x/2) - beta`` is so close to the bound that its logarithm loses precision."""
_RELATIVE_TOLERANCE = 1e-7
"""Stop once a step moves s by less than this fraction: the error left after a Halley step is
of the order of the step cubed (1e-21), after a Newton fallback step of the step squared (1e-14)."""
_MAX_ITERATIONS = 64
_LOW_GUESS_REFINEMENTS = 2


@dataclass(slots=True)
class _WorkingSet:
    """Per-element solver state for the elements still iterating."""

    position: npt.NDArray[np.intp]
    """Where each element sits in the caller's arrays."""
    x: FloatArray
    exp_half_x: FloatArray
    exp_minus_half_x: FloatArray
    side: FloatArray
    """+1.0 where the objective is the low-price one, -1.0 where it is the high-price one."""
    target: FloatArray
    s: FloatArray
    lower: FloatArray
    upper: FloatArray
    done: BoolArray

    def keep(self, still_active: BoolArray) -> _WorkingSet:
        return _WorkingSet(*(getattr(self, field.name)[still_active] for field in fields(self)))


def normalized_total_vol(x: FloatArray, beta: FloatArray) -> FloatArray:
    """Total volatility s with ``b(x, s) = beta`` for 1-d arrays with x <= 0, 0 < beta < e^(x/2).

    Callers check those bounds; elements that fail to converge are NaN.
    """
    with np.errstate(all="ignore"):
        work = _start(x, beta)
        result = np.full(x.shape, np.nan)
        for _ in range(_MAX_ITERATIONS):
            _halley_step(work)
            finished = np.count_nonzero(work.done)
            if finished == work.done.size:
                break
            if finished * 2 > work.done.size:
                result[work.position[work.done]] = work.s[work.done]
                work = work.keep(~work.done)
        result[work.position[work.done]] = work.s[work.done]
    return result


def _start(x: FloatArray, beta: FloatArray) -> _WorkingSet:
    """Brackets from the inflection point, objective per element, and the initial guesses."""
    distance = -x
    s_inflection = np.sqrt(2.0 * distance)
    exp_half_x = np.exp(0.5 * x)
    exp_minus_half_x = 1.0 / exp_half_x
    b_inflection = 0.5 * exp_half_x - exp_minus_half_x * ndtr(-s_inflection)
    above_inflection = beta >= b_inflection
    complement = exp_half_x - beta
    high = above_inflection & (beta >= _COMPLEMENT_FROM * exp_half_x)
    side = np.where(high, -1.0, 1.0)
    target = _objective(np.where(high, complement, beta), high)
    guess = np.where(
        above_inflection,
        _high_guess(complement, exp_half_x + exp_minus_half_x, s_inflection),
        _low_guess(distance, beta, s_inflection, b_inflection, exp_half_x),
    )
    return _WorkingSet(
        position=np.arange(x.size),
        x=x,
        exp_half_x=exp_half_x,
        exp_minus_half_x=exp_minus_half_x,
        side=side,
        target=target,
        s=guess,
        lower=np.where(above_inflection, s_inflection, 0.0),
        upper=np.where(above_inflection, np.inf, s_inflection),
        done=np.zeros(x.shape, dtype=np.bool_),
    )


def _objective(value: FloatArray, high: BoolArray) -> FloatArray:
    """``sqrt(-2 ln value)`` on the high side, its reciprocal on the low side."""
    root = np.sqrt(-2.0 * np.log(value))
    return np.where(high, root, 1.0 / root)


def _low_guess(
    distance: FloatArray,
    beta: FloatArray,
    s_inflection: FloatArray,
    b_inflection: FloatArray,
    exp_half_x: FloatArray,
) -> FloatArray:
    """The larger of a guess good far below the inflection point and one good near it.

    The far guess never overshoots the root (its neglected terms all make b smaller).
    """
    minus_two_ln_beta = -2.0 * np.log(beta)
    far = _far_below_inflection_guess(distance, minus_two_ln_beta, s_inflection)
    near = _near_inflection_guess(minus_two_ln_beta, s_inflection, b_inflection, exp_half_x)
    return np.minimum(np.maximum(far, near), s_inflection)


def _far_below_inflection_guess(
    distance: FloatArray, minus_two_ln_beta: FloatArray, s_inflection: FloatArray
) -> FloatArray:
    """Invert ``ln b ~ -x^2 / (2 s^2) + ln(s^3 / (x^2 sqrt(2 pi)))``, valid while |d1| >> 1.

    Start from the leading term and refine the logarithmic term by fixed-point steps.
    """
    guess = np.minimum(distance / np.sqrt(minus_two_ln_beta), s_inflection)
    for _ in range(_LOW_GUESS_REFINEMENTS):
        exponent = minus_two_ln_beta + 2.0 * (
            3.0 * np.log(guess) - 2.0 * np.log(distance) - _LN_SQRT_2PI
        )
        guess = np.minimum(distance / np.sqrt(np.maximum(exponent, 0.5 * distance)), s_inflection)
    return guess


def _near_inflection_guess(
    minus_two_ln_beta: FloatArray,
    s_inflection: FloatArray,
    b_inflection: FloatArray,
    exp_half_x: FloatArray,
) -> FloatArray:
    """Model the low-price objective f = 1/sqrt(-2 ln b) as a power of s through its value and
    slope at the inflection point, where d1 = 0 and so db/ds = e^(x/2) / sqrt(2 pi)."""
    f_inflection_squared = -0.5 / np.log(b_inflection)
    power = s_inflection * f_inflection_squared * _INV_SQRT_2PI * exp_half_x / b_inflection
    ratio_squared = 1.0 / (minus_two_ln_beta * f_inflection_squared)
    guess: FloatArray = s_inflection * ratio_squared ** (0.5 / power)
    return guess


def _high_guess(
    complement: FloatArray, bound_sum: FloatArray, s_inflection: FloatArray
) -> FloatArray:
    """Invert ``e^(x/2) - b ~ (e^(x/2) + e^(-x/2)) N(-s/2)``, exact at x = 0, good for s >> s_c."""
    share = np.minimum(complement / bound_sum, 0.5)
    guess: FloatArray = np.maximum(-2.0 * ndtri(share), s_inflection)
    return guess


def _halley_step(work: _WorkingSet) -> None:
    """One safeguarded Halley step on every element not yet converged."""
    s, side = work.s, work.side
    d1 = work.x / s
    d1 += 0.5 * s
    d2 = d1 - s
    value = ndtr(side * d1)
    value *= work.exp_half_x
    value -= side * work.exp_minus_half_x * ndtr(d2)
    log_term = np.log(value)
    log_term *= -2.0
    root = np.sqrt(log_term)
    objective = np.where(side > 0.0, 1.0 / root, root)
    vega = np.multiply(d1, d1)
    vega *= -0.5
    np.exp(vega, out=vega)
    vega *= _INV_SQRT_2PI * work.exp_half_x
    vega_ratio = np.divide(vega, value, out=vega)
    residual = objective - work.target
    newton = residual * log_term / (objective * vega_ratio)
    curvature = d1 * d2 / s - side * vega_ratio + (1.0 + 2.0 * side) * vega_ratio / log_term
    halley_denominator = 1.0 - 0.5 * newton * curvature
    step = -newton / np.where(halley_denominator > 0.5, halley_denominator, 1.0)
    work.lower = np.where(residual < 0.0, s, work.lower)
    work.upper = np.where(residual > 0.0, s, work.upper)
    _accept(work, s + step)


def _accept(work: _WorkingSet, proposal: FloatArray) -> None:
    """Take the proposal where it lies inside the bracket, else bisect; mark convergence.

    Converged elements keep their value: another step there could only add rounding noise.
    """
    inside = (proposal > work.lower) & (proposal < work.upper)
    fallback = np.where(np.isinf(work.upper), 2.0 * work.s, 0.5 * (work.lower + work.upper))
    new_s = np.where(inside, proposal, fallback)
    new_s = np.where(work.done, work.s, new_s)
    work.done |= np.abs(new_s - work.s) <= _RELATIVE_TOLERANCE * new_s
    work.s = new_s
