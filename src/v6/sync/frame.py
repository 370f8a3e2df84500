"""The book frame (``v6.book.BOOK_SCHEMA``) from the live strategies and the latest marks.

What a strategy contributes - its kind, legs, units, entry premium, payoff extremes, managed
flag and the dividends of its underlying - changes only when the strategies do, so it is
built once per change by ``v6.book.build_book`` itself (with no quotes) and kept. Each cycle
then joins the mark book's current quotes onto it by contract in one vectorized join, which
gives exactly the frame ``build_book(strategies, marks.quotes(), ...)`` would.
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

    def rebuild(self, strategies: Iterable[Strategy], dividends: pl.DataFrame | None) -> None:
        """Take the strategies that hold positions (and the dividends) as they are now."""
        book_strategies = held(strategies)
        unmanaged = {s.strategy_id for s in book_strategies if is_unmanaged(s)}
        no_quotes = QUOTES_SCHEMA.to_frame()
        book = build_book(book_strategies, no_quotes, dividends=dividends, unmanaged=unmanaged)
        self._static = book.drop(QUOTE_COLUMNS)

    def book(self, marks: pl.DataFrame) -> pl.DataFrame:
        """The book frame with ``marks`` (`MarkBook.frame`: one row per contract)."""
        quotes = marks.select(*CONTRACT_KEY, *QUOTE_COLUMNS)
        joined = self._static.join(quotes, on=list(CONTRACT_KEY), how="left")
        return joined.select(BOOK_SCHEMA.names())
