"""Payoff at expiry of a set of option legs, and its extremes and breakevens.

Defined only when every leg has the same underlying, expiry and multiplier. With several
expiries, the later legs still carry time value when the first expires, so the payoff there
depends on a pricing model (volatility, rates), which the pure domain does not have; such
strategies raise ``PayoffUndefinedError`` and their risk is measured by the pricing layer instead.

Everything is per one unit of the strategy (the legs' quantities as ratios) and in currency,
multiplier included: 200.0 is $200 for one iron condor. The net premium is per share, positive
for a credit received and negative for a debit paid.

The payoff at expiry is piecewise linear in the underlying price S with kinks at the strikes,
so it is evaluated exactly (in Decimal) at S = 0 and at every strike; beyond the highest strike
its slope is the net call quantity.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise

from v6.domain.contracts import OptionContract
from v6.domain.errors import PayoffUndefinedError
from v6.domain.legs import Leg


@dataclass(frozen=True, slots=True)
class PayoffProfile:
    """``max_loss`` is a positive number for a strategy that can lose; either extreme is
    ``math.inf`` when unbounded. ``breakevens`` are the underlying prices where the payoff
    crosses or touches zero, ascending (both ends of a segment lying exactly on zero)."""

    max_profit: float
    max_loss: float
    breakevens: tuple[float, ...]


def payoff_at_expiry(legs: Sequence[Leg], net_premium: float, spot: float) -> float:
    """Profit or loss at expiry, in currency per unit, with the underlying at ``spot``."""
    multiplier = _single_expiry_multiplier(legs)
    if not math.isfinite(spot) or spot < 0:
        raise PayoffUndefinedError(f"spot = {spot!r}: expected a finite price >= 0")
    return float(_value(legs, _decimal(net_premium), _decimal(spot)) * multiplier)


def payoff_profile(legs: Sequence[Leg], net_premium: float) -> PayoffProfile:
    """Max profit, max loss and breakevens at expiry, per unit, in currency."""
    multiplier = _single_expiry_multiplier(legs)
    premium = _decimal(net_premium)
    points = [Decimal(0), *sorted({leg.contract.strike for leg in legs})]
    values = [_value(legs, premium, point) for point in points]
    slope = sum((leg.quantity for leg in legs if leg.contract.is_call), 0)
    max_profit = math.inf if slope > 0 else float(max(values) * multiplier)
    max_loss = math.inf if slope < 0 else float(-min(values) * multiplier)
    return PayoffProfile(max_profit, max_loss, _breakevens(points, values, slope))


def _single_expiry_multiplier(legs: Sequence[Leg]) -> int:
    if not legs:
        raise PayoffUndefinedError("payoff at expiry needs at least one leg")
    for label, values in (
        ("underlying", {leg.contract.underlying for leg in legs}),
        ("expiry", {leg.contract.expiry.isoformat() for leg in legs}),
        ("multiplier", {str(leg.contract.multiplier) for leg in legs}),
    ):
        if len(values) > 1:
            raise PayoffUndefinedError(
                f"payoff at expiry needs one {label} across the legs, got {sorted(values)}"
            )
    return legs[0].contract.multiplier


def _decimal(number: float) -> Decimal:
    if not math.isfinite(number):
        raise PayoffUndefinedError(f"{number!r}: expected a finite number")
    return Decimal(repr(float(number)))


def _intrinsic(contract: OptionContract, spot: Decimal) -> Decimal:
    gain = spot - contract.strike if contract.is_call else contract.strike - spot
    return max(gain, Decimal(0))


def _value(legs: Sequence[Leg], premium: Decimal, spot: Decimal) -> Decimal:
    """Payoff per share: premium plus the signed intrinsic values."""
    return premium + sum(
        (leg.quantity * _intrinsic(leg.contract, spot) for leg in legs), Decimal(0)
    )


def _breakevens(points: list[Decimal], values: list[Decimal], slope: int) -> tuple[float, ...]:
    roots: list[Decimal] = []
    for (x0, v0), (x1, v1) in pairwise(zip(points, values, strict=True)):
        if v0 == 0:
            roots.append(x0)
        elif (v0 < 0) != (v1 < 0) and v1 != 0:
            roots.append(x0 + (x1 - x0) * v0 / (v0 - v1))
    last_x, last_v = points[-1], values[-1]
    if last_v == 0:
        roots.append(last_x)
    elif slope != 0 and (last_v > 0) != (slope > 0):
        roots.append(last_x - last_v / slope)
    return tuple(float(root) for root in roots)
