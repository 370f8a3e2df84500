"""The book's legs as numpy columns, grouped by strategy: what every cycle's summary, rules
and risk figures are computed from.

A cycle's book is small (a few dozen legs) and is summarized every five minutes, so the cost
that matters is per operation, not per row: a numpy operation costs a microsecond or two
where a polars expression costs tens, whatever the frame's size. Plain arrays also scale to
books of thousands of strategies (one reduction per column, not per strategy).

`Legs.of` reads a validated book frame (`v6.book.BOOK_SCHEMA`) once: unknown values become
NaN (numbers) and NaT (times), so a comparison with an unknown value is false and a sum over
a leg with an unknown value is unknown. The legs of a strategy are contiguous in the order of
its first appearance (the book's order when it already is: position sync and `build_book`
write a strategy's legs together); `Legs.groups` reduces a leg column to one value per
strategy in that order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Final, TypeVar

import numpy as np
import numpy.typing as npt
import polars as pl

from v6.domain.greeks import DAYS_PER_YEAR, PERCENT
from v6.table import as_array

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
DateArray = npt.NDArray[np.datetime64]

Column = TypeVar("Column", bound=npt.NDArray[Any])

_DAY: Final = np.timedelta64(1, "D")


def days_from(dates: DateArray, today: date) -> FloatArray:
    """Calendar days from ``today`` to each date (NaN where the date is unknown)."""
    return (dates - np.datetime64(today, "D")) / _DAY


def ratio(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    """``numerator / denominator`` where the denominator is known and positive, else NaN."""
    quotient = np.full(numerator.shape, np.nan)
    np.divide(numerator, denominator, out=quotient, where=denominator > 0)
    return quotient


@dataclass(frozen=True, slots=True)
class Groups:
    """Reductions of a leg column to one value per strategy. ``starts`` indexes each
    strategy's first leg; unknown values (NaN, NaT) are skipped by ``min``/``max`` (a
    strategy with none known gets NaN) and make ``total`` unknown."""

    starts: IntArray
    leading: pl.Series
    """True on each strategy's first leg: picks a frame column's strategy-level values
    (a filter keeps the column's type and nulls, and costs far less than a gather)."""

    @classmethod
    def at(cls, starts: IntArray, legs: int) -> Groups:
        leading = np.zeros(legs, np.bool_)
        leading[starts] = True
        return cls(starts, pl.Series(leading))

    @property
    def count(self) -> int:
        return int(self.starts.size)

    def first_of(self, column: pl.Series) -> pl.Series:
        """A book column's value on each strategy's first leg."""
        return column.filter(self.leading)

    def min(self, values: Column) -> Column:
        return np.fmin.reduceat(values, self.starts) if self.count else values[:0]  # type: ignore[return-value]

    def max(self, values: Column) -> Column:
        return np.fmax.reduceat(values, self.starts) if self.count else values[:0]  # type: ignore[return-value]

    def total(self, values: FloatArray) -> FloatArray:
        """The sum per strategy; unknown when any of its legs is (a partial sum would
        understate the risk)."""
        return np.add.reduceat(values, self.starts) if self.count else values[:0]

    def known_total(self, values: FloatArray) -> FloatArray:
        """The sum of the known values per strategy (zero when none is known)."""
        return self.total(np.nan_to_num(values, nan=0.0))

    def any(self, values: BoolArray) -> BoolArray:
        return np.logical_or.reduceat(values, self.starts) if self.count else values[:0]

    def all(self, values: BoolArray) -> BoolArray:
        return np.logical_and.reduceat(values, self.starts) if self.count else values[:0]


@dataclass(frozen=True, slots=True)
class Legs:
    """Every leg's inputs and the per-leg figures the summary and the rules share (per
    share unless said otherwise; position Greeks in the portfolio units of DESIGN.md
    section 3)."""

    book: pl.DataFrame
    """The book's rows in the legs' order (strategies contiguous)."""
    groups: Groups
    quantity: IntArray
    multiplier: IntArray
    strike: FloatArray
    is_call: BoolArray
    is_short: BoolArray
    expiry: DateArray
    dte: IntArray
    mark: FloatArray
    underlying_price: FloatArray
    delta: FloatArray
    intrinsic: FloatArray
    extrinsic: FloatArray
    value: FloatArray
    """quantity x mark x multiplier: what the leg is worth (currency)."""
    pos_delta: FloatArray
    pos_gamma: FloatArray
    pos_theta: FloatArray
    pos_vega: FloatArray
    width: FloatArray
    """|quantity| x (ask - bid): the leg's share of the combo's bid/ask width."""
    signed_mid: FloatArray
    """quantity x mid: the leg's share of the combo's mid."""
    quote_ok: BoolArray
    """A finite, uncrossed quote: 0 <= bid <= ask, ask > 0."""
    ex_div_date: DateArray
    ex_div_amount: FloatArray
    mark_time: npt.NDArray[np.datetime64]

    @classmethod
    def of(cls, book: pl.DataFrame, today: date) -> Legs:
        """The legs of a validated book frame on trading date ``today``."""
        book, starts = _grouped(book)
        quantity, multiplier = book["quantity"].to_numpy(), book["multiplier"].to_numpy()
        size = quantity * multiplier
        strike, spot = as_array(book["strike"]), as_array(book["underlying_price"])
        is_call = book["right"].to_numpy() == "C"
        mark, bid, ask = as_array(book["mark"]), as_array(book["bid"]), as_array(book["ask"])
        delta = as_array(book["delta"])
        intrinsic = np.maximum(np.where(is_call, spot - strike, strike - spot), 0.0)
        expiry = book["expiry"].to_numpy()
        with np.errstate(invalid="ignore"):
            quote_ok = np.isfinite(bid) & np.isfinite(ask) & (bid >= 0) & (ask > 0) & (ask >= bid)
        return cls(
            book=book,
            groups=Groups.at(starts, book.height),
            quantity=quantity,
            multiplier=multiplier,
            strike=strike,
            is_call=is_call,
            is_short=quantity < 0,
            expiry=expiry,
            dte=days_from(expiry, today).astype(np.int64),
            mark=mark,
            underlying_price=spot,
            delta=delta,
            intrinsic=intrinsic,
            extrinsic=mark - intrinsic,
            value=quantity * mark * multiplier,
            pos_delta=delta * size,
            pos_gamma=as_array(book["gamma"]) * size,
            pos_theta=as_array(book["theta"]) / DAYS_PER_YEAR * size,
            pos_vega=as_array(book["vega"]) / PERCENT * size,
            width=np.abs(quantity) * (ask - bid),
            signed_mid=quantity * (bid + ask) / 2,
            quote_ok=quote_ok,
            ex_div_date=book["ex_div_date"].to_numpy(),
            ex_div_amount=as_array(book["ex_div_amount"]),
            mark_time=book["mark_time"].to_numpy(),
        )

    def where(self, condition: BoolArray, values: FloatArray) -> FloatArray:
        """``values`` on the legs meeting ``condition``, unknown (NaN) on the others."""
        return np.where(condition, values, np.nan)

    def figures(self) -> dict[str, npt.NDArray[np.generic]]:
        """The per-leg figures `v6.book.leg_view` adds to the book, by column name."""
        return {
            "dte": self.dte,
            "is_short": self.is_short,
            "is_call": self.is_call,
            "intrinsic": self.intrinsic,
            "value": self.value,
            "pos_delta": self.pos_delta,
            "pos_gamma": self.pos_gamma,
            "pos_theta": self.pos_theta,
            "pos_vega": self.pos_vega,
            "width": self.width,
            "signed_mid": self.signed_mid,
            "quote_ok": self.quote_ok,
            "extrinsic": self.extrinsic,
        }


def _grouped(book: pl.DataFrame) -> tuple[pl.DataFrame, IntArray]:
    """``book`` with each strategy's legs together, strategies in order of first appearance
    (legs keep their order), and the index of each strategy's first leg. The book itself
    when its strategies already are contiguous."""
    ids = book["strategy_id"].to_numpy()
    starts = _run_starts(ids)
    if len(set(ids[starts].tolist())) == starts.size:
        return book, starts
    first_seen = {strategy: rank for rank, strategy in enumerate(dict.fromkeys(ids.tolist()))}
    order = np.argsort([first_seen[strategy] for strategy in ids.tolist()], kind="stable")
    return book[order], _run_starts(ids[order])


def _run_starts(ids: npt.NDArray[np.object_]) -> IntArray:
    """Where each run of equal values starts."""
    if ids.size == 0:
        return np.zeros(0, np.int64)
    return np.flatnonzero(np.concatenate(([True], ids[1:] != ids[:-1]))).astype(np.int64)
