"""Vectorized Black-Scholes-Merton price and Greeks for European options.

The model is Merton's generalisation of Black-Scholes with a continuous dividend yield ``q``:

    d1 = (ln(S/K) + (r - q + sigma**2 / 2) T) / (sigma sqrt(T)),   d2 = d1 - sigma sqrt(T)
    call = S e^(-qT) N(d1) - K e^(-rT) N(d2),   put = K e^(-rT) N(-d2) - S e^(-qT) N(-d1)

Units (textbook units; the portfolio view converts them):

- ``S``, ``K`` and the price in the same currency; ``T`` in years; ``r``, ``q``, ``sigma``
  continuously compounded, per year, as decimals (0.05 = 5 %).
- delta per 1.00 of spot, gamma per 1.00 of spot per 1.00 of spot,
- theta per *year* of calendar time (``-dV/dT``; divide by 365 for a per-day figure),
- vega per 1.00 of volatility (divide by 100 for one vol point),
- rho per 1.00 of interest rate (divide by 100 for one percentage point).

All arguments broadcast with numpy's rules; each output has the broadcast shape (0-d for
all-scalar input). The vectorized path never raises for a bad value: an element whose inputs
are not finite, or have ``S <= 0``, ``K <= 0`` or ``sigma < 0``, is NaN in every output.

Degenerate but valid elements have no diffusion left and are priced as their payoff:

- expired (``T <= 0``): price is the intrinsic value ``max(+-(S - K), 0)``; delta is the step
  of the payoff (call 1 above the strike, 0 below; put -1 below, 0 above) and +-0.5 exactly at
  the strike, which is also the limit of the BSM delta as T -> 0 there; gamma, theta, vega and
  rho are 0.
- zero volatility (``sigma == 0``, ``T > 0``): the forward is certain, so the price is the
  discounted forward intrinsic value ``max(+-(S e^(-qT) - K e^(-rT)), 0)`` and the Greeks are
  that expression's derivatives (delta +-e^(-qT) or 0, half of it at the forward; gamma and vega
  0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr

from v6.pricing._arrays import (
    BoolArray,
    FloatArray,
    all_true,
    as_float,
    broadcast_shape,
    is_finite,
    is_nonnegative_finite,
    is_positive_finite,
    side_sign,
)

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@dataclass(frozen=True, slots=True)
class BsmResult:
    """Price and Greeks of European options; every field has the broadcast shape.

    Units: price in the currency of S and K; delta per 1.00 of spot; gamma per 1.00 of spot
    squared; theta per year (-dV/dT); vega per 1.00 of volatility; rho per 1.00 of rate.
    """

    price: FloatArray
    delta: FloatArray
    gamma: FloatArray
    theta: FloatArray
    vega: FloatArray
    rho: FloatArray


@dataclass(frozen=True, slots=True)
class _Inputs:
    """Coerced inputs (not broadcast) and the shape every output takes."""

    S: FloatArray
    K: FloatArray
    T: FloatArray
    r: FloatArray
    q: FloatArray
    sigma: FloatArray
    sign: float | FloatArray
    shape: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class _Legs:
    """The terms the price and every Greek are built from (full shape, T > 0 assumed)."""

    sqrt_t: FloatArray
    total_vol: FloatArray
    d1: FloatArray
    spot_df: FloatArray
    prob_spot: FloatArray
    spot_leg: FloatArray
    strike_leg: FloatArray


def bsm_price(
    S: npt.ArrayLike,
    K: npt.ArrayLike,
    T: npt.ArrayLike,
    r: npt.ArrayLike,
    q: npt.ArrayLike,
    sigma: npt.ArrayLike,
    is_call: npt.ArrayLike,
) -> FloatArray:
    """Black-Scholes-Merton price only (cheaper than `bsm_price_greeks`); see the module doc."""
    inputs = _coerce(S, K, T, r, q, sigma, is_call)
    with np.errstate(all="ignore"):
        price = _price(inputs, _legs(inputs))
        _apply_special_cases(inputs, {"price": price})
    return price


def bsm_price_greeks(
    S: npt.ArrayLike,
    K: npt.ArrayLike,
    T: npt.ArrayLike,
    r: npt.ArrayLike,
    q: npt.ArrayLike,
    sigma: npt.ArrayLike,
    is_call: npt.ArrayLike,
) -> BsmResult:
    """Black-Scholes-Merton price, delta, gamma, theta (per year), vega and rho (per 1.00).

    Arguments broadcast together; ``is_call`` is a bool or an array of bool. See the module
    docstring for units, expired and zero-volatility elements, and bad input (NaN, no raise).
    """
    inputs = _coerce(S, K, T, r, q, sigma, is_call)
    with np.errstate(all="ignore"):
        result = _price_and_greeks(inputs, _legs(inputs))
        _apply_special_cases(
            inputs,
            {
                "price": result.price,
                "delta": result.delta,
                "gamma": result.gamma,
                "theta": result.theta,
                "vega": result.vega,
                "rho": result.rho,
            },
        )
    return result


def _coerce(
    S: npt.ArrayLike,
    K: npt.ArrayLike,
    T: npt.ArrayLike,
    r: npt.ArrayLike,
    q: npt.ArrayLike,
    sigma: npt.ArrayLike,
    is_call: npt.ArrayLike,
) -> _Inputs:
    named = {
        "S": as_float("S", S),
        "K": as_float("K", K),
        "T": as_float("T", T),
        "r": as_float("r", r),
        "q": as_float("q", q),
        "sigma": as_float("sigma", sigma),
    }
    sign = side_sign(is_call)
    shape = broadcast_shape(named, sign)
    return _Inputs(**named, sign=sign, shape=shape)


def _legs(inputs: _Inputs) -> _Legs:
    """d1 and the two discounted, probability-weighted legs, written into full-shape buffers."""
    S, K, T, r, q, sigma, sign, shape = (
        inputs.S,
        inputs.K,
        inputs.T,
        inputs.r,
        inputs.q,
        inputs.sigma,
        inputs.sign,
        inputs.shape,
    )
    sqrt_t = np.sqrt(T)
    total_vol = np.multiply(sigma, sqrt_t, out=np.empty(shape))
    d1 = np.divide(S, K, out=np.empty(shape))
    np.log(d1, out=d1)
    d1 += (r - q) * T
    d1 /= total_vol
    d1 += 0.5 * total_vol
    spot_df = np.exp(-q * T)
    prob_spot = np.multiply(d1, sign, out=np.empty(shape))
    ndtr(prob_spot, out=prob_spot)
    d2_signed = np.subtract(d1, total_vol, out=np.empty(shape))
    d2_signed *= sign
    prob_strike = ndtr(d2_signed, out=d2_signed)
    spot_leg = np.multiply(S * spot_df, prob_spot, out=np.empty(shape))
    strike_leg = np.multiply(K * np.exp(-r * T), prob_strike, out=prob_strike)
    return _Legs(sqrt_t, total_vol, d1, spot_df, prob_spot, spot_leg, strike_leg)


def _price(inputs: _Inputs, legs: _Legs) -> FloatArray:
    price = np.subtract(legs.spot_leg, legs.strike_leg, out=np.empty(inputs.shape))
    price *= inputs.sign
    return price


def _price_and_greeks(inputs: _Inputs, legs: _Legs) -> BsmResult:
    shape, sign = inputs.shape, inputs.sign
    spot_density = np.multiply(legs.d1, legs.d1, out=np.empty(shape))
    spot_density *= -0.5
    np.exp(spot_density, out=spot_density)
    spot_density *= inputs.S * (_INV_SQRT_2PI * legs.spot_df)  # S e^(-qT) n(d1)
    vega = np.multiply(spot_density, legs.sqrt_t, out=np.empty(shape))
    gamma = np.divide(spot_density, legs.total_vol, out=spot_density)
    gamma /= inputs.S * inputs.S
    theta = np.multiply(vega, inputs.sigma / (-2.0 * inputs.T), out=np.empty(shape))
    theta += sign * (inputs.q * legs.spot_leg - inputs.r * legs.strike_leg)
    delta = np.multiply(legs.prob_spot, sign * legs.spot_df, out=np.empty(shape))
    rho = np.multiply(legs.strike_leg, sign * inputs.T, out=np.empty(shape))
    return BsmResult(_price(inputs, legs), delta, gamma, theta, vega, rho)


def _apply_special_cases(inputs: _Inputs, outputs: dict[str, FloatArray]) -> None:
    """Overwrite expired / zero-vol elements with their payoff values and bad ones with NaN."""
    valid = _valid(inputs)
    degenerate = valid & ((inputs.T <= 0.0) | (inputs.sigma == 0.0))
    if degenerate.any():
        degenerate = np.broadcast_to(degenerate, inputs.shape)
        payoff = _payoff_values(inputs, degenerate)
        for name, output in outputs.items():
            output[degenerate] = getattr(payoff, name)
    if not all_true(valid):
        for output in outputs.values():
            output[~np.broadcast_to(valid, inputs.shape)] = np.nan


def _valid(inputs: _Inputs) -> BoolArray:
    return (
        is_positive_finite(inputs.S)
        & is_positive_finite(inputs.K)
        & is_nonnegative_finite(inputs.sigma)
        & is_finite(inputs.T)
        & is_finite(inputs.r)
        & is_finite(inputs.q)
    )


def _payoff_values(inputs: _Inputs, where: BoolArray) -> BsmResult:
    """Price and Greeks of the elements at `where` that have no diffusion left (see module doc).

    Expired elements use T = 0, which makes the discount factors 1 and rho 0; their theta is 0.
    """

    def pick(array: FloatArray | float) -> FloatArray:
        return np.broadcast_to(array, inputs.shape)[where]

    S, K, r, q, sign = (
        pick(inputs.S),
        pick(inputs.K),
        pick(inputs.r),
        pick(inputs.q),
        pick(inputs.sign),
    )
    T = np.maximum(pick(inputs.T), 0.0)
    spot_df, strike_df = np.exp(-q * T), np.exp(-r * T)
    moneyness = sign * (S * spot_df - K * strike_df)
    in_the_money = np.where(moneyness > 0.0, 1.0, np.where(moneyness == 0.0, 0.5, 0.0))
    zero = np.zeros_like(S)
    return BsmResult(
        price=np.maximum(moneyness, 0.0),
        delta=sign * spot_df * in_the_money,
        gamma=zero,
        theta=np.where(T > 0.0, sign * (q * S * spot_df - r * K * strike_df) * in_the_money, 0.0),
        vega=zero,
        rho=sign * T * K * strike_df * in_the_money,
    )
