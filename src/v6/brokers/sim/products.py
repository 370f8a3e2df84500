"""Product facts the simulated exchange needs: settlement style, tick size, stock quotes."""

from __future__ import annotations

import math
from decimal import Decimal

from v6.domain import OptionContract

CASH_SETTLED_ROOTS = frozenset({"SPX", "SPXW", "XSP", "NDX", "NDXP", "RUT", "RUTW", "VIX", "DJX"})
"""Index option roots: European, cash-settled. Options on ETFs (SPY, QQQ, IWM) are American
and settle by delivering shares."""

PRICE_TICK = Decimal("0.01")
"""SPY, QQQ and IWM options trade in pennies at every price (penny interval program), and so
do their combos; the simulator holds every order price to this grid (else error 110)."""

STOCK_HALF_SPREAD = 0.005
"""The simulated underlying quote: one cent wide around the path's price, like SPY's."""
STOCK_QUOTE_SIZE = 1_000
"""Shares shown on each side of the simulated underlying quote."""


def is_cash_settled(contract: OptionContract) -> bool:
    return contract.underlying in CASH_SETTLED_ROOTS


def is_on_tick(price: float) -> bool:
    """True when ``price`` is a whole number of ticks (within float noise)."""
    ticks = price / float(PRICE_TICK)
    return math.isfinite(ticks) and abs(ticks - round(ticks)) < 1e-6


def stock_bid_ask(spot: float) -> tuple[float, float]:
    """A one-cent market around ``spot``, on the cent grid."""
    bid = math.floor((spot - STOCK_HALF_SPREAD) * 100 + 1e-9) / 100
    return bid, round(bid + 0.01, 2)
