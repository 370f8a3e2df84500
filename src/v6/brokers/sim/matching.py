"""The fill model: when and at what price a working order fills at a market step.

All prices are net prices per unit that the order pays (the combo convention of
``v6.brokers.types``): the *natural* price crosses every leg's spread (pay the ask on legs
bought, take the bid on legs sold), the *mid* pays every leg's mid, the *passive* price rests
on the near side of every spread.

* A limit at or through the natural price is marketable: it fills at the natural price, up to
  the size shown (the smallest leg's size over its ratio), the rest stays working.
* A limit inside the spread fills at its own price with a probability that rises linearly
  from ``FILL_PROBABILITY_AT_MID`` at the mid to 1 at the natural price, and falls linearly to
  0 at the passive price. The probability is per 5 minutes of market time and is converted to
  the step length, so a coarser step does not make fills rarer per hour. Such a fill takes the
  whole remaining quantity half the time, otherwise a uniformly drawn part of it.
* A stop triggers when the mid reaches its price and then fills like a marketable order.

A combo fills all its legs together at one net price, split over the legs so that every leg
price stays inside its own bid/ask: each leg starts at its natural price and gives back the
net improvement in proportion to its spread.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from v6.brokers.types import OrderLeg, OrderSpec, OrderType, Quote

FILL_PROBABILITY_AT_MID = 0.2
"""Chance per 5 minutes that a limit at the mid fills (and 0.1 halfway to the passive side)."""
FILL_PROBABILITY_MINUTES = 5.0
PRICE_DIGITS = 6


@dataclass(frozen=True, slots=True)
class ComboMarket:
    """Net prices of one unit of an order's legs, and the units the shown sizes allow."""

    natural: float
    mid: float
    passive: float
    available: int


@dataclass(frozen=True, slots=True)
class FillDecision:
    units: int
    net_price: float


def combo_market(legs: Sequence[OrderLeg], quotes: Sequence[Quote]) -> ComboMarket | None:
    """The market for one unit of ``legs``; None when a leg has no valid two-sided quote
    (its mid is NaN)."""
    mids = [quote.mid for quote in quotes]
    if any(map(math.isnan, mids)):
        return None
    natural = mid = passive = 0.0
    available: int | None = None
    for leg, quote, leg_mid in zip(legs, quotes, mids, strict=True):
        buying = leg.ratio > 0
        natural += leg.ratio * (quote.ask if buying else quote.bid)
        passive += leg.ratio * (quote.bid if buying else quote.ask)
        mid += leg.ratio * leg_mid
        shown = quote.ask_size if buying else quote.bid_size
        units = shown // abs(leg.ratio)
        available = units if available is None else min(available, units)
    return ComboMarket(natural, mid, passive, available or 0)


def fill_probability(limit: float, market: ComboMarket, step_minutes: float) -> float:
    """The chance that a non-marketable ``limit`` fills in one step of ``step_minutes``."""
    half_spread = market.natural - market.mid
    if half_spread <= 0:
        return 0.0
    position = (limit - market.mid) / half_spread
    if position >= 0:
        per_five = FILL_PROBABILITY_AT_MID + (1 - FILL_PROBABILITY_AT_MID) * min(position, 1.0)
    else:
        per_five = FILL_PROBABILITY_AT_MID * max(1 + position, 0.0)
    if per_five >= 1.0:
        return 1.0
    exponent = step_minutes / FILL_PROBABILITY_MINUTES
    return float(1.0 - (1.0 - per_five) ** exponent)


def stop_triggered(spec: OrderSpec, market: ComboMarket) -> bool:
    return spec.order_type is OrderType.STOP and market.mid >= spec.trigger_price


def decide_fill(
    spec: OrderSpec,
    remaining: int,
    market: ComboMarket,
    *,
    triggered: bool,
    step_minutes: float,
    rng: np.random.Generator,
) -> FillDecision | None:
    """Whether the order fills at this step, how many units and at which net price."""
    if market.available <= 0:
        return None
    if spec.order_type is OrderType.STOP:
        if not triggered:
            return None
        return FillDecision(min(remaining, market.available), market.natural)
    limit = spec.trigger_price
    if limit >= market.natural - 1e-9:
        return FillDecision(min(remaining, market.available), market.natural)
    probability = fill_probability(limit, market, step_minutes)
    if probability <= 0.0 or rng.random() >= probability:
        return None
    units = remaining
    if remaining > 1 and rng.random() >= 0.5:
        units = int(rng.integers(1, remaining))
    return FillDecision(min(units, market.available), limit)


def leg_prices(legs: Sequence[OrderLeg], quotes: Sequence[Quote], net_price: float) -> list[float]:
    """Per-share prices of the legs whose ratio-weighted sum is ``net_price``, each inside
    its own bid/ask (see the module doc)."""
    naturals = [q.ask if leg.ratio > 0 else q.bid for leg, q in zip(legs, quotes, strict=True)]
    spreads = [q.ask - q.bid for q in quotes]
    natural = sum(leg.ratio * price for leg, price in zip(legs, naturals, strict=True))
    room = sum(abs(leg.ratio) * spread for leg, spread in zip(legs, spreads, strict=True))
    share = (natural - net_price) / room if room > 0 else 0.0
    prices = []
    for leg, price, spread in zip(legs, naturals, spreads, strict=True):
        direction = 1 if leg.ratio > 0 else -1
        prices.append(round(max(price - direction * spread * share, 0.0), PRICE_DIGITS))
    return prices
