"""The book frame (``v6.book.BOOK_SCHEMA``) from the live strategies and the latest marks.

What a strategy contributes - its kind, legs, units, entry premium, payoff extremes, managed
flag and the dividends of its underlying - changes only when the strategy does, so its rows
are built by ``v6.book.build_book`` itself (with no quotes) when it first appears or changes,
and kept, each with the `MarkBook` row of its contract (a change of status alone, OPEN to
CLOSING, keeps them: the book has no status); new dividends rebuild every row. Each
cycle then gathers the mark book's current values at those rows (numpy indexing, no join),
which gives exactly the frame ``build_book(strategies, marks.quotes(), ...)`` would. The kept
rows are one chunk (rechunked when they change), so each cycle's book is contiguous: every
polars expression over a frame of several chunks runs once per chunk. They are kept as
the frame of the book's leading columns (those before the first quote column) and the Series
of the others, so that each cycle appends its quote columns in the book's order: no
reordering of the whole frame. The registry's trigger inputs come the same way: the kept
rows' `StrategyLegs` with each cycle's marks and deltas (``trigger_inputs``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date
from typing import Final

import numpy as np
import polars as pl

from v6.book import BOOK_SCHEMA, QUOTES_SCHEMA, build_book
from v6.domain import OptionContract, Strategy, StrategyStatus
from v6.sync.marks import CONTRACT_KEY, VALUE_COLUMNS, IntArray, MarkBook
from v6.sync.reconcile import is_unmanaged
from v6.sync.registry import StrategyLegs, TriggerInputs

QUOTE_COLUMNS: Final = tuple(name for name in QUOTES_SCHEMA.names() if name != "occ_symbol")
MARK_ROW: Final = "mark_row"
"""The static rows' column holding the `MarkBook` row of the leg's contract."""
_STATIC_SCHEMA: Final = pl.Schema(
    {name: dtype for name, dtype in BOOK_SCHEMA.items() if name not in QUOTE_COLUMNS}
    | {MARK_ROW: pl.Int64()}
)
_BOOK_COLUMNS: Final = BOOK_SCHEMA.names()
_FIRST_QUOTE: Final = min(_BOOK_COLUMNS.index(name) for name in QUOTE_COLUMNS)
_LEADING: Final = _BOOK_COLUMNS[:_FIRST_QUOTE]
_TRAILING: Final = _BOOK_COLUMNS[_FIRST_QUOTE:]
_NO_QUOTES: Final = QUOTES_SCHEMA.to_frame()
_HELD: Final = frozenset({StrategyStatus.OPEN, StrategyStatus.CLOSING})
_MARK: Final = VALUE_COLUMNS.index("mark")
_DELTA: Final = VALUE_COLUMNS.index("delta")


def held(strategies: Iterable[Strategy]) -> list[Strategy]:
    """The strategies that hold positions (OPEN or CLOSING): the book's strategies."""
    return [s for s in strategies if s.status in _HELD]


class BookFrames:
    """The strategies' part of the book, kept between changes; see the module docstring."""

    def __init__(self, marks: MarkBook) -> None:
        self._marks = marks
        self._static = _STATIC_SCHEMA.to_frame()
        self._rows: IntArray = np.empty(0, dtype=np.int64)
        self._leading = self._static[_LEADING]
        self._trailing = self._trailing_columns()
        self._legs = StrategyLegs.of(self._static)
        self._strategies: dict[str, Strategy] = {}
        self._dividends: pl.DataFrame | None = None

    def update(self, strategies: Iterable[Strategy], dividends: pl.DataFrame | None) -> None:
        """Take the strategies that hold positions (and the dividends) as they are now:
        rebuild the rows of those that appeared or changed, drop those that left."""
        current = {s.strategy_id: s for s in held(strategies)}
        cleared = dividends is not self._dividends
        if cleared:
            self._strategies, self._dividends = {}, dividends
            self._static = self._static.clear()
        known = self._strategies
        fresh = [s for sid, s in current.items() if not _same_rows(known.get(sid), s)]
        stale = [sid for sid, s in known.items() if not _same_rows(s, current.get(sid))]
        if fresh or stale or cleared:
            self._replace(fresh, stale)
        self._strategies = current

    def _replace(self, fresh: list[Strategy], stale: list[str]) -> None:
        """Drop the rows of the ``stale`` strategy ids, add those of the ``fresh`` strategies."""
        kept = self._static.filter(~pl.col("strategy_id").is_in(stale)) if stale else self._static
        static = pl.concat([kept, self._rows_of(fresh)]) if fresh else kept
        self._static = static.rechunk()
        self._rows = self._static.get_column(MARK_ROW).to_numpy()
        self._leading = self._static[_LEADING]
        self._trailing = self._trailing_columns()
        self._legs = StrategyLegs.of(self._static)

    def _rows_of(self, strategies: list[Strategy]) -> pl.DataFrame:
        unmanaged = {s.strategy_id for s in strategies if is_unmanaged(s)}
        book = build_book(strategies, _NO_QUOTES, dividends=self._dividends, unmanaged=unmanaged)
        rows = self._mark_rows(book, strategies)
        return book.drop(QUOTE_COLUMNS).hstack([pl.Series(MARK_ROW, rows, pl.Int64)])

    def _mark_rows(self, book: pl.DataFrame, strategies: list[Strategy]) -> IntArray:
        """The `MarkBook` row of each book row's contract, found by its CONTRACT_KEY columns."""
        rows = {
            _key(leg.contract): self._marks.row(leg.contract)
            for strategy in strategies
            for leg in strategy.legs
        }
        keys = zip(*(book.get_column(name).to_list() for name in CONTRACT_KEY), strict=True)
        return np.fromiter((rows[key] for key in keys), dtype=np.int64, count=book.height)

    def _trailing_columns(self) -> dict[str, pl.Series]:
        """The kept columns after the leading ones (the quote columns come between them)."""
        return {
            name: self._static.get_column(name) for name in _TRAILING if name not in QUOTE_COLUMNS
        }

    def book(self) -> pl.DataFrame:
        """The book frame with the mark book's current values."""
        quotes = {column.name: column for column in self._marks.quote_columns(self._rows)}
        columns = self._trailing | quotes
        return self._leading.hstack([columns[name] for name in _TRAILING])

    def trigger_inputs(self, today: date) -> TriggerInputs:
        """``v6.sync.registry.trigger_inputs`` of `book` on ``today``, from the kept strategy
        columns and the mark book's current marks and deltas (no frame built or read)."""
        values = self._marks.values(self._rows)
        return self._legs.inputs(values[_MARK], values[_DELTA], today)


def _same_rows(kept: Strategy | None, strategy: Strategy | None) -> bool:
    """Whether the book rows of ``kept`` are those of ``strategy`` (both held): the same
    strategy, or the same but for its status."""
    if kept is None or strategy is None:
        return False
    return kept == strategy or dataclasses.replace(kept, status=strategy.status) == strategy


def _key(contract: OptionContract) -> tuple[object, ...]:
    """The contract's CONTRACT_KEY values as the book frame holds them."""
    return (
        contract.underlying,
        contract.expiry,
        float(contract.strike),
        contract.right.value,
        contract.multiplier,
    )
