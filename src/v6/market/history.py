"""Loaders for the real daily market history shipped inside the package.

The series (SPY/QQQ/IWM bars and dividends, VIX, the 3-month T-bill rate) live as Parquet
files in ``v6/market/data`` (see SOURCES.md there for origin, licence and cleaning; the files
are built by ``tools/ship_market_data.py``). Each file is read once per process and cached;
every loader returns a fresh polars frame sorted by date.

Ranges are inclusive and either bound may be left open (None). A range that lies outside a
series gives an empty frame with the usual columns, so callers can treat "no data" and
"short window" alike; malformed input (start after end, a datetime instead of a date, an
unknown symbol) raises with a message naming the value.

Units: prices in US dollars as published (Yahoo's closes are split-adjusted, not
dividend-adjusted: the price that traded); volume in shares; VIX in index points; the T-bill
rate as an annualised decimal fraction on FRED's discount basis (5.27 % is 0.0527);
dividends in dollars per share, keyed by ex-date.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date
from importlib import resources

import polars as pl

from v6.market.calendar import validate_date, validate_date_range

UNDERLYINGS_FILE = "underlyings.parquet"
VIX_FILE = "vix.parquet"
TBILL_FILE = "tbill_3m.parquet"
DIVIDENDS_FILE = "dividends.parquet"

UNDERLYINGS_SCHEMA = pl.Schema(
    {
        "symbol": pl.String,
        "date": pl.Date,
        "open": pl.Float64,
        "high": pl.Float64,
        "low": pl.Float64,
        "close": pl.Float64,
        "volume": pl.Int64,
    }
)
VIX_SCHEMA = pl.Schema(
    {
        "date": pl.Date,
        "open": pl.Float64,
        "high": pl.Float64,
        "low": pl.Float64,
        "close": pl.Float64,
    }
)
TBILL_SCHEMA = pl.Schema({"date": pl.Date, "rate": pl.Float64})
DIVIDENDS_SCHEMA = pl.Schema({"symbol": pl.String, "ex_date": pl.Date, "amount": pl.Float64})

_SCHEMAS = {
    UNDERLYINGS_FILE: UNDERLYINGS_SCHEMA,
    VIX_FILE: VIX_SCHEMA,
    TBILL_FILE: TBILL_SCHEMA,
    DIVIDENDS_FILE: DIVIDENDS_SCHEMA,
}
_SORT_KEYS = {
    UNDERLYINGS_FILE: ["symbol", "date"],
    VIX_FILE: ["date"],
    TBILL_FILE: ["date"],
    DIVIDENDS_FILE: ["symbol", "ex_date"],
}


@functools.cache
def _table(file_name: str) -> pl.DataFrame:
    """The whole shipped table, checked against its schema and sorted."""
    resource = resources.files("v6.market").joinpath("data", file_name)
    with resources.as_file(resource) as path:
        frame = pl.read_parquet(path)
    if frame.schema != _SCHEMAS[file_name]:
        raise RuntimeError(
            f"shipped {file_name} has schema {dict(frame.schema)}, "
            f"expected {dict(_SCHEMAS[file_name])}; rebuild it with tools/ship_market_data.py"
        )
    return frame.sort(_SORT_KEYS[file_name])


def _in_range(
    frame: pl.DataFrame, column: str, start: date | None, end: date | None
) -> pl.DataFrame:
    validate_date_range(start, end)
    predicate = pl.lit(value=True)
    if start is not None:
        predicate &= pl.col(column) >= start
    if end is not None:
        predicate &= pl.col(column) <= end
    return frame.filter(predicate)


@functools.cache
def available_symbols() -> tuple[str, ...]:
    """The underlyings with shipped daily bars, sorted: ("IWM", "QQQ", "SPY") (read once,
    like the shipped table itself)."""
    symbols: list[str] = _table(UNDERLYINGS_FILE)["symbol"].unique().sort().to_list()
    return tuple(symbols)


def _check_symbol(symbol: str) -> None:
    known = available_symbols()
    if symbol not in known:
        raise ValueError(f"unknown symbol {symbol!r}: shipped history covers {', '.join(known)}")


def load_daily_bars(
    symbol: str, start: date | None = None, end: date | None = None
) -> pl.DataFrame:
    """Daily bars of ``symbol``: date, open, high, low, close (US dollars), volume (shares)."""
    _check_symbol(symbol)
    bars = _table(UNDERLYINGS_FILE).filter(pl.col("symbol") == symbol).drop("symbol")
    return _in_range(bars, "date", start, end)


def load_vix(start: date | None = None, end: date | None = None) -> pl.DataFrame:
    """Cboe VIX: date, open, high, low, close (index points).

    Use ``close``: open/high/low are null where Cboe's file carries no intraday values
    (1990-1991, when it repeats the close) or contradicts itself (47 rows). The series has
    a few rows on NYSE holidays and lacks a few NYSE sessions (see SOURCES.md);
    :func:`vix_close_as_of` gives a value for any date.
    """
    return _in_range(_table(VIX_FILE), "date", start, end)


def load_tbill_rate(start: date | None = None, end: date | None = None) -> pl.DataFrame:
    """3-month T-bill (FRED DTB3): date, rate as an annualised decimal fraction.

    Only days with a published rate appear: FRED follows the government-bond market, which
    closes on Columbus and Veterans Day (NYSE sessions) and opens on some NYSE holidays.
    Use :func:`rate_as_of` to get the rate in force on any NYSE session.
    """
    return _in_range(_table(TBILL_FILE), "date", start, end)


def load_dividends(symbol: str, start: date | None = None, end: date | None = None) -> pl.DataFrame:
    """Cash dividends of ``symbol``: ex_date, amount (US dollars per share)."""
    _check_symbol(symbol)
    dividends = _table(DIVIDENDS_FILE).filter(pl.col("symbol") == symbol).drop("symbol")
    return _in_range(dividends, "ex_date", start, end)


def rate_as_of(dates: pl.Series | Sequence[date | None]) -> pl.Series:
    """The T-bill rate in force on each date: the latest published on or before it.

    Returns a Float64 Series named "rate" aligned with ``dates`` (any order); null for a
    date before the first observation (2000-01-03) or a null date. Past the last
    observation (2026-01-29) the last rate stays in force.
    """
    return _as_of(dates, _table(TBILL_FILE), "rate")


def vix_close_as_of(dates: pl.Series | Sequence[date | None]) -> pl.Series:
    """The latest VIX close on or before each date, as a Series named "close" (see rate_as_of)."""
    return _as_of(dates, _table(VIX_FILE), "close")


def _as_of(dates: pl.Series | Sequence[date | None], table: pl.DataFrame, value: str) -> pl.Series:
    query = _as_date_series(dates)
    left = pl.DataFrame({"date": query}).with_row_index("row").sort("date", nulls_last=True)
    matched = left.join_asof(table.select("date", value), on="date", strategy="backward")
    return matched.sort("row")[value]


def _as_date_series(dates: pl.Series | Sequence[date | None]) -> pl.Series:
    if isinstance(dates, pl.Series):
        if dates.dtype != pl.Date:
            raise TypeError(f"dates must be a polars Date Series, got dtype {dates.dtype}")
        return dates
    for value in dates:
        validate_date(value, "each of dates")
    return pl.Series("date", list(dates), dtype=pl.Date)
