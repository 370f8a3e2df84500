"""What V6 wants to trade (``OrderIntent``) and what the broker executed (``Fill``).

Prices follow IB's combo convention everywhere: the limit price is the net price per unit
(per share, before the multiplier) that V6 pays, so a debit is positive and a credit is
negative (selling an iron condor for 2.00 is ``limit_price=-2.00``). The broker adapter turns a
single-leg intent into IB's BUY/SELL action with a positive price.
"""

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum, auto

from v6.domain._checks import (
    require_finite,
    require_identifier,
    require_member,
    require_non_negative,
    require_nonzero_int,
    require_positive_int,
    require_utc,
)
from v6.domain.contracts import Contract, OptionContract, StockContract
from v6.domain.errors import InvalidOrderError
from v6.domain.legs import Leg


class IntentKind(StrEnum):
    OPEN = auto()
    CLOSE = auto()
    ROLL = auto()
    REDUCE = auto()


_INTENT_VALUES = frozenset(kind.value for kind in IntentKind)
_ORDER_REF = re.compile(r"(?P<strategy>[^:]+):(?P<intent>[a-z]+):(?P<attempt>[1-9][0-9]*)")


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """One order V6 means to place for a strategy.

    ``legs`` hold the ratios of one unit (as in ``Strategy``, + buy, - sell) and ``quantity``
    the number of units; ``limit_price`` is the net price per unit in the combo convention of
    the module docstring.
    """

    strategy_id: str
    intent: IntentKind
    legs: tuple[Leg, ...]
    quantity: int
    limit_price: float

    def __post_init__(self) -> None:
        require_identifier(self.strategy_id, "OrderIntent.strategy_id", InvalidOrderError)
        require_member(self.intent, IntentKind, "OrderIntent.intent", InvalidOrderError)
        require_positive_int(self.quantity, "OrderIntent.quantity", InvalidOrderError)
        require_finite(self.limit_price, "OrderIntent.limit_price", InvalidOrderError)
        self._check_legs()

    def _check_legs(self) -> None:
        legs = self.legs
        if not isinstance(legs, tuple | list) or not all(isinstance(leg, Leg) for leg in legs):
            raise InvalidOrderError(f"OrderIntent.legs = {legs!r}: expected a tuple of Leg")
        object.__setattr__(self, "legs", tuple(legs))
        if not legs:
            raise InvalidOrderError("OrderIntent.legs = (): expected at least one leg")
        contracts = [leg.contract for leg in legs]
        if len(set(contracts)) != len(contracts):
            raise InvalidOrderError(
                f"OrderIntent.legs: contracts {[c.occ_symbol for c in contracts]} repeat: "
                "expected each contract once"
            )
        if len(legs) == 1 and legs[0].quantity * self.limit_price < 0:
            side = "buy" if legs[0].quantity > 0 else "sell"
            raise InvalidOrderError(
                f"OrderIntent.limit_price = {self.limit_price!r} for a single-leg {side}: "
                "expected >= 0 to buy (a debit) and <= 0 to sell (a credit)"
            )

    def order_ref(self, attempt: int) -> str:
        """IB ``orderRef`` for the ``attempt``-th placement (from 1): the same intent and
        attempt always give the same reference, so a replayed cycle finds its own order."""
        require_positive_int(attempt, "OrderIntent.order_ref.attempt", InvalidOrderError)
        return f"{self.strategy_id}:{self.intent.value}:{attempt}"


def parse_order_ref(ref: str) -> tuple[str, IntentKind, int]:
    """Split an ``order_ref`` into (strategy_id, intent, attempt)."""
    match = _ORDER_REF.fullmatch(ref) if isinstance(ref, str) else None
    if match is None or match["intent"] not in _INTENT_VALUES:
        raise InvalidOrderError(
            f"order ref {ref!r}: expected '<strategy_id>:<intent>:<attempt>' with intent one "
            f"of {[kind.value for kind in IntentKind]} and attempt >= 1"
        )
    return match["strategy"], IntentKind(match["intent"]), int(match["attempt"])


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution of one contract, as the broker reports it.

    ``quantity`` is signed (bought +, sold -), ``price`` per share (>= 0), ``commission`` in
    currency (>= 0), ``time`` in UTC (aware datetimes are converted, naive ones rejected).
    """

    exec_id: str
    order_id: str
    contract: Contract
    quantity: int
    price: float
    commission: float
    time: datetime

    def __post_init__(self) -> None:
        require_identifier(self.exec_id, "Fill.exec_id", InvalidOrderError)
        require_identifier(self.order_id, "Fill.order_id", InvalidOrderError)
        if not isinstance(self.contract, OptionContract | StockContract):
            raise InvalidOrderError(
                f"Fill.contract = {self.contract!r}: expected an OptionContract or StockContract"
            )
        require_nonzero_int(self.quantity, "Fill.quantity", InvalidOrderError)
        require_non_negative(self.price, "Fill.price", InvalidOrderError)
        require_non_negative(self.commission, "Fill.commission", InvalidOrderError)
        object.__setattr__(self, "time", require_utc(self.time, "Fill.time", InvalidOrderError))

    @property
    def cash_flow(self) -> float:
        """Cash into the account: premium received for a sale, paid for a purchase, less
        commission."""
        return -self.quantity * self.price * self.contract.multiplier - self.commission
