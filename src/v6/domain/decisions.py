"""The outcome of evaluating the rule book for one strategy."""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum, auto

from v6.domain._checks import require_identifier, require_member, require_text, require_utc
from v6.domain.errors import InvalidDecisionError

MAX_PRIORITY = 12
"""The rule book has 12 ranked rules; priority 0 is reserved for HOLD (no rule fired)."""


class Action(StrEnum):
    HOLD = auto()
    CLOSE = auto()
    ROLL = auto()
    REDUCE = auto()
    ALERT = auto()


@dataclass(frozen=True, slots=True, init=False)
class Decision:
    """What the rule ``rule`` (rank ``priority``) decided for a strategy at ``at`` (UTC), why,
    and the inputs it looked at.

    ``metrics`` is stored as a tuple of ``(name, value)`` pairs sorted by name, so a decision
    stays immutable, hashable and serialisable; ``metric(name)`` and ``metrics_dict()`` read it.
    The constructor accepts a mapping or such pairs.
    """

    strategy_id: str
    rule: str
    priority: int
    action: Action
    reason: str
    metrics: tuple[tuple[str, float], ...]
    at: datetime

    def __init__(
        self,
        strategy_id: str,
        rule: str,
        priority: int,
        action: Action,
        reason: str,
        metrics: Mapping[str, float] | Iterable[tuple[str, float]],
        at: datetime,
    ) -> None:
        require_identifier(strategy_id, "Decision.strategy_id", InvalidDecisionError)
        require_text(rule, "Decision.rule", InvalidDecisionError)
        require_member(action, Action, "Decision.action", InvalidDecisionError)
        _check_priority(priority, action)
        require_text(reason, "Decision.reason", InvalidDecisionError)
        object.__setattr__(self, "strategy_id", strategy_id)
        object.__setattr__(self, "rule", rule)
        object.__setattr__(self, "priority", priority)
        object.__setattr__(self, "action", action)
        object.__setattr__(self, "reason", reason)
        object.__setattr__(self, "metrics", _metric_pairs(metrics))
        object.__setattr__(self, "at", require_utc(at, "Decision.at", InvalidDecisionError))

    def metric(self, name: str) -> float:
        for key, value in self.metrics:
            if key == name:
                return value
        raise KeyError(name)

    def metrics_dict(self) -> dict[str, float]:
        return dict(self.metrics)


def _check_priority(priority: int, action: Action) -> None:
    valid = isinstance(priority, int) and not isinstance(priority, bool)
    if action is Action.HOLD:
        if not valid or priority != 0:
            raise InvalidDecisionError(f"Decision.priority = {priority!r}: expected 0 for HOLD")
    elif not valid or not 1 <= priority <= MAX_PRIORITY:
        raise InvalidDecisionError(
            f"Decision.priority = {priority!r}: expected 1..{MAX_PRIORITY} for {action.name}"
        )


def _metric_pairs(
    metrics: Mapping[str, float] | Iterable[tuple[str, float]],
) -> tuple[tuple[str, float], ...]:
    pairs = list(metrics.items() if isinstance(metrics, Mapping) else metrics)
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        raise InvalidDecisionError(f"Decision.metrics names {sorted(names)}: expected unique names")
    for name, value in pairs:
        if not isinstance(name, str) or not name:
            raise InvalidDecisionError(f"Decision.metrics name {name!r}: expected non-empty text")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidDecisionError(f"Decision.metrics[{name!r}] = {value!r}: expected a number")
        if math.isnan(value):
            raise InvalidDecisionError(f"Decision.metrics[{name!r}] = nan: expected a number")
    return tuple(sorted((name, float(value)) for name, value in pairs))
