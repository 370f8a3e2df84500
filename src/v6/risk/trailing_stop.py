"""Trailing stops on profit, per strategy, with whipsaw protection, for the whole book at once.

A strategy's stop arms once its profit reaches ``activation_profit_fraction`` of its maximum
profit; from then on it tracks the peak profit and the stop level ``peak x (1 -
trail_fraction)``. A mark at or below the level is a breach; the stop is hit (and stays hit
while the strategy is in the book) once the breach has held for ``confirm_marks`` consecutive
valid marks or for ``confirm_seconds`` of mark time, whichever comes first.

Only fresh, valid marks count: a mark whose time is not after the last counted one changes
nothing, and a mark with an absurd market (a crossed or missing quote, or a combo bid/ask
wider than ``max_spread_fraction`` of its mid) is ignored - it neither breaches, nor resets
a breach, nor moves the peak. A valid mark above the level resets the breach count.

`TrailingState` is an immutable value (one row per strategy); `TrailingStopManager` maps a
state and the cycle's strategy frame to the next state and rule 9's context. Strategies no
longer in the book are dropped. ``to_record``/``from_record`` give a JSON-safe dict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Final

import polars as pl

from v6.book import UTC_MICROS, run_plan
from v6.config.risk import TrailingStopConfig
from v6.decisions.rules import TRAILING_SCHEMA
from v6.risk._records import Record, RecordReader, iso_time

RECORD_VERSION = 1

STATE_SCHEMA: Final = pl.Schema(
    {
        "strategy_id": pl.String(),
        "armed": pl.Boolean(),
        "peak_pnl": pl.Float64(),
        "breach_marks": pl.Int64(),
        "breach_since": UTC_MICROS,
        "last_mark_time": UTC_MICROS,
        "hit": pl.Boolean(),
    }
)


@dataclass(frozen=True, slots=True)
class TrailingState:
    """Every strategy's trailing stop (`STATE_SCHEMA`, one row per strategy)."""

    frame: pl.DataFrame = field(default_factory=STATE_SCHEMA.to_frame)

    def __post_init__(self) -> None:
        if self.frame.schema != STATE_SCHEMA:
            raise ValueError(
                f"TrailingState.frame schema {dict(self.frame.schema)}: "
                f"expected {dict(STATE_SCHEMA)}"
            )

    def to_record(self) -> Record:
        """A JSON-safe record, one row per strategy in strategy-id order (so the record does
        not change with the order of the book)."""
        rows = [
            {
                **row,
                "breach_since": iso_time(row["breach_since"]),
                "last_mark_time": iso_time(row["last_mark_time"]),
            }
            for row in self.frame.iter_rows(named=True)
        ]
        rows.sort(key=itemgetter("strategy_id"))
        return {"version": RECORD_VERSION, "strategies": rows}

    @classmethod
    def from_record(cls, record: Mapping[str, object]) -> TrailingState:
        rows = RecordReader(record, "TrailingState", RECORD_VERSION).rows("strategies")
        parsed = [_parse_row(row, index) for index, row in enumerate(rows)]
        return cls(pl.DataFrame(parsed, schema=STATE_SCHEMA, orient="row"))


def _parse_row(row: Mapping[str, object], index: int) -> tuple[object, ...]:
    read = RecordReader(row, f"TrailingState.strategies[{index}]")
    strategy_id = read.optional_text("strategy_id")
    if not strategy_id:
        raise ValueError(f"TrailingState.strategies[{index}].strategy_id: expected an id")
    return (
        strategy_id,
        read.flag("armed"),
        read.optional_number("peak_pnl"),
        read.count("breach_marks"),
        read.optional_time("breach_since"),
        read.optional_time("last_mark_time"),
        read.flag("hit"),
    )


@dataclass(frozen=True, slots=True)
class TrailingUpdate:
    """The next state, and rule 9's context (`v6.decisions.TRAILING_SCHEMA`, one row per
    strategy of the frame)."""

    state: TrailingState
    context: pl.DataFrame

    @property
    def hits(self) -> frozenset[str]:
        return frozenset(self.context.filter(pl.col("trailing_hit"))["strategy_id"].to_list())


class TrailingStopManager:
    def __init__(self, config: TrailingStopConfig) -> None:
        self._steps = _steps(config)

    def update(self, state: TrailingState, strategies: pl.DataFrame) -> TrailingUpdate:
        """Advance every strategy's stop with this cycle's marks (a `v6.book.summarize`
        frame: ``strategy_id``, ``pnl``, ``max_profit``, ``mark_time``, ``quote_ok``,
        ``spread_fraction``)."""
        plan = _with_state(strategies[list(_MARK_COLUMNS)], state.frame).lazy()
        for columns in self._steps:
            plan = plan.with_columns(*columns)
        step = run_plan(plan)
        return TrailingUpdate(TrailingState(step[STATE_SCHEMA.names()]), _context(step))


def _with_state(marks: pl.DataFrame, state: pl.DataFrame) -> pl.DataFrame:
    """The marks with their strategy's last state (nulls for a strategy new to the book):
    side by side when the state lists the same strategies in the same order (the usual
    cycle), else a left join."""
    if state["strategy_id"].equals(marks["strategy_id"]):
        return marks.hstack(state.drop("strategy_id"))
    return marks.join(state, on="strategy_id", how="left", maintain_order="left")


def _steps(config: TrailingStopConfig) -> tuple[tuple[pl.Expr, ...], ...]:
    """The successive column updates that advance the stops, each reading the columns the
    steps before it wrote, over the marks joined to the last state (nulls for a strategy new
    to the book). Built once per manager: they depend on the configuration only."""
    fresh = _fresh_valid_mark(config) & (
        pl.col("last_mark_time").is_null() | (pl.col("mark_time") > pl.col("last_mark_time"))
    )
    reaches = (pl.col("max_profit") > 0) & (
        pl.col("pnl") >= config.activation_profit_fraction * pl.col("max_profit")
    )
    level = pl.col("peak_pnl") * (1 - config.trail_fraction)
    lasted = (pl.col("mark_time") - pl.col("breach_since")).dt.total_microseconds()
    confirmed = pl.col("breach") & (
        (pl.col("breach_marks") >= config.confirm_marks)
        | (lasted >= int(config.confirm_seconds * 1_000_000))
    )
    return (
        (
            fresh.fill_null(False).alias("fresh"),
            pl.col("hit").fill_null(False),
            pl.col("breach_marks").fill_null(0),
        ),
        (
            (pl.col("armed").fill_null(False) | (pl.col("fresh") & reaches).fill_null(False)).alias(
                "armed"
            ),
        ),
        (
            pl.when(pl.col("fresh") & pl.col("armed"))
            .then(pl.max_horizontal("peak_pnl", "pnl"))
            .otherwise(pl.col("peak_pnl"))
            .alias("peak_pnl"),
        ),
        (
            (pl.col("fresh") & pl.col("armed") & (pl.col("pnl") <= level).fill_null(False)).alias(
                "breach"
            ),
            pl.when(pl.col("armed")).then(level).alias("trailing_level"),
        ),
        (
            pl.when(~pl.col("fresh"))
            .then(pl.col("breach_marks"))
            .when(pl.col("breach"))
            .then(pl.col("breach_marks") + 1)
            .otherwise(0)
            .alias("breach_marks"),
            pl.when(~pl.col("fresh"))
            .then(pl.col("breach_since"))
            .when(pl.col("breach"))
            .then(pl.coalesce("breach_since", "mark_time"))
            .alias("breach_since"),
            pl.when(pl.col("fresh"))
            .then(pl.col("mark_time"))
            .otherwise(pl.col("last_mark_time"))
            .alias("last_mark_time"),
        ),
        ((pl.col("hit") | confirmed.fill_null(False)).alias("hit"),),
    )


_MARK_COLUMNS: Final = (
    "strategy_id",
    "pnl",
    "max_profit",
    "mark_time",
    "quote_ok",
    "spread_fraction",
)
"""What the stops read of the strategy frame."""


def _context(step: pl.DataFrame) -> pl.DataFrame:
    """Rule 9's context from the advanced stops: columns renamed, cast only when the marks
    came with other types."""
    context = pl.DataFrame(
        [
            step["strategy_id"],
            step["hit"].alias("trailing_hit"),
            step["peak_pnl"].alias("trailing_peak"),
            step["trailing_level"],
        ]
    )
    return context if context.schema == TRAILING_SCHEMA else context.cast(TRAILING_SCHEMA)


def _fresh_valid_mark(config: TrailingStopConfig) -> pl.Expr:
    """A mark that may count: profit and time known, every leg quoted, spread not absurd."""
    fair = pl.col("quote_ok") & (pl.col("spread_fraction") <= config.max_spread_fraction)
    known = pl.col("pnl").is_not_null() & pl.col("mark_time").is_not_null()
    return (fair & known).fill_null(False)
