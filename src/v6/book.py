"""The book frame: every leg of every open strategy with its latest mark, one row per leg.

It is what the decision engine and the risk monitor consume each cycle, evaluated for the
whole book at once. Position sync produces it; `build_book` makes it from domain strategies
and a quotes frame (tests, simulations, the explain command).

``BOOK_SCHEMA``, one row per leg (strategy-level columns repeat on every leg of a strategy;
``?`` marks a nullable column: a missing quote or Greek is null, never zero)::

    strategy_id       String    the strategy's key
    kind              String    StrategyKind value (iron_condor, vertical, custom)
    underlying        String    OCC root
    expiry            Date
    strike            Float64
    right             String    "C" or "P"
    quantity          Int64     signed contracts held = leg ratio x units (+ long, - short)
    units             Int64     units of the strategy held (Strategy.quantity)
    multiplier        Int64     shares per contract
    entry_premium     Float64   net premium per share per unit: + credit received, - debit paid
    max_profit        Float64?  whole strategy, currency; null when unbounded or undefined
    max_loss          Float64?  whole strategy, currency, > 0; null when unbounded or undefined
    bid, ask, mark    Float64?  per share
    iv                Float64?  implied volatility, decimal (0.20 = 20%)
    delta, gamma      Float64?  per share, per 1.00 move of the underlying
    theta             Float64?  per share, per YEAR (v6.pricing's unit; IB's is per day: x365)
    vega              Float64?  per share, per 1.00 of vol (v6.pricing's unit; IB's: x100)
    underlying_price  Float64?
    ex_div_date       Date?     the underlying's next ex-dividend date
    ex_div_amount     Float64?  its cash dividend per share
    mark_time         Datetime(us, UTC)?  when the quote was taken
    managed           Boolean   false for positions adopted from the broker: rules never act
                                on them, but risk counts them

``summarize`` turns the legs into one row per strategy (``STRATEGY_COLUMNS``) with position
Greeks in the portfolio units of DESIGN.md section 3: delta and gamma in share-equivalents,
theta in currency per calendar day, vega in currency per vol point.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import date
from typing import Final

import numpy as np
import numpy.typing as npt
import polars as pl

from v6.domain import PayoffUndefinedError, Strategy, StrategyStatus
from v6.legs import Legs, ratio
from v6.table import ArrayTable, Column, as_array, as_series

UTC_MICROS: Final = pl.Datetime("us", "UTC")

BOOK_SCHEMA: Final = pl.Schema(
    {
        "strategy_id": pl.String(),
        "kind": pl.String(),
        "underlying": pl.String(),
        "expiry": pl.Date(),
        "strike": pl.Float64(),
        "right": pl.String(),
        "quantity": pl.Int64(),
        "units": pl.Int64(),
        "multiplier": pl.Int64(),
        "entry_premium": pl.Float64(),
        "max_profit": pl.Float64(),
        "max_loss": pl.Float64(),
        "bid": pl.Float64(),
        "ask": pl.Float64(),
        "mark": pl.Float64(),
        "iv": pl.Float64(),
        "delta": pl.Float64(),
        "gamma": pl.Float64(),
        "theta": pl.Float64(),
        "vega": pl.Float64(),
        "underlying_price": pl.Float64(),
        "ex_div_date": pl.Date(),
        "ex_div_amount": pl.Float64(),
        "mark_time": UTC_MICROS,
        "managed": pl.Boolean(),
    }
)

REQUIRED_COLUMNS: Final = (
    "strategy_id",
    "kind",
    "underlying",
    "expiry",
    "strike",
    "right",
    "quantity",
    "units",
    "multiplier",
    "entry_premium",
    "managed",
)
"""Columns that may never be null; every other column is null when unknown."""

QUOTES_SCHEMA: Final = pl.Schema(
    {
        "occ_symbol": pl.String(),
        "bid": pl.Float64(),
        "ask": pl.Float64(),
        "mark": pl.Float64(),
        "iv": pl.Float64(),
        "delta": pl.Float64(),
        "gamma": pl.Float64(),
        "theta": pl.Float64(),
        "vega": pl.Float64(),
        "underlying_price": pl.Float64(),
        "mark_time": UTC_MICROS,
    }
)
"""Input of `build_book`: one row per contract, keyed by its 21-character OCC symbol
(``OptionContract.occ_symbol``), Greeks per share in BOOK_SCHEMA's units."""

DIVIDENDS_SCHEMA: Final = pl.Schema(
    {"underlying": pl.String(), "ex_div_date": pl.Date(), "ex_div_amount": pl.Float64()}
)
"""Input of `build_book`: the next ex-dividend date and amount per underlying."""

STRATEGY_COLUMNS: Final = (
    "strategy_id",  # String
    "kind",  # String
    "underlying",  # String: the first underlying in sort order (custom strategies may mix)
    "managed",  # Boolean
    "units",  # Int64
    "entry_credit",  # Float64: entry_premium x units x multiplier (+ credit, - debit)
    "max_profit",  # Float64?
    "max_loss",  # Float64?
    "value",  # Float64?: sum of quantity x mark x multiplier (what the legs are worth)
    "pnl",  # Float64?: entry_credit + value (unrealised, currency)
    "delta",  # Float64?: share-equivalents
    "gamma",  # Float64?: share-equivalents per 1.00 move
    "theta",  # Float64?: currency per calendar day
    "vega",  # Float64?: currency per vol point
    "dte",  # Int64: calendar days to the nearest expiry
    "last_expiry",  # Date
    "underlying_price",  # Float64?
    "mark_time",  # Datetime?: the oldest leg mark
    "spread_fraction",  # Float64?: combo bid/ask width / |combo mid|
    "quote_ok",  # Boolean: every leg has a finite, uncrossed bid >= 0 < ask
)
"""Columns of `summarize`'s output, one row per strategy, in order of first appearance."""

_OPEN_STATUSES: Final = frozenset({StrategyStatus.OPEN, StrategyStatus.CLOSING})


class BookError(ValueError):
    """A book frame, quotes frame or strategy does not fit the documented schema."""


def empty_book() -> pl.DataFrame:
    return BOOK_SCHEMA.to_frame()


def validate_book(book: pl.DataFrame) -> pl.DataFrame:
    """Return ``book`` if it fits BOOK_SCHEMA (names, types, required values), else raise
    `BookError` naming every problem."""
    _require_schema(book, BOOK_SCHEMA, "book")
    problems = _value_problems(book)
    if problems:
        raise BookError("book frame: " + "; ".join(problems))
    return book


def _schema_problems(actual: pl.Schema, expected: pl.Schema) -> list[str]:
    problems: list[str] = []
    for name, dtype in expected.items():
        if name not in actual:
            problems.append(f"missing column {name!r} ({dtype})")
        elif actual[name] != dtype:
            problems.append(f"column {name!r} is {actual[name]}, expected {dtype}")
    return problems


def _require_schema(frame: pl.DataFrame, expected: pl.Schema, what: str) -> None:
    if frame.columns == expected.names() and frame.dtypes == expected.dtypes():
        return
    problems = _schema_problems(frame.schema, expected)
    if problems:
        raise BookError(f"{what} frame: " + "; ".join(problems))


def _value_counts(book: pl.DataFrame) -> dict[str, int]:
    """How many rows break each value rule, by rule (a null value counts only as null).
    Array comparisons, not frame operations: the book is validated every cycle, and a polars
    operation costs more than these checks on a small book."""
    right = book["right"].to_numpy()
    nulls = {name: book[name].null_count() for name in REQUIRED_COLUMNS}
    breaking = {
        "quantity == 0": book["quantity"].to_numpy() == 0,
        "units <= 0": book["units"].to_numpy() <= 0,
        "multiplier <= 0": book["multiplier"].to_numpy() <= 0,
        "strike <= 0": book["strike"].to_numpy() <= 0,
    }
    return {
        **{f"null {name}": count for name, count in nulls.items()},
        "right not 'C' or 'P'": int(((right != "C") & (right != "P")).sum()) - nulls["right"],
        **{what: int(rows.sum()) for what, rows in breaking.items()},
    }


def _value_problems(book: pl.DataFrame) -> list[str]:
    return [f"{count} rows with {what}" for what, count in _value_counts(book).items() if count]


def build_book(
    strategies: Iterable[Strategy],
    quotes: pl.DataFrame,
    *,
    dividends: pl.DataFrame | None = None,
    unmanaged: Collection[str] = (),
) -> pl.DataFrame:
    """The book frame of OPEN or CLOSING ``strategies`` with their legs' quotes.

    ``quotes`` follows QUOTES_SCHEMA (a leg without a quote gets nulls), ``dividends``
    DIVIDENDS_SCHEMA; ``unmanaged`` lists strategy ids the rules must not touch.
    """
    _require_schema(quotes, QUOTES_SCHEMA, "quotes")
    divs = DIVIDENDS_SCHEMA.to_frame() if dividends is None else dividends
    _require_schema(divs, DIVIDENDS_SCHEMA, "dividends")
    legs = pl.DataFrame(
        [row for strategy in strategies for row in _leg_rows(strategy, unmanaged)],
        schema=_LEG_ROW_SCHEMA,
        orient="row",
    )
    book = legs.join(quotes.unique("occ_symbol", keep="last"), on="occ_symbol", how="left")
    book = book.join(divs.unique("underlying", keep="last"), on="underlying", how="left")
    return book.select(BOOK_SCHEMA.names()).cast(BOOK_SCHEMA)


_STATIC_NAMES: Final = BOOK_SCHEMA.names()[: BOOK_SCHEMA.names().index("max_loss") + 1]
"""The book's leading columns: what the strategy alone determines, before any quote."""

_LEG_ROW_SCHEMA: Final = pl.Schema(
    {
        **{name: BOOK_SCHEMA[name] for name in _STATIC_NAMES},
        "managed": pl.Boolean(),
        "occ_symbol": pl.String(),
    }
)


def _leg_rows(strategy: Strategy, unmanaged: Collection[str]) -> list[tuple[object, ...]]:
    if strategy.status not in _OPEN_STATUSES or strategy.entry_premium is None:
        raise BookError(
            f"strategy {strategy.strategy_id!r}: status {strategy.status.name} with "
            f"entry_premium {strategy.entry_premium!r}: expected an OPEN or CLOSING strategy "
            "with its filled entry premium"
        )
    max_profit, max_loss = _payoff_extremes(strategy)
    return [
        (
            strategy.strategy_id,
            strategy.kind.value,
            leg.contract.underlying,
            leg.contract.expiry,
            float(leg.contract.strike),
            leg.contract.right.value,
            leg.quantity * strategy.quantity,
            strategy.quantity,
            leg.contract.multiplier,
            strategy.entry_premium,
            max_profit,
            max_loss,
            strategy.strategy_id not in unmanaged,
            leg.contract.occ_symbol,
        )
        for leg in strategy.legs
    ]


def _payoff_extremes(strategy: Strategy) -> tuple[float | None, float | None]:
    """Whole-strategy max profit and max loss at expiry; None when unbounded or undefined."""
    try:
        profile = strategy.payoff_profile()
    except PayoffUndefinedError:
        return None, None
    units = strategy.quantity

    def finite(value: float) -> float | None:
        return value * units if math.isfinite(value) else None

    return finite(profile.max_profit), finite(profile.max_loss)


def leg_view(book: pl.DataFrame, today: date) -> pl.DataFrame:
    """The book with per-leg figures the rules share: ``dte``, ``is_short``, ``is_call``,
    ``intrinsic``, ``extrinsic`` (per share), ``value`` (currency), position Greeks
    ``pos_delta``/``pos_gamma``/``pos_theta``/``pos_vega``, and the combo-quote terms
    ``width`` (|quantity| x (ask - bid)), ``signed_mid`` and ``quote_ok``."""
    legs = Legs.of(book, today)
    return legs.book.hstack([as_series(name, values) for name, values in legs.figures().items()])


LegAggregation = Callable[[Legs], Mapping[str, npt.NDArray[np.generic]]]
"""Per-strategy columns computed from the legs (one value per strategy, in `Legs.groups`
order), by column name: how a rule adds its own figures to the summary."""

SUMMARY_DTYPES: Final = {
    "underlying": pl.String(),
    "last_expiry": pl.Date(),
    "mark_time": UTC_MICROS,
}
"""The frame types of the summary's array columns that numpy's types would not give."""


def summarize(
    book: pl.DataFrame, today: date, aggregations: Sequence[LegAggregation] = ()
) -> ArrayTable:
    """One row per strategy of a validated book (STRATEGY_COLUMNS, strategies in order of
    first appearance), then the columns of ``aggregations``: arrays for the cycle, ``frame``
    for a table."""
    legs = Legs.of(validate_book(book), today)
    columns = _strategy_columns(legs)
    for aggregate in aggregations:
        columns.update(aggregate(legs))
    return ArrayTable(columns, legs.groups.count, SUMMARY_DTYPES)


def _strategy_columns(legs: Legs) -> dict[str, Column]:
    """STRATEGY_COLUMNS of ``legs``, in their order."""
    groups, book = legs.groups, legs.book
    premium = as_array(book["entry_premium"])[groups.starts]
    units = book["units"].to_numpy()[groups.starts]
    entry_credit = premium * units * legs.multiplier[groups.starts]
    value = groups.total(legs.value)
    spread = ratio(groups.known_total(legs.width), np.abs(groups.known_total(legs.signed_mid)))
    first = {name: groups.first_of(book[name]) for name in _FIRST_COLUMNS}
    return {
        "strategy_id": first["strategy_id"],
        "kind": first["kind"],
        "underlying": groups.min(book["underlying"].to_numpy()),
        "managed": first["managed"],
        "units": first["units"],
        "entry_credit": entry_credit,
        "max_profit": first["max_profit"],
        "max_loss": first["max_loss"],
        "value": value,
        "pnl": entry_credit + value,
        "delta": groups.total(legs.pos_delta),
        "gamma": groups.total(legs.pos_gamma),
        "theta": groups.total(legs.pos_theta),
        "vega": groups.total(legs.pos_vega),
        "dte": groups.min(legs.dte),
        "last_expiry": groups.max(legs.expiry),
        "underlying_price": first["underlying_price"],
        "mark_time": groups.min(legs.mark_time),
        "spread_fraction": spread,
        "quote_ok": groups.all(legs.quote_ok),
    }


_FIRST_COLUMNS: Final = (
    "strategy_id",
    "kind",
    "managed",
    "units",
    "max_profit",
    "max_loss",
    "underlying_price",
)
"""Strategy-level columns the book repeats on every leg: read from a strategy's first."""
