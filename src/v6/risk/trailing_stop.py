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

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import polars as pl

from v6.book import UTC_MICROS
from v6.config.risk import TrailingStopConfig
from v6.risk._records import Record, RecordReader, iso_time
from v6.table import ArrayTable, Columns, aligned

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


_TIME_NAMES: Final = ("breach_since", "last_mark_time")


STATE_DTYPES: Final = {"strategy_id": pl.String(), **dict.fromkeys(_TIME_NAMES, UTC_MICROS)}
"""The frame types of the state's array columns that numpy's types would not give."""


class TrailingState:
    """Every strategy's trailing stop, one row per strategy: ``stops`` as the manager keeps
    them (arrays), ``frame`` as a table (`STATE_SCHEMA`). Made from a frame, it checks the
    frame's schema."""

    __slots__ = ("stops",)

    def __init__(self, stops: pl.DataFrame | ArrayTable | None = None) -> None:
        if stops is None:
            stops = STATE_SCHEMA.to_frame()
        if isinstance(stops, pl.DataFrame):
            if stops.schema != STATE_SCHEMA:
                raise ValueError(
                    f"TrailingState.frame schema {dict(stops.schema)}: "
                    f"expected {dict(STATE_SCHEMA)}"
                )
            stops = ArrayTable.of_frame(stops)
        self.stops = stops

    @property
    def frame(self) -> pl.DataFrame:
        return self.stops.frame

    def to_record(self) -> Record:
        """A JSON-safe record, one row per strategy in strategy-id order (so the record does
        not change with the order of the book)."""
        stops = self.stops
        columns = {
            "strategy_id": stops["strategy_id"].tolist(),
            "armed": stops["armed"].tolist(),
            "peak_pnl": _known(stops["peak_pnl"]),
            "breach_marks": stops["breach_marks"].astype(np.int64).tolist(),
            **{name: _iso_times(stops[name]) for name in _TIME_NAMES},
            "hit": stops["hit"].tolist(),
        }
        rows = [
            dict(zip(columns, values, strict=True))
            for values in zip(*columns.values(), strict=True)
        ]
        rows.sort(key=itemgetter("strategy_id"))
        return {"version": RECORD_VERSION, "strategies": rows}

    @classmethod
    def from_record(cls, record: Mapping[str, object]) -> TrailingState:
        rows = RecordReader(record, "TrailingState", RECORD_VERSION).rows("strategies")
        parsed = [_parse_row(row, index) for index, row in enumerate(rows)]
        return cls(pl.DataFrame(parsed, schema=STATE_SCHEMA, orient="row"))


def _known(values: npt.NDArray[Any]) -> list[float | None]:
    return [None if math.isnan(value) else value for value in values.tolist()]


def _iso_times(values: npt.NDArray[Any]) -> list[str | None]:
    """UTC times (``datetime64[us]``, NaT unknown) as `iso_time` writes them."""
    naive: list[datetime | None] = values.astype("datetime64[us]").tolist()
    return [None if time is None else iso_time(time.replace(tzinfo=UTC)) for time in naive]


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
    """The next state, and rule 9's context (`v6.decisions.TRAILING_SCHEMA`'s columns, one
    row per strategy of the update)."""

    state: TrailingState
    context: ArrayTable

    @property
    def hits(self) -> frozenset[str]:
        ids = self.context["strategy_id"][self.context["trailing_hit"]]
        return frozenset(str(strategy) for strategy in ids.tolist())


class TrailingStopManager:
    def __init__(self, config: TrailingStopConfig) -> None:
        self._config = config

    def update(self, state: TrailingState, strategies: Columns) -> TrailingUpdate:
        """Advance every strategy's stop with this cycle's marks (`v6.book.summarize`
        columns: ``strategy_id``, ``pnl``, ``max_profit``, ``mark_time``, ``quote_ok``,
        ``spread_fraction``)."""
        ids = strategies["strategy_id"]
        last = aligned(ids, state.stops, STATE_SCHEMA)
        stops = _Stops.read(strategies, last).advanced(self._config)
        return TrailingUpdate(TrailingState(stops.state(ids)), stops.context(ids))


FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
TimeArray = npt.NDArray[np.datetime64]

_NOT_A_TIME: Final = np.datetime64("NaT", "us")


@dataclass(frozen=True, slots=True)
class _Stops:
    """Every strategy's stop as arrays, one entry per row of the marks: a state machine
    with one step per cycle, plain array code over a handful of columns. Unknown values are
    NaN (numbers) and NaT (times): a null profit, maximum profit or spread reads as NaN, and
    a NaN reads as unknown - a NaN profit is no valid mark, a NaN maximum profit never arms."""

    pnl: FloatArray
    max_profit: FloatArray
    mark_time: TimeArray
    spread_fraction: FloatArray
    quote_ok: BoolArray
    armed: BoolArray
    peak_pnl: FloatArray
    breach_marks: npt.NDArray[np.int64]
    breach_since: TimeArray
    last_mark_time: TimeArray
    hit: BoolArray
    trailing_level: FloatArray

    @classmethod
    def read(cls, marks: Columns, last: Mapping[str, npt.NDArray[Any]]) -> _Stops:
        """The marks and the last state row for row (`v6.table.aligned`: a strategy new to
        the book starts unarmed, with no peak, breach or mark)."""
        return cls(
            pnl=marks["pnl"],
            max_profit=marks["max_profit"],
            mark_time=_times(marks["mark_time"]),
            spread_fraction=marks["spread_fraction"],
            quote_ok=marks["quote_ok"],
            armed=last["armed"],
            peak_pnl=last["peak_pnl"],
            breach_marks=np.nan_to_num(last["breach_marks"], nan=0).astype(np.int64),
            breach_since=_times(last["breach_since"]),
            last_mark_time=_times(last["last_mark_time"]),
            hit=last["hit"],
            trailing_level=np.full(marks["pnl"].size, np.nan),
        )

    def advanced(self, config: TrailingStopConfig) -> _Stops:
        """The stops after this cycle's marks (see the module docstring)."""
        fresh = self._fresh_valid(config)
        reaches = (self.max_profit > 0) & (
            self.pnl >= config.activation_profit_fraction * self.max_profit
        )
        armed = self.armed | (fresh & reaches)
        moves = fresh & armed
        peak = np.where(moves, np.fmax(self.peak_pnl, self.pnl), self.peak_pnl)
        level = peak * (1 - config.trail_fraction)
        breach = moves & (self.pnl <= level)
        marks = np.where(fresh, np.where(breach, self.breach_marks + 1, 0), self.breach_marks)
        since_breach = np.where(np.isnat(self.breach_since), self.mark_time, self.breach_since)
        since = np.where(fresh, np.where(breach, since_breach, _NOT_A_TIME), self.breach_since)
        lasted = self.mark_time - since
        confirmed = breach & (
            (marks >= config.confirm_marks)
            | (lasted >= np.timedelta64(int(config.confirm_seconds * 1_000_000), "us"))
        )
        return replace(
            self,
            armed=armed,
            peak_pnl=peak,
            breach_marks=marks,
            breach_since=since,
            last_mark_time=np.where(fresh, self.mark_time, self.last_mark_time),
            hit=self.hit | confirmed,
            trailing_level=np.where(armed, level, np.nan),
        )

    def _fresh_valid(self, config: TrailingStopConfig) -> BoolArray:
        """Marks that may count: profit and time known, every leg quoted, the spread not
        absurd, and the time after the last counted mark."""
        fair = self.quote_ok & (self.spread_fraction <= config.max_spread_fraction)
        known = ~np.isnan(self.pnl) & ~np.isnat(self.mark_time)
        later = np.isnat(self.last_mark_time) | (self.mark_time > self.last_mark_time)
        return fair & known & later

    def state(self, ids: npt.NDArray[Any]) -> ArrayTable:
        """The stops as the next `TrailingState` keeps them (`STATE_SCHEMA`'s columns)."""
        columns = {
            "strategy_id": ids,
            "armed": self.armed,
            "peak_pnl": self.peak_pnl,
            "breach_marks": self.breach_marks,
            "breach_since": self.breach_since,
            "last_mark_time": self.last_mark_time,
            "hit": self.hit,
        }
        return ArrayTable(columns, ids.size, STATE_DTYPES)

    def context(self, ids: npt.NDArray[Any]) -> ArrayTable:
        """Rule 9's context (`v6.decisions.TRAILING_SCHEMA`'s columns)."""
        columns = {
            "strategy_id": ids,
            "trailing_hit": self.hit,
            "trailing_peak": self.peak_pnl,
            "trailing_level": self.trailing_level,
        }
        return ArrayTable(columns, ids.size, {"strategy_id": pl.String()})


def _times(values: npt.NDArray[Any]) -> TimeArray:
    """Times as microseconds (unknown as NaT)."""
    return values.astype("datetime64[us]", copy=False)
