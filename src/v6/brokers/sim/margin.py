"""Reg-T margin as IB applies it to a small options account, in a form one can check by hand.

Options are grouped by underlying and expiration. A group's requirement is the cheaper of:

* its **maximum loss at expiry** from the strikes alone - for a vertical spread the width x
  multiplier x quantity, for an iron condor the wider wing's (only one side can lose), for
  long options nothing (they are paid in full) - infinite when short calls are uncovered;
* every short option margined as **naked** (CBOE/Reg-T): the option's value plus 20 % of the
  underlying (15 % for a broad-based index) less the amount out of the money, at least 10 %
  of the underlying (calls) or of the strike (puts).

The premium received is credited to cash, not deducted here, so a credit spread uses
``width x multiplier - credit`` of buying power, as at IB. Longer-dated longs do not offset
nearer shorts across expirations (calendars are margined as naked shorts: conservative).
Stock: 50 % initial; 25 % (long) or 30 % (short) maintenance. Options need the same initial
and maintenance margin.
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from v6.brokers.sim.products import is_cash_settled
from v6.domain import Contract, OptionContract, StockContract

NAKED_RATE = 0.20
NAKED_INDEX_RATE = 0.15
NAKED_FLOOR_RATE = 0.10
STOCK_INITIAL_RATE = 0.50
STOCK_LONG_MAINTENANCE_RATE = 0.25
STOCK_SHORT_MAINTENANCE_RATE = 0.30


@dataclass(frozen=True, slots=True)
class Requirement:
    initial: float
    maintenance: float

    def __add__(self, other: Requirement) -> Requirement:
        return Requirement(self.initial + other.initial, self.maintenance + other.maintenance)


NO_REQUIREMENT = Requirement(0.0, 0.0)

OptionHolding = tuple[OptionContract, int]


def expiry_max_loss(holdings: Iterable[OptionHolding]) -> float:
    """The worst loss at expiry of options on one underlying and expiry, from strikes only
    (premium excluded); ``inf`` when short calls outnumber long calls."""
    return _max_loss(tuple(holdings))


@functools.lru_cache(maxsize=4096)
def _max_loss(legs: tuple[OptionHolding, ...]) -> float:
    """``expiry_max_loss``, kept per set of holdings: it depends on the strikes and
    quantities alone, and an account's groups change far less often than margin is asked."""
    call_slope = sum(quantity * c.multiplier for c, quantity in legs if c.is_call)
    if call_slope < 0:
        return math.inf
    prices = {0.0, *(float(c.strike) for c, _ in legs)}
    worst = min(
        sum(quantity * c.multiplier * c.intrinsic(price) for c, quantity in legs)
        for price in prices
    )
    return max(-worst, 0.0)


def naked_requirement(contract: OptionContract, quantity: int, spot: float, mark: float) -> float:
    """Reg-T margin of ``quantity`` short contracts margined alone (0 for longs)."""
    if quantity >= 0:
        return 0.0
    strike = float(contract.strike)
    out_of_money = max(strike - spot, 0.0) if contract.is_call else max(spot - strike, 0.0)
    rate = NAKED_INDEX_RATE if is_cash_settled(contract) else NAKED_RATE
    floor_base = spot if contract.is_call else strike
    per_share = max(mark, 0.0) + max(rate * spot - out_of_money, NAKED_FLOOR_RATE * floor_base)
    return per_share * contract.multiplier * -quantity


def option_group_requirement(
    holdings: Iterable[OptionHolding], spot: float, mark: Callable[[OptionContract], float]
) -> float:
    legs = list(holdings)
    naked = sum(naked_requirement(c, quantity, spot, mark(c)) for c, quantity in legs)
    return min(expiry_max_loss(legs), naked)


def stock_requirement(quantity: int, price: float) -> Requirement:
    value = abs(quantity) * price
    rate = STOCK_LONG_MAINTENANCE_RATE if quantity > 0 else STOCK_SHORT_MAINTENANCE_RATE
    return Requirement(STOCK_INITIAL_RATE * value, rate * value)


def requirement(
    positions: Mapping[Contract, int],
    spots: Mapping[str, float],
    mark: Callable[[Contract], float],
) -> Requirement:
    """The account's margin for ``positions`` (contract -> signed quantity)."""
    groups: dict[tuple[str, date], list[OptionHolding]] = defaultdict(list)
    total = NO_REQUIREMENT
    for contract, quantity in positions.items():
        if quantity == 0:
            continue
        if isinstance(contract, StockContract):
            total += stock_requirement(quantity, mark(contract))
        else:
            groups[contract.underlying, contract.expiry].append((contract, quantity))
    for (underlying, _), holdings in sorted(groups.items()):
        amount = option_group_requirement(holdings, spots[underlying], mark)
        total += Requirement(amount, amount)
    return total
