"""Option sensitivities that add up across legs and positions.

Two unit systems meet here, as in the design brief:

* **Per-share, textbook units** - what the pricing functions return for one share of
  underlying: delta and gamma per 1.00 move of the underlying, theta per year, vega and rho
  per 1.00 (100 percentage points) of volatility and rate.
* **Position units** - what the portfolio view shows: delta and gamma in share-equivalents,
  theta in currency per calendar day, vega per 1 vol point, rho per 1 rate point.

``to_position_units`` converts the first into the second. Theta is divided by 365 calendar
days, because the pricing functions measure time in calendar years (ACT/365), so one day of
decay is 1/365 of the annual rate, weekends included. ``scaled`` only multiplies, for callers
that already hold Greeks in the units they want (e.g. IB's model Greeks, which are per day and
per vol point).
"""

import math
from dataclasses import dataclass

from v6.domain._checks import require_finite
from v6.domain.errors import InvalidGreeksError

DAYS_PER_YEAR = 365
"""Calendar days in the pricing year (ACT/365); the divisor for theta per day."""

PERCENT = 100
"""Textbook vega and rho are per 1.00; position vega and rho are per 0.01 (one point)."""


@dataclass(frozen=True, slots=True)
class Greeks:
    """Delta, gamma, theta, vega, rho. Supports ``+``, ``-``, unary ``-``, ``* number`` and
    ``sum()`` (``0 + greeks`` is ``greeks``). All values must be finite."""

    delta: float
    gamma: float
    theta: float
    vega: float
    rho: float = 0.0

    def __post_init__(self) -> None:
        values = (self.delta, self.gamma, self.theta, self.vega, self.rho)
        if all(type(value) is float for value in values) and math.isfinite(sum(values)):
            return  # finite floats already: the usual case (a market step makes thousands)
        for name in ("delta", "gamma", "theta", "vega", "rho"):
            value = require_finite(getattr(self, name), f"Greeks.{name}", InvalidGreeksError)
            object.__setattr__(self, name, float(value))

    @classmethod
    def zero(cls) -> "Greeks":
        return cls(0.0, 0.0, 0.0, 0.0, 0.0)

    def __add__(self, other: "Greeks") -> "Greeks":
        if not isinstance(other, Greeks):
            return NotImplemented
        return Greeks(
            self.delta + other.delta,
            self.gamma + other.gamma,
            self.theta + other.theta,
            self.vega + other.vega,
            self.rho + other.rho,
        )

    def __radd__(self, other: "Greeks | int") -> "Greeks":
        """Lets ``sum()`` start from its default ``0``."""
        if isinstance(other, int) and not isinstance(other, bool) and other == 0:
            return self
        return NotImplemented

    def __neg__(self) -> "Greeks":
        return self * -1

    def __sub__(self, other: "Greeks") -> "Greeks":
        if not isinstance(other, Greeks):
            return NotImplemented
        return self + (-other)

    def __mul__(self, factor: float) -> "Greeks":
        if isinstance(factor, bool) or not isinstance(factor, int | float):
            return NotImplemented
        return Greeks(
            self.delta * factor,
            self.gamma * factor,
            self.theta * factor,
            self.vega * factor,
            self.rho * factor,
        )

    __rmul__ = __mul__

    def scaled(self, quantity: int, multiplier: int) -> "Greeks":
        """These Greeks times ``quantity`` contracts (signed) of ``multiplier`` shares each."""
        return self * (quantity * multiplier)

    def to_position_units(self, quantity: int, multiplier: int) -> "Greeks":
        """Per-share textbook Greeks -> position Greeks for ``quantity`` contracts (signed).

        delta, gamma: x quantity x multiplier (share-equivalents);
        theta: / 365 x quantity x multiplier (currency per calendar day);
        vega, rho: / 100 x quantity x multiplier (currency per 1 point).
        """
        size = quantity * multiplier
        return Greeks(
            delta=self.delta * size,
            gamma=self.gamma * size,
            theta=self.theta / DAYS_PER_YEAR * size,
            vega=self.vega / PERCENT * size,
            rho=self.rho / PERCENT * size,
        )
