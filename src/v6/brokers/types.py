"""What crosses the broker port besides events: orders, order states, quotes, account values.

Our own names for IB's model (ib_async's ``Order``, ``Trade``/``OrderStatus``, ``Ticker``,
``AccountValue``, ``OptionChain``, ``OrderState`` from what-if); the IB adapter translates at
its border so IB's camelCase never reaches the rest of V6.

Prices follow IB's combo convention everywhere, as ``v6.domain.orders`` does: an order's legs
carry signed ratios (+ buy, - sell) and its limit price is the *net price per unit that V6
pays*, per share before the multiplier: a debit is positive and a credit negative (selling an
iron condor for 2.00 is ``limit_price=-2.00``). A single-leg sale is ``ratio=-1`` with a
price <= 0; the IB adapter turns it into action SELL with a positive price. A stop price uses
the same convention and triggers when the net mid price to pay rises to it (for a sale: when
the market falls to it).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import IntEnum, StrEnum

from v6.domain import (
    Contract,
    Greeks,
    InvalidOrderError,
    OptionContract,
    OrderIntent,
    StockContract,
)

MAX_ORDER_REF_LENGTH = 100


class OrderStatus(StrEnum):
    """IB's order states, with IB's spelling as values.

    PendingSubmit: sent, not yet acknowledged. PreSubmitted: accepted and held (a bracket
    child waiting for its parent, or an order waiting for the open). Submitted: working.
    PendingCancel: a cancel is on its way; a fill can still arrive first. Cancelled: ended by
    a cancel (ours, an OCA group, a parent's, or the end of the day). ApiCancelled: cancelled
    before it was ever working. Filled: completely filled. Inactive: rejected.
    """

    PENDING_SUBMIT = "PendingSubmit"
    PRE_SUBMITTED = "PreSubmitted"
    SUBMITTED = "Submitted"
    PENDING_CANCEL = "PendingCancel"
    CANCELLED = "Cancelled"
    API_CANCELLED = "ApiCancelled"
    FILLED = "Filled"
    INACTIVE = "Inactive"

    @property
    def is_done(self) -> bool:
        """True once the order can no longer fill."""
        return self in _DONE_STATES


_DONE_STATES = frozenset(
    {OrderStatus.CANCELLED, OrderStatus.API_CANCELLED, OrderStatus.FILLED, OrderStatus.INACTIVE}
)


class OrderType(StrEnum):
    LIMIT = "LMT"
    STOP = "STP"


class TimeInForce(StrEnum):
    DAY = "DAY"
    GTC = "GTC"


class OcaType(IntEnum):
    """What happens to the rest of an OCA group when one member fills (IB's ``ocaType``).

    1: cancel the others; 2: reduce the others by the filled quantity, with overfill
    protection (one member fills at a time); 3: reduce them without that protection, so two
    members can fill in the same instant.
    """

    CANCEL_WITH_BLOCK = 1
    REDUCE_WITH_BLOCK = 2
    REDUCE_NON_BLOCK = 3


class ExecutionKind(StrEnum):
    """How a position changed: a trade, or an event at or before expiry."""

    TRADE = "trade"
    EXERCISE = "exercise"
    ASSIGNMENT = "assignment"
    EXPIRATION = "expiration"
    CASH_SETTLEMENT = "cash_settlement"


def underlying_of(contract: Contract) -> str:
    """The symbol a contract's price depends on: the option's root or the stock itself."""
    return contract.underlying if isinstance(contract, OptionContract) else contract.symbol


@dataclass(frozen=True, slots=True)
class OrderLeg:
    """One contract of an order and its signed ratio per unit (+ buy, - sell)."""

    contract: Contract
    ratio: int

    def __post_init__(self) -> None:
        if not isinstance(self.contract, OptionContract | StockContract):
            raise InvalidOrderError(
                f"OrderLeg.contract = {self.contract!r}: expected an OptionContract or "
                "StockContract"
            )
        ratio = self.ratio
        if isinstance(ratio, bool) or not isinstance(ratio, int) or ratio == 0:
            raise InvalidOrderError(f"OrderLeg.ratio = {ratio!r}: expected a non-zero integer")


@dataclass(frozen=True, slots=True)
class OrderSpec:
    """An order as V6 sends it: legs, units, type and prices in the module's convention.

    ``quantity`` is the number of units (combos) or contracts/shares (one leg with ratio
    +-1). A LIMIT order needs ``limit_price``, a STOP order ``stop_price`` (it becomes a
    market order when triggered). ``oca_group`` links orders that exclude each other;
    ``order_ref`` is free text that comes back with every status and execution.
    """

    legs: tuple[OrderLeg, ...]
    quantity: int
    order_type: OrderType = OrderType.LIMIT
    limit_price: float | None = None
    stop_price: float | None = None
    tif: TimeInForce = TimeInForce.DAY
    order_ref: str = ""
    oca_group: str = ""
    oca_type: OcaType = OcaType.CANCEL_WITH_BLOCK

    def __post_init__(self) -> None:
        self._check_legs()
        quantity = self.quantity
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
            raise InvalidOrderError(f"OrderSpec.quantity = {quantity!r}: expected an integer > 0")
        for field, kind in ((self.order_type, OrderType), (self.tif, TimeInForce)):
            if not isinstance(field, kind):
                raise InvalidOrderError(f"OrderSpec: {field!r} is not a {kind.__name__}")
        if not isinstance(self.oca_type, OcaType):
            raise InvalidOrderError(f"OrderSpec.oca_type = {self.oca_type!r}: expected 1, 2 or 3")
        object.__setattr__(self, "oca_type", OcaType(self.oca_type))
        self._check_prices()
        for name in ("order_ref", "oca_group"):
            text = getattr(self, name)
            if not isinstance(text, str) or len(text) > MAX_ORDER_REF_LENGTH:
                raise InvalidOrderError(
                    f"OrderSpec.{name} = {text!r}: expected text of at most "
                    f"{MAX_ORDER_REF_LENGTH} characters"
                )

    def _check_legs(self) -> None:
        legs = self.legs
        if not isinstance(legs, tuple | list) or not all(isinstance(leg, OrderLeg) for leg in legs):
            raise InvalidOrderError(f"OrderSpec.legs = {legs!r}: expected a tuple of OrderLeg")
        object.__setattr__(self, "legs", tuple(legs))
        if not legs:
            raise InvalidOrderError("OrderSpec.legs = (): expected at least one leg")
        contracts = [leg.contract for leg in legs]
        if len(set(contracts)) != len(contracts):
            raise InvalidOrderError(f"OrderSpec.legs: contracts repeat in {contracts!r}")
        underlyings = {underlying_of(contract) for contract in contracts}
        if len(underlyings) != 1:
            raise InvalidOrderError(
                f"OrderSpec.legs: underlyings {sorted(underlyings)}: a combo (BAG) must have "
                "one underlying"
            )
        multipliers = {contract.multiplier for contract in contracts}
        if len(multipliers) != 1:
            raise InvalidOrderError(
                f"OrderSpec.legs: multipliers {sorted(multipliers)}: a combo's legs must share "
                "one multiplier (its net price is per share of every leg)"
            )
        if len(legs) == 1 and abs(legs[0].ratio) != 1:
            raise InvalidOrderError(
                f"OrderSpec.legs: a single leg has ratio {legs[0].ratio}: expected +1 or -1 "
                "(put the size in quantity)"
            )

    def _check_prices(self) -> None:
        needed = "limit_price" if self.order_type is OrderType.LIMIT else "stop_price"
        for name in ("limit_price", "stop_price"):
            value = getattr(self, name)
            if value is None:
                if name == needed:
                    raise InvalidOrderError(
                        f"OrderSpec.{name} = None: a {self.order_type.value} order needs one"
                    )
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidOrderError(f"OrderSpec.{name} = {value!r}: expected a number")
            if not math.isfinite(value):
                raise InvalidOrderError(f"OrderSpec.{name} = {value!r}: expected a finite number")
            if len(self.legs) == 1 and self.legs[0].ratio * value < 0:
                side = "buy" if self.legs[0].ratio > 0 else "sell"
                raise InvalidOrderError(
                    f"OrderSpec.{name} = {value!r} for a single-leg {side}: expected >= 0 to "
                    "buy (a debit) and <= 0 to sell (a credit)"
                )

    @classmethod
    def from_intent(
        cls, intent: OrderIntent, attempt: int, tif: TimeInForce = TimeInForce.DAY
    ) -> OrderSpec:
        """The limit order for the ``attempt``-th placement of a domain ``OrderIntent``."""
        legs = tuple(OrderLeg(leg.contract, leg.quantity) for leg in intent.legs)
        quantity, price = intent.quantity, intent.limit_price
        if len(legs) == 1:
            size = abs(legs[0].ratio)
            legs = (OrderLeg(legs[0].contract, legs[0].ratio // size),)
            quantity, price = quantity * size, price / size
        return cls(
            legs=legs,
            quantity=quantity,
            limit_price=price,
            tif=tif,
            order_ref=intent.order_ref(attempt),
        )

    @property
    def is_combo(self) -> bool:
        return len(self.legs) > 1

    @property
    def underlying(self) -> str:
        return underlying_of(self.legs[0].contract)

    @property
    def multiplier(self) -> int:
        return self.legs[0].contract.multiplier

    @property
    def trigger_price(self) -> float:
        """The price that matters for this order type: the limit, or the stop."""
        price = self.limit_price if self.order_type is OrderType.LIMIT else self.stop_price
        assert price is not None  # checked in __post_init__
        return price

    def closing(
        self,
        order_type: OrderType,
        price: float,
        *,
        oca_group: str = "",
        oca_type: OcaType = OcaType.CANCEL_WITH_BLOCK,
    ) -> OrderSpec:
        """The order that closes this one's position: legs reversed, same units, GTC."""
        legs = tuple(OrderLeg(leg.contract, -leg.ratio) for leg in self.legs)
        is_limit = order_type is OrderType.LIMIT
        return OrderSpec(
            legs=legs,
            quantity=self.quantity,
            order_type=order_type,
            limit_price=price if is_limit else None,
            stop_price=None if is_limit else price,
            tif=TimeInForce.GTC,
            order_ref=self.order_ref,
            oca_group=oca_group,
            oca_type=oca_type,
        )

    def changed(
        self,
        quantity: int | None = None,
        limit_price: float | None = None,
        stop_price: float | None = None,
    ) -> OrderSpec:
        """This order with a new quantity and/or price (what IB's modify can change)."""
        return dataclasses.replace(
            self,
            quantity=self.quantity if quantity is None else quantity,
            limit_price=self.limit_price if limit_price is None else limit_price,
            stop_price=self.stop_price if stop_price is None else stop_price,
        )


@dataclass(frozen=True, slots=True)
class OrderState:
    """An order as the broker last reported it. ``avg_fill_price`` is the net price per unit
    in the combo convention (0.0 before any fill); ``parent_id`` links bracket children."""

    order_id: int
    spec: OrderSpec
    status: OrderStatus
    filled: int = 0
    avg_fill_price: float = 0.0
    parent_id: int | None = None
    message: str = ""

    @property
    def remaining(self) -> int:
        return 0 if self.status.is_done else self.spec.quantity - self.filled

    @property
    def is_done(self) -> bool:
        return self.status.is_done


@dataclass(frozen=True, slots=True)
class Quote:
    """One contract's market at one instant (IB's ``Ticker``).

    Prices per share; sizes in contracts (shares for stock). ``greeks`` are the model Greeks
    per share in IB's units: delta, gamma per 1.00 of the underlying, theta per calendar day,
    vega per 1 vol point (None for stock or when the model has none); ``iv`` is decimal.
    A quote may be bad - NaN, zero, negative or crossed - exactly as a live feed can be:
    check ``is_valid`` before trusting it.
    """

    contract: Contract
    time: datetime
    bid: float
    ask: float
    last: float
    bid_size: int
    ask_size: int
    iv: float
    greeks: Greeks | None
    underlying_price: float

    @property
    def is_valid(self) -> bool:
        """Finite prices, a positive ask, a bid of zero or more, not crossed. A zero bid is a
        real market (nobody bids a far out-of-the-money option): a position in it can still
        be closed, selling at nothing."""
        finite = math.isfinite(self.bid) and math.isfinite(self.ask)
        return finite and 0.0 <= self.bid <= self.ask and self.ask > 0.0

    @property
    def mid(self) -> float:
        return (self.bid + self.ask) / 2.0 if self.is_valid else math.nan


@dataclass(frozen=True, slots=True)
class AccountValues:
    """The account summary IB reports, in the account currency.

    ``equity_with_loan`` is cash plus stock at market (IB leaves options out);
    ``net_liquidation`` adds the options at their mid. Margin requirements follow Reg-T as IB
    applies it; ``available_funds = equity_with_loan - initial_margin`` is what a new
    position may use (``buying_power`` here, without the 2x/4x stock leverage IB also quotes);
    ``excess_liquidity = equity_with_loan - maintenance_margin``, below zero IB liquidates.
    """

    account: str
    time: datetime
    net_liquidation: float
    total_cash: float
    equity_with_loan: float
    initial_margin: float
    maintenance_margin: float
    available_funds: float
    excess_liquidity: float
    buying_power: float
    realized_pnl: float
    unrealized_pnl: float


@dataclass(frozen=True, slots=True)
class OptionChainParams:
    """IB's ``reqSecDefOptParams`` answer: the union of listed expirations and strikes.

    A strike in ``strikes`` need not exist for every expiration - qualify a contract before
    trading it (an unlisted one gives error 200).
    """

    symbol: str
    exchange: str
    trading_class: str
    multiplier: int
    expirations: tuple[date, ...]
    strikes: tuple[Decimal, ...]


@dataclass(frozen=True, slots=True)
class WhatIf:
    """Margin and commission of an order before it is sent (IB's what-if ``OrderState``)."""

    initial_margin_before: float
    initial_margin_after: float
    maintenance_margin_before: float
    maintenance_margin_after: float
    equity_with_loan_before: float
    equity_with_loan_after: float
    commission: float
    warning: str = ""

    @property
    def initial_margin_change(self) -> float:
        return self.initial_margin_after - self.initial_margin_before

    @property
    def maintenance_margin_change(self) -> float:
        return self.maintenance_margin_after - self.maintenance_margin_before

    @property
    def buying_power_effect(self) -> float:
        """How much available funds the order uses (negative when it frees some). For a
        credit spread this is width x multiplier - credit (plus commission)."""
        before = self.equity_with_loan_before - self.initial_margin_before
        after = self.equity_with_loan_after - self.initial_margin_after
        return before - after
