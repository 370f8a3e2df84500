"""The book frame (``v6.book.BOOK_SCHEMA``) from the live strategies and the latest marks.

What a strategy contributes - its kind, legs, units, entry premium, payoff extremes, managed
flag and the dividends of its underlying - changes only when the strategy does, so its rows
are built by ``v6.book.build_book`` itself (with no quotes) when it first appears or changes,
and kept; new dividends rebuild every row. Each cycle then joins the mark book's current
quotes onto the rows by contract in one vectorized join, which gives exactly the frame
``build_book(strategies, marks.quotes(), ...)`` would.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

import polars as pl

from v6.book import BOOK_SCHEMA, QUOTES_SCHEMA, build_book, empty_book
from v6.domain import Strategy, StrategyStatus
from v6.sync.marks import CONTRACT_KEY
from v6.sync.reconcile import is_unmanaged

QUOTE_COLUMNS: Final = tuple(name for name in QUOTES_SCHEMA.names() if name != "occ_symbol")
_HELD: Final = frozenset({StrategyStatus.OPEN, StrategyStatus.CLOSING})


def held(strategies: Iterable[Strategy]) -> list[Strategy]:
    """The strategies that hold positions (OPEN or CLOSING): the book's strategies."""
    return [s for s in strategies if s.status in _HELD]


class BookFrames:
    """The strategies' part of the book, kept between changes; see the module docstring."""

    def __init__(self) -> None:
        self._static = empty_book().drop(QUOTE_COLUMNS)
        self._strategies: dict[str, Strategy] = {}
        self._dividends: pl.DataFrame | None = None

    def update(self, strategies: Iterable[Strategy], dividends: pl.DataFrame | None) -> None:
        """Take the strategies that hold positions (and the dividends) as they are now:
        rebuild the rows of those that appeared or changed, drop those that left."""
        current = {s.strategy_id: s for s in held(strategies)}
        if dividends is not self._dividends:
            self._strategies, self._dividends = {}, dividends
            self._static = self._static.clear()
        known = self._strategies
        fresh = [s for sid, s in current.items() if known.get(sid) != s]
        stale = {sid for sid in known if sid not in current} | {s.strategy_id for s in fresh}
        kept = self._static.filter(~pl.col("strategy_id").is_in(list(stale)))
        self._static = pl.concat([kept, self._rows(fresh)]) if fresh else kept
        self._strategies = current

    def _rows(self, strategies: list[Strategy]) -> pl.DataFrame:
        unmanaged = {s.strategy_id for s in strategies if is_unmanaged(s)}
        no_quotes = QUOTES_SCHEMA.to_frame()
        book = build_book(strategies, no_quotes, dividends=self._dividends, unmanaged=unmanaged)
        return book.drop(QUOTE_COLUMNS)

    def book(self, marks: pl.DataFrame) -> pl.DataFrame:
        """The book frame with ``marks`` (`MarkBook.frame`: one row per contract)."""
        quotes = marks.select(*CONTRACT_KEY, *QUOTE_COLUMNS)
        joined = self._static.join(quotes, on=list(CONTRACT_KEY), how="left")
        return joined.select(BOOK_SCHEMA.names())
