"""What happens to options at and before expiry.

At the close of an option's last trading day:

* index options (``products.CASH_SETTLED_ROOTS``) settle in cash at their intrinsic value
  from the closing price (PM settlement);
* options on ETFs in the money by $0.01 or more are exercised (long) or assigned (short),
  delivering shares at the strike - OCC's exercise-by-exception threshold; the rest expire
  worthless.

Early assignment: at the close of the session before an ex-dividend date, a short call on a
stock or ETF that is in the money and whose extrinsic value (its price less intrinsic value)
is below the dividend is assigned - its holder gains by exercising to collect the dividend.

Each result is a ``Settlement``: one booking on the account (the option closed at 0 or at its
cash value; the shares bought or sold at the strike).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from v6.brokers.sim.products import is_cash_settled
from v6.brokers.types import ExecutionKind
from v6.domain import Contract, OptionContract, StockContract

EXERCISE_THRESHOLD = 0.01
"""In the money by at least this much (per share) at expiry: exercised automatically."""


@dataclass(frozen=True, slots=True)
class Settlement:
    contract: Contract
    quantity: int
    price: float
    kind: ExecutionKind


def _in_the_money(contract: OptionContract, spot: float) -> float:
    """Intrinsic value, rounded off float noise."""
    return round(contract.intrinsic(spot), 6)


def _deliver(contract: OptionContract, quantity: int) -> list[Settlement]:
    """Exercise (long) or assignment (short) of ``quantity`` contracts into shares."""
    kind = ExecutionKind.EXERCISE if quantity > 0 else ExecutionKind.ASSIGNMENT
    direction = 1 if contract.is_call else -1
    shares = quantity * contract.multiplier * direction
    return [
        Settlement(contract, -quantity, 0.0, kind),
        Settlement(StockContract(contract.underlying), shares, float(contract.strike), kind),
    ]


def settle_expiring(
    holdings: Mapping[Contract, int], day: date, spots: Mapping[str, float]
) -> list[Settlement]:
    """Settle every option position expiring on or before ``day`` at the closing ``spots``."""
    options = sorted(
        (c for c, q in holdings.items() if q and isinstance(c, OptionContract) and c.expiry <= day),
        key=lambda c: c.occ_symbol,
    )
    settlements: list[Settlement] = []
    for contract in options:
        quantity = holdings[contract]
        value = _in_the_money(contract, spots[contract.underlying])
        if is_cash_settled(contract):
            kind = ExecutionKind.CASH_SETTLEMENT if value > 0 else ExecutionKind.EXPIRATION
            settlements.append(Settlement(contract, -quantity, value, kind))
        elif value >= EXERCISE_THRESHOLD:
            settlements += _deliver(contract, quantity)
        else:
            settlements.append(Settlement(contract, -quantity, 0.0, ExecutionKind.EXPIRATION))
    return settlements


def early_assignments(
    holdings: Mapping[Contract, int],
    dividends: Mapping[str, float],
    spots: Mapping[str, float],
    mark: Callable[[Contract], float],
) -> list[Settlement]:
    """Assign short calls whose extrinsic value is below tomorrow's dividend
    (``dividends``: underlying -> amount going ex on the next session)."""
    settlements: list[Settlement] = []
    for contract in sorted(
        (c for c in holdings if isinstance(c, OptionContract)), key=lambda c: c.occ_symbol
    ):
        quantity = holdings[contract]
        dividend = dividends.get(contract.underlying)
        if quantity >= 0 or dividend is None or not contract.is_call or is_cash_settled(contract):
            continue
        intrinsic = _in_the_money(contract, spots[contract.underlying])
        if intrinsic >= EXERCISE_THRESHOLD and mark(contract) - intrinsic < dividend:
            settlements += _deliver(contract, quantity)
    return settlements
