"""Strategies: named sets of option legs with a kind, a size and a lifecycle.

Quantities: ``legs`` describe ONE unit of the strategy as ratios in lowest terms (an iron
condor is -1/+1 on each leg; a 1x2 ratio spread is -1/+2) and ``quantity`` is how many units
are held, so leg ``i`` holds ``legs[i].quantity * quantity`` contracts. ``entry_premium`` is the
net premium per share for one unit: positive for a credit received, negative for a debit paid
(the intended price while PENDING, the filled price once OPEN). Payoff metrics are per unit in
currency; multiply by ``quantity`` for the whole strategy.

Lifecycle (``ALLOWED_TRANSITIONS``)::

    PENDING -> OPEN -> CLOSING -> CLOSED      the normal path
    PENDING -> CANCELLED                      entry never filled, cancelled or rejected
    CLOSING -> OPEN                           exit order cancelled or rejected
    OPEN    -> CLOSED                         expired, assigned, or closed outside V6
"""

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum, auto
from types import MappingProxyType

from v6.domain._checks import (
    require_finite,
    require_identifier,
    require_member,
    require_optional_utc,
    require_positive_int,
    require_utc,
)
from v6.domain.errors import InvalidStrategyError, InvalidTransitionError, PayoffUndefinedError
from v6.domain.legs import Leg
from v6.domain.payoff import PayoffProfile, payoff_at_expiry, payoff_profile


class StrategyKind(StrEnum):
    IRON_CONDOR = auto()
    VERTICAL = auto()
    CUSTOM = auto()


class StrategyStatus(StrEnum):
    PENDING = auto()
    OPEN = auto()
    CLOSING = auto()
    CLOSED = auto()
    CANCELLED = auto()


ALLOWED_TRANSITIONS: Mapping[StrategyStatus, frozenset[StrategyStatus]] = MappingProxyType(
    {
        StrategyStatus.PENDING: frozenset({StrategyStatus.OPEN, StrategyStatus.CANCELLED}),
        StrategyStatus.OPEN: frozenset({StrategyStatus.CLOSING, StrategyStatus.CLOSED}),
        StrategyStatus.CLOSING: frozenset({StrategyStatus.CLOSED, StrategyStatus.OPEN}),
        StrategyStatus.CLOSED: frozenset(),
        StrategyStatus.CANCELLED: frozenset(),
    }
)

_HAS_OPENED = frozenset({StrategyStatus.OPEN, StrategyStatus.CLOSING, StrategyStatus.CLOSED})
_TERMINAL = frozenset({StrategyStatus.CLOSED, StrategyStatus.CANCELLED})


@dataclass(frozen=True, slots=True)
class Strategy:
    """A validated strategy; see the module docstring for units and the lifecycle.

    ``legs`` are stored sorted by (underlying, expiry, right, strike) so that equal strategies
    compare equal. ``defined_risk=False`` is allowed only for CUSTOM (positions adopted from
    the broker); otherwise every short option must be covered (``uncovered_short``).
    ``opened_at`` is set exactly when the status is OPEN, CLOSING or CLOSED, ``closed_at``
    exactly when CLOSED or CANCELLED; both are UTC.
    """

    strategy_id: str
    kind: StrategyKind
    legs: tuple[Leg, ...]
    quantity: int = 1
    status: StrategyStatus = StrategyStatus.PENDING
    entry_premium: float | None = None
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    defined_risk: bool = True

    def __post_init__(self) -> None:
        require_identifier(self.strategy_id, "Strategy.strategy_id", InvalidStrategyError)
        require_member(self.kind, StrategyKind, "Strategy.kind", InvalidStrategyError)
        require_member(self.status, StrategyStatus, "Strategy.status", InvalidStrategyError)
        require_positive_int(self.quantity, "Strategy.quantity", InvalidStrategyError)
        if not isinstance(self.defined_risk, bool):
            raise InvalidStrategyError(
                f"Strategy.defined_risk = {self.defined_risk!r}: expected True or False"
            )
        if self.entry_premium is not None:
            require_finite(self.entry_premium, "Strategy.entry_premium", InvalidStrategyError)
        object.__setattr__(self, "legs", self._sorted_legs())
        for name in ("opened_at", "closed_at"):
            at = require_optional_utc(getattr(self, name), f"Strategy.{name}", InvalidStrategyError)
            object.__setattr__(self, name, at)
        self._check_leg_set()
        kind_rule = _KIND_RULES.get(self.kind)
        if kind_rule is not None:
            kind_rule(self)
        self._check_risk()
        self._check_lifecycle()

    @classmethod
    def propose(
        cls,
        strategy_id: str,
        kind: StrategyKind,
        legs: Iterable[Leg],
        *,
        as_of: date,
        quantity: int = 1,
        entry_premium: float | None = None,
        defined_risk: bool = True,
    ) -> "Strategy":
        """A new PENDING strategy, rejected if any leg expired before ``as_of`` (the
        caller's clock; the domain never reads the system clock)."""
        strategy = cls(
            strategy_id,
            kind,
            tuple(legs),
            quantity=quantity,
            entry_premium=entry_premium,
            defined_risk=defined_risk,
        )
        expired = strategy.expired_legs(as_of)
        if expired:
            raise InvalidStrategyError(
                f"Strategy {strategy_id!r}: legs {_describe(expired)} expired before "
                f"{as_of.isoformat()}: expected every expiry on or after it"
            )
        return strategy

    @property
    def underlyings(self) -> tuple[str, ...]:
        return tuple(sorted({leg.contract.underlying for leg in self.legs}))

    @property
    def expiries(self) -> tuple[date, ...]:
        return tuple(sorted({leg.contract.expiry for leg in self.legs}))

    @property
    def multiplier(self) -> int:
        """The one multiplier shared by every leg."""
        return self.legs[0].contract.multiplier

    @property
    def is_terminal(self) -> bool:
        return self.status in _TERMINAL

    def expired_legs(self, as_of: date) -> tuple[Leg, ...]:
        return tuple(leg for leg in self.legs if leg.contract.is_expired(as_of))

    def transition_to(self, new_status: StrategyStatus, at: datetime) -> "Strategy":
        """This strategy in ``new_status``, stamping ``opened_at`` on first OPEN and
        ``closed_at`` on CLOSED or CANCELLED; raises ``InvalidTransitionError`` otherwise."""
        require_member(new_status, StrategyStatus, "new_status", InvalidTransitionError)
        allowed = ALLOWED_TRANSITIONS[self.status]
        if new_status not in allowed:
            expected = ", ".join(sorted(s.name for s in allowed)) or "none (terminal state)"
            raise InvalidTransitionError(
                f"Strategy {self.strategy_id!r}: cannot go from {self.status.name} to "
                f"{new_status.name}; allowed from {self.status.name}: {expected}"
            )
        at = require_utc(at, "transition_to.at", InvalidTransitionError)
        if self.opened_at is not None and at < self.opened_at:
            raise InvalidTransitionError(
                f"Strategy {self.strategy_id!r}: transition time {at.isoformat()} is before "
                f"opened_at {self.opened_at.isoformat()}"
            )
        first_open = new_status is StrategyStatus.OPEN and self.opened_at is None
        return replace(
            self,
            status=new_status,
            opened_at=at if first_open else self.opened_at,
            closed_at=at if new_status in _TERMINAL else None,
        )

    def uncovered_short(self) -> Leg | None:
        """The first short leg not covered by longs of the same underlying and right that
        expire on or after it (their signed quantities must sum to >= 0), else None."""
        for leg in self.legs:
            if leg.is_short and _cover(self.legs, leg) < 0:
                return leg
        return None

    def payoff_profile(self) -> PayoffProfile:
        """Max profit, max loss, breakevens per unit at expiry (see ``v6.domain.payoff``)."""
        return payoff_profile(self.legs, self._premium())

    def payoff_at_expiry(self, spot: float) -> float:
        return payoff_at_expiry(self.legs, self._premium(), spot)

    @property
    def max_profit(self) -> float:
        return self.payoff_profile().max_profit

    @property
    def max_loss(self) -> float:
        return self.payoff_profile().max_loss

    @property
    def breakevens(self) -> tuple[float, ...]:
        return self.payoff_profile().breakevens

    def _premium(self) -> float:
        if self.entry_premium is None:
            raise PayoffUndefinedError(
                f"Strategy {self.strategy_id!r}: entry_premium is None; payoff needs it"
            )
        return self.entry_premium

    def _sorted_legs(self) -> tuple[Leg, ...]:
        legs = self.legs
        if not isinstance(legs, tuple | list) or not all(isinstance(leg, Leg) for leg in legs):
            raise InvalidStrategyError(
                f"Strategy {self.strategy_id!r}: legs = {legs!r}: expected a tuple of Leg"
            )
        return tuple(sorted(legs, key=_leg_order))

    def _check_leg_set(self) -> None:
        if not self.legs:
            raise InvalidStrategyError(f"Strategy {self.strategy_id!r}: expected at least one leg")
        contracts = [leg.contract for leg in self.legs]
        if len(set(contracts)) != len(contracts):
            raise InvalidStrategyError(
                f"Strategy {self.strategy_id!r}: legs {_describe(self.legs)} repeat a "
                "contract: expected each contract once (add the quantities)"
            )
        multipliers = sorted({contract.multiplier for contract in contracts})
        if len(multipliers) > 1:
            raise InvalidStrategyError(
                f"Strategy {self.strategy_id!r}: multipliers {multipliers}: expected one "
                "multiplier for every leg"
            )
        factor = math.gcd(*(leg.quantity for leg in self.legs))
        if factor != 1:
            raise InvalidStrategyError(
                f"Strategy {self.strategy_id!r}: leg quantities "
                f"{[leg.quantity for leg in self.legs]} share the factor {factor}: expected "
                f"ratios in lowest terms for one unit, with quantity={factor} units"
            )

    def _check_risk(self) -> None:
        if not self.defined_risk:
            if self.kind is not StrategyKind.CUSTOM:
                raise InvalidStrategyError(
                    f"Strategy {self.strategy_id!r}: defined_risk=False with kind "
                    f"{self.kind.value}: expected defined risk (only custom may be undefined)"
                )
            return
        uncovered = self.uncovered_short()
        if uncovered is not None:
            raise InvalidStrategyError(
                f"Strategy {self.strategy_id!r}: short leg {_describe((uncovered,))} is not "
                "covered by long options of the same underlying and right expiring on or after "
                "it: expected a defined-risk leg set (or kind custom with defined_risk=False)"
            )

    def _check_lifecycle(self) -> None:
        name = self.status.name
        if (self.opened_at is not None) != (self.status in _HAS_OPENED):
            raise InvalidStrategyError(
                f"Strategy {self.strategy_id!r}: opened_at = {self.opened_at!r} with status "
                f"{name}: expected opened_at set exactly for OPEN, CLOSING and CLOSED"
            )
        if (self.closed_at is not None) != (self.status in _TERMINAL):
            raise InvalidStrategyError(
                f"Strategy {self.strategy_id!r}: closed_at = {self.closed_at!r} with status "
                f"{name}: expected closed_at set exactly for CLOSED and CANCELLED"
            )
        if self.opened_at and self.closed_at and self.closed_at < self.opened_at:
            raise InvalidStrategyError(
                f"Strategy {self.strategy_id!r}: closed_at {self.closed_at.isoformat()} is "
                f"before opened_at {self.opened_at.isoformat()}"
            )


def _leg_order(leg: Leg) -> tuple[str, date, str, Decimal]:
    contract = leg.contract
    return (contract.underlying, contract.expiry, contract.right.value, contract.strike)


def _describe(legs: Iterable[Leg]) -> str:
    """Legs as a trader writes them: ``-1 SPY 2024-01-19 450P``."""
    return ", ".join(
        f"{leg.quantity:+d} {leg.contract.underlying} {leg.contract.expiry.isoformat()} "
        f"{leg.contract.strike.normalize():f}{leg.contract.right.value}"
        for leg in legs
    )


def _cover(legs: tuple[Leg, ...], short: Leg) -> int:
    target = short.contract
    return sum(
        leg.quantity
        for leg in legs
        if leg.contract.underlying == target.underlying
        and leg.contract.right is target.right
        and leg.contract.expiry >= target.expiry
    )


def _require_single(strategy: Strategy, label: str, values: set[str]) -> None:
    if len(values) != 1:
        raise InvalidStrategyError(
            f"Strategy {strategy.strategy_id!r}: {strategy.kind.value} legs mix {label} "
            f"{sorted(values)}: expected one {label}"
        )


def _check_vertical(strategy: Strategy) -> None:
    legs = strategy.legs
    if len(legs) != 2:
        raise InvalidStrategyError(
            f"Strategy {strategy.strategy_id!r}: a vertical has 2 legs, got {len(legs)}"
        )
    _require_single(strategy, "underlying", {leg.contract.underlying for leg in legs})
    _require_single(strategy, "expiry", {leg.contract.expiry.isoformat() for leg in legs})
    _require_single(strategy, "right", {leg.contract.right.name for leg in legs})
    if legs[0].quantity != -legs[1].quantity:
        raise InvalidStrategyError(
            f"Strategy {strategy.strategy_id!r}: vertical legs {_describe(legs)}: expected "
            "equal and opposite quantities"
        )


def _check_iron_condor(strategy: Strategy) -> None:
    legs = strategy.legs
    if len(legs) != 4:
        raise InvalidStrategyError(
            f"Strategy {strategy.strategy_id!r}: an iron condor has 4 legs, got {len(legs)}"
        )
    _require_single(strategy, "underlying", {leg.contract.underlying for leg in legs})
    _require_single(strategy, "expiry", {leg.contract.expiry.isoformat() for leg in legs})
    puts = [leg for leg in legs if not leg.contract.is_call]
    calls = [leg for leg in legs if leg.contract.is_call]
    shape = [leg.quantity > 0 for leg in (*puts, *calls)]
    if len(puts) != 2 or shape != [True, False, False, True]:
        raise InvalidStrategyError(
            f"Strategy {strategy.strategy_id!r}: legs {_describe(legs)} are not an iron "
            "condor: expected long put < short put <= short call < long call"
        )
    short_put, short_call = puts[1].contract, calls[0].contract
    if short_put.strike > short_call.strike:
        raise InvalidStrategyError(
            f"Strategy {strategy.strategy_id!r}: short put strike {short_put.strike} is above "
            f"short call strike {short_call.strike}: expected short put <= short call"
        )
    if len({abs(leg.quantity) for leg in legs}) != 1:
        raise InvalidStrategyError(
            f"Strategy {strategy.strategy_id!r}: iron condor legs {_describe(legs)}: expected "
            "the same number of contracts on every leg"
        )


_KIND_RULES: Mapping[StrategyKind, Callable[[Strategy], None]] = MappingProxyType(
    {StrategyKind.IRON_CONDOR: _check_iron_condor, StrategyKind.VERTICAL: _check_vertical}
)
"""Shape rules per kind; CUSTOM has none beyond the checks every strategy passes."""
