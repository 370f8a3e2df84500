"""Why a strategy got its decision: every rule's inputs, thresholds and verdict.

`CycleDecisions.explain` builds an `Explanation` from one row of the cycle's frame;
``render()`` is the plain-text view a CLI command prints.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from v6.config.decisions import MarketVeto
from v6.decisions.rules import RulePlan, Values
from v6.domain import Action, Decision

Shown = float | str | None
"""A value as an explanation shows it: a number, a text, or None when unknown."""

SUMMARY_COLUMNS: Final = (
    "underlying",
    "underlying_price",
    "dte",
    "pnl",
    "entry_credit",
    "max_profit",
    "max_loss",
    "delta",
    "gamma",
    "theta",
    "vega",
    "mark_time",
)


@dataclass(frozen=True, slots=True)
class RuleVerdict:
    """One rule for one strategy: enabled or not, triggered or not, with what it looked at.
    ``reason`` is set when it triggered."""

    rule: str
    priority: int
    enabled: bool
    triggered: bool
    action: Action
    inputs: tuple[tuple[str, Shown], ...]
    thresholds: tuple[tuple[str, float], ...]
    reason: str | None


@dataclass(frozen=True, slots=True)
class Explanation:
    strategy_id: str
    decision: Decision
    verdicts: tuple[RuleVerdict, ...]
    summary: tuple[tuple[str, Shown], ...]
    market: tuple[tuple[str, Shown], ...]

    def render(self) -> str:
        """A plain-text report: the decision, the strategy's numbers, then one line per rule."""
        decision = self.decision
        lines = [
            f"strategy {self.strategy_id}: {decision.action.name} by {decision.rule} "
            f"(priority {decision.priority}) at {decision.at.isoformat()}",
            f"  {decision.reason}",
            "  " + _pairs(self.summary),
            "  market: " + _pairs(self.market),
            f"  {'#':>2}  {'rule':<18} {'enabled':<8} {'triggered':<10} {'action':<7} inputs"
            " | thresholds",
        ]
        for verdict in self.verdicts:
            lines.append(
                f"  {verdict.priority:>2}  {verdict.rule:<18} {_yes(verdict.enabled):<8} "
                f"{_yes(verdict.triggered):<10} {verdict.action.value:<7} "
                f"{_pairs(verdict.inputs)} | {_pairs(verdict.thresholds) or '-'}"
            )
            if verdict.reason:
                lines.append(f"      -> {verdict.reason}")
        return "\n".join(lines)


def explain(
    row: Mapping[str, object], plans: tuple[RulePlan, ...], decision: Decision, veto: MarketVeto
) -> Explanation:
    verdicts = tuple(_verdict(row, plan) for plan in plans)
    market = (
        ("spread_fraction", _shown(row.get("spread_fraction"))),
        ("quote_ok", _shown(row.get("quote_ok"))),
        ("veto_enabled", _shown(veto.enabled)),
        ("max_spread_fraction", veto.max_spread_fraction),
    )
    summary = tuple((name, _shown(row.get(name))) for name in SUMMARY_COLUMNS)
    return Explanation(str(row["strategy_id"]), decision, verdicts, summary, market)


def _verdict(row: Mapping[str, object], plan: RulePlan) -> RuleVerdict:
    triggered = bool(row[plan.flag])
    values = row_values(row, plan)
    return RuleVerdict(
        rule=plan.name,
        priority=plan.priority,
        enabled=plan.enabled,
        triggered=triggered,
        action=plan.action,
        inputs=tuple((short_name(name), _shown(values[name])) for name in values),
        thresholds=tuple(plan.thresholds.items()),
        reason=plan.describe(values) if triggered else None,
    )


def row_values(row: Mapping[str, object], plan: RulePlan) -> dict[str, object]:
    """The plan's inputs and labels from a frame row, by column name."""
    return {name: row.get(name) for name in (*plan.labels, *plan.inputs)}


def metrics_of(values: Values, plan: RulePlan) -> dict[str, float]:
    """A decision's metrics: the plan's numeric inputs that are known, by short name."""
    metrics: dict[str, float] = {}
    for name in plan.inputs:
        value = values.get(name)
        if isinstance(value, bool | int | float) and math.isfinite(float(value)):
            metrics[short_name(name)] = float(value)
    return metrics


def short_name(column: str) -> str:
    """``stop_loss.loss_multiple`` -> ``loss_multiple``; base columns stay as they are."""
    return column.rsplit(".", 1)[-1]


def _shown(value: object) -> Shown:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _pairs(pairs: tuple[tuple[str, Shown], ...] | tuple[tuple[str, float], ...]) -> str:
    return " ".join(f"{name}={_format(value)}" for name, value in pairs)


def _format(value: Shown) -> str:
    if value is None:
        return "?"
    if isinstance(value, float):
        return f"{value:.4g}"
    return value
