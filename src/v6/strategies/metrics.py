"""Metrics of a priced strategy: position Greeks, time to expiry, forward and probability of
profit.

Probability of profit: the chance, under a risk-neutral lognormal law for the underlying at
expiry, that the payoff at expiry is positive. The law is centred on the forward implied by
put-call parity at the money (``F = K + C - P`` from the mids of a call and a put of one
strike: model-free, dividends and rates included, the discount on ``C - P`` neglected). Each
breakeven ``b`` is priced at the implied volatility of the leg whose strike is nearest to it,
so the skew the chain shows is used where it matters:
``P(S_T < b) = N((ln(b / F) + sigma^2 T / 2) / (sigma sqrt T))``. The profit zone is read off
the payoff between breakevens. This is the market's (risk-neutral) probability, not a
forecast: it is what the credit pays for.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime
from itertools import pairwise
from statistics import NormalDist

from v6.brokers.types import Quote
from v6.domain import Greeks, Leg, Strategy
from v6.market.calendar import TradingCalendar

SECONDS_PER_YEAR = 365.0 * 86_400.0
"""Calendar years of 365 days, as ``v6.pricing`` and the simulated market measure time."""

_NORMAL = NormalDist()


def years_to_expiry(now: datetime, expiry: date, calendar: TradingCalendar) -> float:
    """Calendar years from ``now`` to the close of the expiry session."""
    return (calendar.session_close(expiry) - now).total_seconds() / SECONDS_PER_YEAR


def parity_forward(strike: float, call: Quote, put: Quote) -> float:
    """The forward implied by one strike's call and put mids: ``K + C - P``."""
    return strike + call.mid - put.mid


def position_greeks(legs: Sequence[Leg], quotes: Sequence[Quote], units: int) -> Greeks:
    """Position Greeks of ``units`` units from each leg's model Greeks (IB units: per share,
    theta per day, vega per vol point): delta in shares, theta in $/day, vega in $/point."""
    total = Greeks.zero()
    for leg, quote in zip(legs, quotes, strict=True):
        if quote.greeks is None:
            raise ValueError(f"no model Greeks in the quote of {leg.contract.occ_symbol}")
        total += quote.greeks.scaled(leg.quantity * units, leg.contract.multiplier)
    return total


def below_probability(level: float, forward: float, vol: float, years: float) -> float:
    """Risk-neutral lognormal ``P(S_T < level)``."""
    if level <= 0:
        return 0.0
    spread = vol * math.sqrt(years)
    if spread <= 0:
        return 1.0 if forward < level else 0.0
    return _NORMAL.cdf((math.log(level / forward) + spread * spread / 2) / spread)


def probability_of_profit(
    strategy: Strategy, quotes: Sequence[Quote], forward: float, years: float
) -> float:
    """See the module docstring. ``quotes`` follow ``strategy.legs``; the strategy must carry
    its entry premium and one expiry."""
    breakevens = strategy.breakevens
    vol_at = _vol_by_nearest_strike(strategy.legs, quotes)
    edges = [0.0, *breakevens, math.inf]
    chance = 0.0
    for low, high in pairwise(edges):
        if strategy.payoff_at_expiry(_inside(low, high)) > 0:
            chance += _between(low, high, forward, years, vol_at)
    return min(max(chance, 0.0), 1.0)


def _inside(low: float, high: float) -> float:
    """A price strictly inside (low, high); past the last breakeven, 10 % beyond it."""
    return (low + high) / 2 if math.isfinite(high) else max(low * 1.1, 1.0)


def _between(low: float, high: float, forward: float, years: float, vol_at: VolAt) -> float:
    upper = 1.0 if math.isinf(high) else below_probability(high, forward, vol_at(high), years)
    lower = below_probability(low, forward, vol_at(low), years) if low > 0 else 0.0
    return upper - lower


class VolAt:
    """The implied volatility of the leg whose strike is nearest to a price."""

    def __init__(self, strikes: list[float], vols: list[float]) -> None:
        self._pairs = list(zip(strikes, vols, strict=True))

    def __call__(self, price: float) -> float:
        return min(self._pairs, key=lambda pair: abs(pair[0] - price))[1]


def _vol_by_nearest_strike(legs: Sequence[Leg], quotes: Sequence[Quote]) -> VolAt:
    strikes, vols = [], []
    for leg, quote in zip(legs, quotes, strict=True):
        if not (math.isfinite(quote.iv) and quote.iv > 0):
            raise ValueError(f"no implied volatility in the quote of {leg.contract.occ_symbol}")
        strikes.append(float(leg.contract.strike))
        vols.append(quote.iv)
    return VolAt(strikes, vols)
