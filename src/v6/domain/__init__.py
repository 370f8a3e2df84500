"""V6's pure domain model: contracts, legs, strategies, positions, orders, fills, Greeks,
decisions and alerts. Standard library only; no I/O; never reads the system clock."""

from v6.domain.alerts import Alert, Severity
from v6.domain.contracts import Contract, OptionContract, Right, StockContract, normalise_strike
from v6.domain.decisions import Action, Decision
from v6.domain.errors import (
    DomainError,
    InvalidAlertError,
    InvalidContractError,
    InvalidDecisionError,
    InvalidGreeksError,
    InvalidLegError,
    InvalidOrderError,
    InvalidPositionError,
    InvalidStrategyError,
    InvalidTransitionError,
    PayoffUndefinedError,
)
from v6.domain.greeks import Greeks
from v6.domain.legs import Leg
from v6.domain.orders import Fill, IntentKind, OrderIntent, parse_order_ref
from v6.domain.payoff import PayoffProfile, payoff_at_expiry, payoff_profile
from v6.domain.positions import Position
from v6.domain.strategy import ALLOWED_TRANSITIONS, Strategy, StrategyKind, StrategyStatus

__all__ = [
    "ALLOWED_TRANSITIONS",
    "Action",
    "Alert",
    "Contract",
    "Decision",
    "DomainError",
    "Fill",
    "Greeks",
    "IntentKind",
    "InvalidAlertError",
    "InvalidContractError",
    "InvalidDecisionError",
    "InvalidGreeksError",
    "InvalidLegError",
    "InvalidOrderError",
    "InvalidPositionError",
    "InvalidStrategyError",
    "InvalidTransitionError",
    "Leg",
    "OptionContract",
    "OrderIntent",
    "PayoffProfile",
    "PayoffUndefinedError",
    "Position",
    "Right",
    "Severity",
    "StockContract",
    "Strategy",
    "StrategyKind",
    "StrategyStatus",
    "normalise_strike",
    "parse_order_ref",
    "payoff_at_expiry",
    "payoff_profile",
]
