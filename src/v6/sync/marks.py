"""The latest mark of every contract sync follows, kept column-wise for whole-book frames.

Units are converted once, on arrival: a broker ``Quote`` carries IB's model Greeks per share
with theta per calendar day and vega per vol point; the book (``v6.book.BOOK_SCHEMA``) and
``position_snapshots`` hold textbook units, so theta is multiplied by 365 (per year) and
vega by 100 (per 1.00 of vol). Delta and gamma are unchanged.

A quote is accepted when its bid and ask are finite, ``0 <= bid <= ask`` and ``ask > 0`` (a
far out-of-the-money option may rightly bid 0); anything else - NaN, zero, negative or
crossed - is counted as bad and leaves the previous mark in place. ``mark`` is the mid.
Each contract keeps two times: ``mark_time``, the quote's own time (what the book shows), and
``refreshed_at``, when sync last received a good quote for it (what mark ages measure).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Final

import numpy as np
import numpy.typing as npt
import polars as pl

from v6.book import QUOTES_SCHEMA, UTC_MICROS
from v6.brokers.types import Quote
from v6.clock import require_utc
from v6.domain import OptionContract
from v6.domain.greeks import DAYS_PER_YEAR, PERCENT

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

NEVER: Final = np.iinfo(np.int64).min
"""Microsecond time stamp of a contract that never had a good quote: the smallest int64, so
any real time stamp is later."""

CONTRACT_KEY: Final = ("underlying", "expiry", "strike", "right", "multiplier")
"""Columns that identify a contract in the book frame (it has no OCC symbol column)."""

VALUE_COLUMNS: Final = (
    "bid",
    "ask",
    "mark",
    "iv",
    "delta",
    "gamma",
    "theta",
    "vega",
    "underlying_price",
)
_KEY_SCHEMA: Final = pl.Schema(
    {
        "occ_symbol": pl.String(),
        "underlying": pl.String(),
        "expiry": pl.Date(),
        "strike": pl.Float64(),
        "right": pl.String(),
        "multiplier": pl.Int64(),
    }
)
_INITIAL_ROWS = 64


_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def micros(time: datetime) -> int:
    """A UTC time as integer microseconds since the epoch (exact)."""
    delta = require_utc(time, "time") - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def is_good(quote: Quote) -> bool:
    """Finite bid and ask with 0 <= bid <= ask and ask > 0."""
    bid, ask = quote.bid, quote.ask
    return math.isfinite(bid) and math.isfinite(ask) and 0 <= bid <= ask and ask > 0


def _optional(value: float) -> float:
    return value if math.isfinite(value) else math.nan


class MarkBook:
    """One row per contract (options only), its latest good quote and its times."""

    def __init__(self) -> None:
        self._rows: dict[OptionContract, int] = {}
        self._contracts: list[OptionContract] = []
        self._symbols: list[str] = []
        self._values = np.full((_INITIAL_ROWS, len(VALUE_COLUMNS)), np.nan)
        self._mark_time = np.full(_INITIAL_ROWS, NEVER, dtype=np.int64)
        self._refreshed = np.full(_INITIAL_ROWS, NEVER, dtype=np.int64)
        self._keys: pl.DataFrame | None = None
        self.bad_quotes = 0

    def __len__(self) -> int:
        return len(self._contracts)

    @property
    def contracts(self) -> Sequence[OptionContract]:
        return self._contracts

    @property
    def occ_symbols(self) -> Sequence[str]:
        """Each row's OCC symbol."""
        return self._symbols

    def row(self, contract: OptionContract) -> int:
        """The contract's row, added (without a mark) if new."""
        found = self._rows.get(contract)
        if found is not None:
            return found
        row = len(self._contracts)
        if row == len(self._mark_time):
            self._grow()
        self._rows[contract] = row
        self._contracts.append(contract)
        self._symbols.append(contract.occ_symbol)
        self._keys = None
        return row

    def rows(self, contracts: Iterable[OptionContract]) -> IntArray:
        return np.fromiter((self.row(c) for c in contracts), dtype=np.int64)

    def apply(self, quotes: Iterable[Quote], received_at: datetime) -> int:
        """Take the good quotes of option contracts; returns how many were good."""
        received = micros(received_at)
        good = 0
        for quote in quotes:
            contract = quote.contract
            if not isinstance(contract, OptionContract):
                continue
            if not is_good(quote):
                self.bad_quotes += 1
                continue
            row = self.row(contract)
            self._values[row] = self._quote_values(quote)
            self._mark_time[row] = micros(quote.time)
            self._refreshed[row] = received
            good += 1
        return good

    @staticmethod
    def _quote_values(quote: Quote) -> tuple[float, ...]:
        greeks = quote.greeks
        if greeks is None:
            delta = gamma = theta = vega = math.nan
        else:
            delta, gamma = greeks.delta, greeks.gamma
            theta, vega = greeks.theta * DAYS_PER_YEAR, greeks.vega * PERCENT
        return (
            quote.bid,
            quote.ask,
            (quote.bid + quote.ask) / 2.0,
            _optional(quote.iv),
            delta,
            gamma,
            theta,
            vega,
            _optional(quote.underlying_price),
        )

    def refreshed_micros(self, rows: IntArray) -> IntArray:
        """When each row last got a good quote (``NEVER`` if it never did)."""
        return self._refreshed[rows]

    def mark_micros(self, rows: IntArray) -> IntArray:
        return self._mark_time[rows]

    def mark_time(self, row: int) -> datetime:
        """The row's quote time (the row must have a mark)."""
        stamp = int(self._mark_time[row])
        if stamp == NEVER:
            raise ValueError(f"mark row {row} ({self._contracts[row].occ_symbol}) has no mark")
        return _EPOCH + timedelta(microseconds=stamp)

    def frame(self) -> pl.DataFrame:
        """Every row: ``occ_symbol``, the ``CONTRACT_KEY`` columns and QUOTES_SCHEMA's values
        (null where unknown), in book units."""
        count = len(self._contracts)
        values = {
            name: pl.Series(name, self._values[:count, index], nan_to_null=True)
            for index, name in enumerate(VALUE_COLUMNS)
        }
        times = self._mark_time[:count]
        mark_time = pl.Series("mark_time", np.where(times == NEVER, 0, times), pl.Int64)
        known = pl.Series("known", times != NEVER)
        return self._key_frame().with_columns(
            **values,
            mark_time=pl.when(known).then(mark_time.cast(UTC_MICROS)),
        )

    def values(self, rows: IntArray) -> FloatArray:
        """The quote values of ``rows`` (rows may repeat), one array per VALUE_COLUMNS name
        (shape ``(len(VALUE_COLUMNS), len(rows))``), NaN where unknown, in book units."""
        return np.ascontiguousarray(self._values[rows].T)

    def mark_times(self, rows: IntArray) -> pl.Series:
        """The quote times of ``rows`` (null where never marked), as ``mark_time``."""
        stamps = self._mark_time[rows]
        times = pl.Series("mark_time", stamps).cast(UTC_MICROS)
        return times.scatter(np.flatnonzero(stamps == NEVER), None)

    def quote_columns(self, rows: IntArray) -> list[pl.Series]:
        """The quote values and mark times of ``rows``: one Series per QUOTES_SCHEMA column
        after ``occ_symbol``, null where unknown, in book units - the book frame's quote
        columns, gathered without a join."""
        values = self.values(rows)
        columns = [
            pl.Series(name, values[index], nan_to_null=True)
            for index, name in enumerate(VALUE_COLUMNS)
        ]
        return [*columns, self.mark_times(rows)]

    def quotes(self) -> pl.DataFrame:
        """The rows that have a mark, in ``v6.book.QUOTES_SCHEMA`` (``build_book``'s input)."""
        return self.frame().filter(pl.col("mark_time").is_not_null()).select(QUOTES_SCHEMA.names())

    def _key_frame(self) -> pl.DataFrame:
        if self._keys is None or self._keys.height != len(self._contracts):
            self._keys = pl.DataFrame(
                [
                    (
                        symbol,
                        c.underlying,
                        c.expiry,
                        float(c.strike),
                        c.right.value,
                        c.multiplier,
                    )
                    for c, symbol in zip(self._contracts, self._symbols, strict=True)
                ],
                schema=_KEY_SCHEMA,
                orient="row",
            )
        return self._keys

    def _grow(self) -> None:
        size = len(self._mark_time) * 2
        values = np.full((size, len(VALUE_COLUMNS)), np.nan)
        values[: len(self._values)] = self._values
        self._values = values
        for name in ("_mark_time", "_refreshed"):
            old = getattr(self, name)
            grown = np.full(size, NEVER, dtype=np.int64)
            grown[: len(old)] = old
            setattr(self, name, grown)
