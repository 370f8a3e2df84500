"""What a builder returns: a priced strategy ready to enter, or a rejection with its reason.

Market conditions never raise: a chain without a strike near the target delta, a thin credit
or a wide market is a ``Rejection`` naming the rule that failed. Exceptions are for bad input
(an impossible leg specification) and broker failures (``v6.brokers.errors``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum, auto

from v6.brokers.types import Quote
from v6.domain import Greeks, IntentKind, OrderIntent, Strategy, payoff_profile
from v6.risk import EntryCandidate


class RejectReason(StrEnum):
    NO_EXPIRY = auto()
    """No listed expiry inside the DTE window."""
    NO_QUOTE = auto()
    """The underlying or a needed option has no valid quote (or no model Greeks)."""
    NO_STRIKE_NEAR_DELTA = auto()
    """No quoted strike's delta is within ``max_delta_miss`` of the target."""
    NO_WING_STRIKE = auto()
    """No listed strike beyond the short strike for the wing."""
    STRIKES_CROSSED = auto()
    """The short put would be above the short call."""
    CREDIT_BELOW_MINIMUM = auto()
    DEBIT_ABOVE_MAXIMUM = auto()
    SPREAD_TOO_WIDE = auto()
    """The combo's bid/ask width is too large a fraction of its mid."""


@dataclass(frozen=True, slots=True)
class Rejection:
    strategy_id: str
    symbol: str
    reason: RejectReason
    detail: str


@dataclass(frozen=True, slots=True)
class BuiltStrategy:
    """A PENDING strategy priced from the broker's chain.

    ``strategy.entry_premium`` is the net mid per share (positive for a credit).
    ``quotes`` follow ``strategy.legs``. Prices per unit in the combo convention (credit
    negative): ``mid_price``, ``natural_price`` and ``limit_price`` - the worst price the entry
    accepts, which the order walk never passes (minus the minimum credit, or the maximum
    debit). ``greeks`` are position Greeks of all ``strategy.quantity`` units (delta in
    shares, theta in $/day, vega in $/vol point). ``probability_of_profit`` is the
    risk-neutral lognormal chance that the underlying ends in the profit zone at expiry (see
    ``v6.strategies.metrics``); ``forward`` is the parity forward it used.
    """

    strategy: Strategy
    quotes: tuple[Quote, ...]
    mid_price: float
    natural_price: float
    limit_price: float
    spread_fraction: float
    probability_of_profit: float
    greeks: Greeks
    spot: float
    forward: float
    built_at: datetime

    @property
    def strategy_id(self) -> str:
        return self.strategy.strategy_id

    @property
    def underlying(self) -> str:
        return self.strategy.underlyings[0]

    @property
    def max_profit(self) -> float:
        """Per unit, currency, at the mid premium."""
        return self.strategy.max_profit

    @property
    def max_loss(self) -> float:
        """Per unit, currency, at the mid premium."""
        return self.strategy.max_loss

    @property
    def breakevens(self) -> tuple[float, ...]:
        return self.strategy.breakevens

    def open_intent(self) -> OrderIntent:
        """The OPEN intent: every unit, limited at ``limit_price``."""
        strategy = self.strategy
        return OrderIntent(
            strategy.strategy_id,
            IntentKind.OPEN,
            strategy.legs,
            strategy.quantity,
            self.limit_price,
        )

    def entry_candidate(self, margin: float | None = None) -> EntryCandidate:
        """What the risk gate checks for ``open_intent()``: these Greeks, the maximum loss of
        every unit if filled at ``limit_price`` (the worst fill the walk accepts) and the
        what-if margin when known."""
        worst = payoff_profile(self.strategy.legs, -self.limit_price).max_loss
        return EntryCandidate(
            self.open_intent(),
            self.underlying,
            self.greeks,
            worst * self.strategy.quantity,
            margin,
        )


BuildResult = BuiltStrategy | Rejection
