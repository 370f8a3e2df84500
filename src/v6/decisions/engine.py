"""The decision engine: every managed strategy of the book through the twelve rules at once.

A cycle is two vectorized passes. `DecisionEngine.summarize` turns the book frame into one
row per strategy with every rule's per-strategy aggregations of the legs; the risk layer
reads the same frame for trailing stops and limits. `DecisionEngine.decide` adds the cycle's
context (halt, trailing-stop hits, limit targets), evaluates every rule's columns and
``triggered`` flag over numpy arrays of the frame's columns and resolves them:

* the highest-priority triggered rule decides; a strategy with none holds;
* rule 1 (halt) without ``close_positions`` lets the closing actions of rules 2-12 pass and
  otherwise decides ALERT (no order); with it, it closes everything;
* a ROLL becomes a CLOSE while trading is halted or entries are blocked (a roll opens a
  position);
* the market veto: an exit of rules 6-12 is not sent into an absurd market (combo bid/ask
  wider than the configured fraction of its mid, or a crossed or missing quote); the strategy
  holds and the decision names the vetoed rule.

Unmanaged strategies (adopted from the broker) get no decision. Disabled rules are evaluated
for the explanation but never trigger. Time comes in through `CycleContext`; nothing here
reads a clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import polars as pl

from v6.book import LegAggregation, summarize
from v6.config.decisions import DecisionsConfig, MarketVeto
from v6.decisions.explain import Explanation, explain, metrics_of, row_values
from v6.decisions.rules import (
    LAST_UNVETOED_PRIORITY,
    LIMIT_TARGET_SCHEMA,
    RULES,
    TRAILING_SCHEMA,
    RulePlan,
)
from v6.domain import Action, Decision
from v6.legs import BoolArray
from v6.table import ArrayTable, Columns, aligned

DECISION_COLUMNS: Final = (
    "strategy_id",  # String
    "action",  # String: Action value
    "rule",  # String: the deciding rule, "hold" when none, "market_veto" when vetoed
    "priority",  # Int64: the deciding rule's priority, 0 for HOLD
    "vetoed_rule",  # String?: the rule whose exit the market veto held
    "marketable",  # Boolean: close at a marketable price (rule 2)
    "roll_to_close",  # Boolean: the rule's ROLL became a CLOSE (halted or entries blocked)
)
"""The first columns of `CycleDecisions.frame`; every rule's ``<rule>.triggered`` flag and
inputs follow."""

_RECORD_COLUMNS: Final = (
    "strategy_id",
    "rule",
    "vetoed_rule",
    "roll_to_close",
    "spread_fraction",
    "quote_ok",
)

IntArray = npt.NDArray[np.int64]
_ACTION_CODES: Final = {action: code for code, action in enumerate(Action)}
_IS_EXIT: Final = np.array(
    [action in (Action.CLOSE, Action.ROLL, Action.REDUCE) for action in Action]
)
"""Whether an action code is an exit (what the market veto may hold), by code."""

HOLD_RULE: Final = "hold"
VETO_RULE: Final = "market_veto"


@dataclass(frozen=True, slots=True)
class CycleContext:
    """What a cycle knows besides the book: the time (UTC) and trading date, the operator
    halt, whether entries may be sent (false while the circuit breaker is open), and the risk
    layer's outputs for rules 9 and 12 (`TRAILING_SCHEMA`, `LIMIT_TARGET_SCHEMA`)."""

    now: datetime
    today: date
    halted: bool = False
    entries_allowed: bool = True
    trailing: pl.DataFrame | Columns | None = None
    limit_targets: pl.DataFrame | Columns | None = None

    def __post_init__(self) -> None:
        if self.now.tzinfo is None or self.now.utcoffset() is None:
            raise ValueError(f"CycleContext.now = {self.now!r}: expected an aware UTC datetime")


@dataclass(frozen=True)
class CycleDecisions:
    """One cycle's verdicts, one per managed strategy. ``flags`` holds every rule's
    ``triggered`` flag as a matrix (a row per strategy, a column per plan, in priority
    order); the methods turn rows into immutable records, reading the cycle's arrays;
    ``frame`` shows it all as one table (`DECISION_COLUMNS`, then every rule's flag and
    inputs), built when first asked for: the engine's cycle needs only the records."""

    at: datetime
    plans: tuple[RulePlan, ...]
    veto: MarketVeto
    flags: npt.NDArray[np.bool_]
    columns: ArrayTable
    """The managed strategies of the summary with the cycle's context columns and the
    rules' own columns."""
    resolution: Resolution
    _lists: dict[str, list[object]] = field(default_factory=dict, repr=False)

    @property
    def count(self) -> int:
        return self.columns.height

    @cached_property
    def frame(self) -> pl.DataFrame:
        frame = self.columns.frame.hstack(
            [
                *(pl.Series(plan.flag, self.flags[:, i]) for i, plan in enumerate(self.plans)),
                pl.Series("market_absurd", self.resolution.absurd),
                *self.resolution.series(self.plans),
            ]
        )
        first = ("strategy_id", *DECISION_COLUMNS[1:])
        return frame[[*first, *(name for name in frame.columns if name not in first)]]

    def decisions(self) -> tuple[Decision, ...]:
        """The deciding verdict of every managed strategy, HOLD included, in frame order."""
        return self._decisions(range(self.count))

    def actionable(self) -> tuple[Decision, ...]:
        """The decisions that are not HOLD (what execution acts on)."""
        acting = self.resolution.action != _ACTION_CODES[Action.HOLD]
        return self._decisions(np.flatnonzero(acting).tolist())

    def vetoes(self) -> tuple[Decision, ...]:
        return self._decisions(np.flatnonzero(self.resolution.vetoed).tolist())

    def marketable(self) -> frozenset[str]:
        """The strategies to close at a marketable price (rule 2 decides)."""
        ids = self._values("strategy_id")
        return frozenset(str(ids[i]) for i in np.flatnonzero(self.resolution.marketable))

    def triggered(self) -> tuple[Decision, ...]:
        """One record per triggered rule per strategy, in priority order."""
        hits = np.nonzero(self.flags.T)
        return tuple(
            self._verdict(
                self.plans[plan], self._row(row, ("strategy_id", *_read_by(self.plans[plan])))
            )
            for plan, row in zip(hits[0].tolist(), hits[1].tolist(), strict=True)
        )

    def trigger_counts(self) -> dict[str, int]:
        """How many strategies each rule triggered for, in priority order (rules that
        triggered for none left out): what `triggered` counts, without its records."""
        counts = self.flags.sum(axis=0).tolist()
        return {plan.name: count for plan, count in zip(self.plans, counts, strict=True) if count}

    def verdicts(self, rule: str) -> pl.DataFrame:
        """One rule's verdict for every strategy: ``strategy_id``, ``triggered``, ``action``
        and the rule's inputs."""
        plan = self._plan(rule)
        return self.frame.select(
            "strategy_id",
            pl.col(plan.flag).alias("triggered"),
            pl.lit(plan.action.value).alias("action"),
            *plan.labels,
            *plan.inputs,
        )

    def explain(self, strategy_id: str) -> Explanation:
        """Every rule's inputs, thresholds and verdict for one strategy, and the decision."""
        rows = self.frame.filter(pl.col("strategy_id") == strategy_id)
        if rows.height == 0:
            raise LookupError(
                f"strategy {strategy_id!r}: not among the {self.frame.height} managed "
                "strategies of this cycle"
            )
        row = rows.row(0, named=True)
        return explain(row, self.plans, self._decision(row), self.veto)

    def _decisions(self, rows: Iterable[int]) -> tuple[Decision, ...]:
        """Records of the ``rows`` (in the order given); each row only carries the columns
        its deciding rule reads."""
        records = []
        for i in rows:
            rule = self.resolution.deciding_rule(i, self.plans)
            read = () if rule is None else _read_by(self._plan(rule))
            records.append(self._decision(self._row(i, (*_RECORD_COLUMNS, *read))))
        return tuple(records)

    def _row(self, index: int, names: Iterable[str]) -> dict[str, object]:
        return {name: self._values(name)[index] for name in names}

    def _values(self, name: str) -> list[object]:
        """A column's values as Python objects (unknown numbers as None), converted once."""
        found = self._lists.get(name)
        if found is None:
            labels = self.resolution.labels(name, self.plans)
            found = self._lists[name] = (
                labels if labels is not None else _listed(self.columns[name])
            )
        return found

    def _plan(self, rule: str) -> RulePlan:
        for plan in self.plans:
            if plan.name == rule:
                return plan
        raise LookupError(f"rule {rule!r}: expected one of {[p.name for p in self.plans]}")

    def _verdict(self, plan: RulePlan, row: dict[str, object]) -> Decision:
        values = row_values(row, plan)
        return Decision(
            str(row["strategy_id"]),
            plan.name,
            plan.priority,
            plan.action,
            plan.describe(values),
            metrics_of(values, plan),
            self.at,
        )

    def _decision(self, row: dict[str, object]) -> Decision:
        strategy_id, rule = str(row["strategy_id"]), str(row["rule"])
        if rule == HOLD_RULE:
            return Decision(
                strategy_id, HOLD_RULE, 0, Action.HOLD, "no rule triggered", {}, self.at
            )
        if rule == VETO_RULE:
            return self._veto(row)
        plan = self._plan(rule)
        decision = self._verdict(plan, row)
        if row["roll_to_close"]:
            reason = f"{decision.reason} (roll became close: entries are blocked)"
            return Decision(
                strategy_id, rule, plan.priority, Action.CLOSE, reason, decision.metrics, self.at
            )
        return decision

    def _veto(self, row: dict[str, object]) -> Decision:
        vetoed = self._verdict(self._plan(str(row["vetoed_rule"])), row)
        spread = row["spread_fraction"]
        limit = f"{self.veto.max_spread_fraction:.0%}"
        market = (
            f"combo width {spread:.0%} of mid > {limit}"
            if isinstance(spread, float) and row["quote_ok"]
            else "no valid two-sided quote on every leg"
        )
        reason = (
            f"market veto: {vetoed.rule} would {vetoed.action.value} ({vetoed.reason}) but the "
            f"market is absurd: {market}"
        )
        metrics = dict(vetoed.metrics)
        metrics["vetoed_priority"] = float(vetoed.priority)
        metrics["max_spread_fraction"] = self.veto.max_spread_fraction
        if isinstance(spread, float):
            metrics["spread_fraction"] = spread
        return Decision(
            str(row["strategy_id"]), VETO_RULE, 0, Action.HOLD, reason, metrics, self.at
        )


@dataclass(frozen=True, slots=True)
class _Rulebook:
    """Every rule's plan for one trading date, with their leg aggregations gathered."""

    today: date
    plans: tuple[RulePlan, ...]
    aggregations: tuple[LegAggregation, ...]

    @classmethod
    def of(cls, config: DecisionsConfig, today: date) -> _Rulebook:
        plans = tuple(rule(config, today) for rule in RULES)
        made = tuple(plan.aggregations for plan in plans if plan.aggregations is not None)
        return cls(today, plans, made)


class DecisionEngine:
    """The rule book of `DecisionsConfig`, evaluated for the whole book at once."""

    def __init__(self, config: DecisionsConfig) -> None:
        self._config = config
        self._rulebook: _Rulebook | None = None

    def plans(self, today: date) -> tuple[RulePlan, ...]:
        """Every rule's plan for ``today`` (kept until the date changes)."""
        return self._rules(today).plans

    def _rules(self, today: date) -> _Rulebook:
        if self._rulebook is None or self._rulebook.today != today:
            self._rulebook = _Rulebook.of(self._config, today)
        return self._rulebook

    def summarize(self, book: pl.DataFrame, today: date) -> ArrayTable:
        """One row per strategy (managed or not): `v6.book.STRATEGY_COLUMNS` plus every
        rule's aggregations. The risk layer reads the same frame."""
        return summarize(book, today, self._rules(today).aggregations)

    def evaluate(self, book: pl.DataFrame, context: CycleContext) -> CycleDecisions:
        return self.decide(self.summarize(book, context.today), context)

    def decide(self, strategies: ArrayTable, context: CycleContext) -> CycleDecisions:
        """Resolve the rules for the managed strategies of a `summarize` table made for
        ``context.today``. The context's columns are aligned to the strategies; every rule's
        columns and flags are array operations, however many rules and strategies;
        resolution runs on the flags as one matrix."""
        plans = self._rules(context.today).plans
        columns = _with_context(_managed(strategies), context)
        for plan in plans:
            if plan.columns is not None:
                columns = columns.with_columns(plan.columns(columns))
        flags = _flags(plans, columns, columns.height)
        absurd = _absurd_market(columns, self._config.market_veto)
        resolution = Resolution.of(flags, absurd, context, plans, self._config)
        return CycleDecisions(
            context.now, plans, self._config.market_veto, flags, columns, resolution
        )


def _managed(strategies: ArrayTable) -> ArrayTable:
    managed = strategies["managed"]
    return strategies if managed.all() else strategies.filtered(managed)


def _with_context(strategies: ArrayTable, context: CycleContext) -> ArrayTable:
    """``strategies`` with the cycle's context columns beside them."""
    ids = strategies["strategy_id"]
    return strategies.with_columns(
        {
            "halted": np.full(strategies.height, context.halted),
            **aligned(ids, context.trailing, TRAILING_SCHEMA),
            **aligned(ids, context.limit_targets, LIMIT_TARGET_SCHEMA),
        },
        {"limit_name": pl.String()},
    )


def _flags(plans: Sequence[RulePlan], columns: Columns, height: int) -> npt.NDArray[np.bool_]:
    """Every rule's ``triggered`` flag, a column per plan; a disabled rule never triggers."""
    matrix = np.zeros((height, len(plans)), np.bool_)
    for i, plan in enumerate(plans):
        if plan.enabled:
            matrix[:, i] = plan.triggered(columns)
    return matrix


def _read_by(plan: RulePlan) -> tuple[str, ...]:
    """The columns a record of ``plan`` reads besides the decision's own."""
    return (*plan.labels, *plan.inputs)


def _listed(values: npt.NDArray[Any]) -> list[object]:
    """An array's values as Python objects, NaN (an unknown number) as None."""
    listed: list[object] = values.tolist()
    if values.dtype.kind == "f":
        return [None if value != value else value for value in listed]
    return listed


def _absurd_market(columns: Columns, veto: MarketVeto) -> BoolArray:
    """No valid two-sided quote on every leg, or a combo wider than the veto allows."""
    return ~(columns["quote_ok"] & (columns["spread_fraction"] <= veto.max_spread_fraction))


def _winners(flags: npt.NDArray[np.bool_], halt_filters: bool) -> IntArray:
    """Index of the deciding rule per row, -1 when none triggered. With ``halt_filters``,
    a triggered halt yields to the first triggered rule after it."""
    winner: IntArray = np.where(flags.any(axis=1), flags.argmax(axis=1), -1)
    if halt_filters and flags.shape[1] > 1:
        rest = flags[:, 1:]
        yields = flags[:, 0] & rest.any(axis=1)
        winner = np.where(yields, 1 + rest.argmax(axis=1), winner)
    return winner


@dataclass(frozen=True, slots=True)
class Resolution:
    """How the rules resolved for each strategy, as arrays: the deciding plan's index
    (``winner``, -1 when none triggered; under a veto, the vetoed plan), the action code
    after the veto, and the veto, roll-to-close and marketable flags."""

    winner: IntArray
    action: IntArray
    vetoed: BoolArray
    roll_to_close: BoolArray
    marketable: BoolArray
    absurd: BoolArray

    @classmethod
    def of(
        cls,
        flags: npt.NDArray[np.bool_],
        absurd: BoolArray,
        context: CycleContext,
        plans: tuple[RulePlan, ...],
        config: DecisionsConfig,
    ) -> Resolution:
        """Resolve the rules' ``flags`` matrix with integer codes (``absurd``: the
        strategy's market is)."""
        winner = _winners(flags, context.halted and not config.halt.close_positions)
        codes = np.array(
            [_ACTION_CODES[plan.action] for plan in plans] + [_ACTION_CODES[Action.HOLD]]
        )
        action = codes[winner]
        roll_to_close = (action == _ACTION_CODES[Action.ROLL]) & (
            context.halted or not context.entries_allowed
        )
        action = np.where(roll_to_close, _ACTION_CODES[Action.CLOSE], action)
        vetoed = (
            config.market_veto.enabled
            & (winner + 1 > LAST_UNVETOED_PRIORITY)
            & _IS_EXIT[action]
            & absurd
        )
        catastrophic = next(i for i, plan in enumerate(plans) if plan.name == "catastrophic_move")
        return cls(
            winner=winner,
            action=np.where(vetoed, _ACTION_CODES[Action.HOLD], action),
            vetoed=vetoed,
            roll_to_close=roll_to_close & ~vetoed,
            marketable=winner == catastrophic,
            absurd=absurd,
        )

    def deciding_rule(self, index: int, plans: Sequence[RulePlan]) -> str | None:
        """The rule whose inputs a strategy's record carries: the deciding or vetoed one."""
        winner = int(self.winner[index])
        return None if winner < 0 else plans[winner].name

    def labels(self, name: str, plans: Sequence[RulePlan]) -> list[object] | None:
        """A decision column of `DECISION_COLUMNS` as Python values; None for any other."""
        if name not in DECISION_COLUMNS[1:]:
            return None
        rules = [plan.name for plan in plans] + [HOLD_RULE]
        deciding = [rules[i] for i in self.winner.tolist()]
        vetoed = self.vetoed.tolist()
        if name == "rule":
            return [
                VETO_RULE if veto else rule for rule, veto in zip(deciding, vetoed, strict=True)
            ]
        if name == "vetoed_rule":
            return [rule if veto else None for rule, veto in zip(deciding, vetoed, strict=True)]
        if name == "action":
            actions = [member.value for member in Action]
            return [actions[code] for code in self.action.tolist()]
        if name == "priority":
            priorities: list[object] = np.where(self.vetoed, 0, self.winner + 1).tolist()
            return priorities
        flags: list[object] = getattr(self, name).tolist()  # marketable, roll_to_close
        return flags

    def series(self, plans: Sequence[RulePlan]) -> list[pl.Series]:
        """The decision columns (`DECISION_COLUMNS` bar strategy_id), named."""
        dtypes = {"priority": pl.Int64(), "marketable": pl.Boolean(), "roll_to_close": pl.Boolean()}
        return [
            pl.Series(name, self.labels(name, plans), dtypes.get(name, pl.String()))
            for name in DECISION_COLUMNS[1:]
        ]
