"""Errors raised by the domain model.

Every error here is permanent: the input is wrong and retrying the same call cannot succeed.
All derive from ``DomainError``, itself a ``ValueError``, so callers that validate untrusted
input (config, broker data, store rows) can catch one type. Messages name the field, the bad
value and what was expected.
"""


class DomainError(ValueError):
    """Base class of every domain validation error."""


class InvalidContractError(DomainError):
    """An option or stock contract, or an OCC symbol, is malformed."""


class InvalidLegError(DomainError):
    """A leg has no option contract or a zero quantity."""


class InvalidStrategyError(DomainError):
    """Legs do not form the declared strategy kind, or a strategy field is invalid."""


class InvalidTransitionError(DomainError):
    """A strategy status change that the lifecycle does not allow."""


class PayoffUndefinedError(DomainError):
    """Payoff metrics at expiry are not defined for this strategy (see ``payoff``)."""


class InvalidOrderError(DomainError):
    """An order intent or a fill is malformed."""


class InvalidPositionError(DomainError):
    """A broker position is malformed."""


class InvalidGreeksError(DomainError):
    """A Greeks value is not a finite number."""


class InvalidDecisionError(DomainError):
    """A decision is malformed."""


class InvalidAlertError(DomainError):
    """An alert is malformed."""
