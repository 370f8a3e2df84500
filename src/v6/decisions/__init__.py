"""The rule book: twelve prioritized exit and adjustment rules evaluated for the whole book
at once, the market veto, and explanations (see `v6.decisions.engine`)."""

from v6.decisions.engine import (
    DECISION_COLUMNS,
    HOLD_RULE,
    VETO_RULE,
    CycleContext,
    CycleDecisions,
    DecisionEngine,
)
from v6.decisions.explain import Explanation, RuleVerdict
from v6.decisions.rules import LIMIT_TARGET_SCHEMA, RULES, TRAILING_SCHEMA, RulePlan

__all__ = [
    "DECISION_COLUMNS",
    "HOLD_RULE",
    "LIMIT_TARGET_SCHEMA",
    "RULES",
    "TRAILING_SCHEMA",
    "VETO_RULE",
    "CycleContext",
    "CycleDecisions",
    "DecisionEngine",
    "Explanation",
    "RulePlan",
    "RuleVerdict",
]
