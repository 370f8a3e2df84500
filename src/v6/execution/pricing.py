"""Prices of combo orders: tick rounding, the market of a set of legs, and the price walk.

Every price here is a net price per unit in IB's combo convention (``v6.domain.orders``): what
V6 *pays*, so a credit is negative and a higher price is always worse for V6. That makes the
rules one-sided whatever the order:

* the *mid* pays every leg's mid; the *natural* price crosses every spread (ask on legs
  bought, bid on legs sold) and is the worst price that still fills at once;
* the walk starts at the mid rounded down to the tick (in V6's favour) and each step concedes
  ``step_fraction`` of the mid-to-natural distance (at least one tick), rounded up; it never
  passes the natural price, ``max_concession_fraction`` of the distance, the order's limit
  (its floor: the minimum credit, or the maximum debit) or - for an order that started as a
  credit - zero: a credit never becomes a debit. The capped price is rounded down.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from v6.brokers.types import Quote
from v6.config.execution import PriceWalkConfig

_TICK_NOISE = Decimal("1e-9")


def round_down(price: float, tick: float) -> float:
    """``price`` rounded down to a whole number of ticks (float noise forgiven)."""
    return _to_tick(price, tick, ROUND_FLOOR)


def round_up(price: float, tick: float) -> float:
    """``price`` rounded up to a whole number of ticks (float noise forgiven)."""
    return _to_tick(price, tick, ROUND_CEILING)


def _to_tick(price: float, tick: float, rounding: str) -> float:
    if not (math.isfinite(price) and math.isfinite(tick) and tick > 0):
        raise ValueError(f"price {price!r}, tick {tick!r}: expected finite numbers, tick > 0")
    step = Decimal(repr(tick))
    ticks = Decimal(repr(price)) / step
    nearest = ticks.to_integral_value()
    whole = nearest if abs(ticks - nearest) < _TICK_NOISE else ticks.to_integral_value(rounding)
    return float(whole * step)


@dataclass(frozen=True, slots=True)
class ComboMarket:
    """Net prices of one unit of a set of legs (combo convention) and the summed width of
    the legs' bid/ask spreads (each times its ratio)."""

    mid: float
    natural: float
    width: float

    @property
    def is_credit(self) -> bool:
        return self.mid < 0

    @property
    def spread_fraction(self) -> float:
        """Width over the absolute mid; infinite for a zero mid."""
        return self.width / abs(self.mid) if self.mid else math.inf


def combo_market(legs: Iterable[tuple[int, Quote]]) -> ComboMarket | None:
    """The market of ``(signed ratio, quote)`` legs; None when any quote is not valid."""
    mid = natural = width = 0.0
    for ratio, quote in legs:
        if not quote.is_valid:
            return None
        natural += ratio * (quote.ask if ratio > 0 else quote.bid)
        mid += ratio * quote.mid
        width += abs(ratio) * (quote.ask - quote.bid)
    return ComboMarket(mid, natural, width)


def walk_steps(config: PriceWalkConfig) -> int:
    """The number of concessions after the start: the walk prices steps ``0..walk_steps``."""
    return math.ceil(config.max_concession_fraction / config.step_fraction - 1e-9)


def walk_price(
    market: ComboMarket,
    step: int,
    limit: float,
    config: PriceWalkConfig,
    *,
    urgent: bool = False,
) -> float:
    """The limit for walk step ``step`` (0 = the start) in ``market``, never beyond ``limit``
    (see the module docstring). ``urgent`` starts at the natural price (a marketable exit)."""
    if step < 0:
        raise ValueError(f"walk step {step!r}: expected >= 0")
    tick = config.price_tick
    distance = max(market.natural - market.mid, 0.0)
    if urgent:
        price = market.natural
    elif step == 0:
        price = round_down(market.mid, tick)
    else:
        most = config.max_concession_fraction * distance
        concession = min(step * max(config.step_fraction * distance, tick), max(most, tick))
        price = round_up(market.mid + concession, tick)
    caps = [market.natural, limit]
    if market.is_credit:
        caps.append(-tick)
    return round_down(min(price, *caps), tick)
