"""Convert the real daily market history (CSV) into the Parquet files shipped in v6.

Run from the repository root:

    .venv/bin/python tools/ship_market_data.py --source ../shared/data

It reads SPY/QQQ/IWM bars and dividends (Yahoo), VIX (Cboe) and the 3-month T-bill rate
(FRED DTB3), validates them, writes one zstd Parquet file per kind of series into
``src/v6/market/data`` and regenerates ``SOURCES.md`` there with ranges, row counts,
cleaning and calendar exceptions. Values are kept exactly as published except where the
source's own notes call a field unusable (VIX open/high/low, see ``clean_vix``). The same
input gives byte-identical output.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl

from v6.market.calendar import nyse_calendar
from v6.market.history import (
    DIVIDENDS_FILE,
    TBILL_FILE,
    TBILL_SCHEMA,
    UNDERLYINGS_FILE,
    UNDERLYINGS_SCHEMA,
    VIX_FILE,
    VIX_SCHEMA,
)

SYMBOLS = ("IWM", "QQQ", "SPY")
DEFAULT_DEST = Path(__file__).resolve().parents[1] / "src" / "v6" / "market" / "data"
ZSTD_LEVEL = 19
OHLC = ("open", "high", "low", "close")
MAX_LISTED_DATES = 60
LONG_DIVIDEND_GAP_DAYS = 150


@dataclass(frozen=True)
class Shipped:
    """One shipped file: its table and what SOURCES.md says about it."""

    file_name: str
    frame: pl.DataFrame
    date_column: str
    contents: str
    origin: str
    licence: str
    inputs: tuple[str, ...]
    cleaning: str
    remarks: str = ""


def find_one(source: Path, pattern: str) -> Path:
    matches = sorted(source.glob(pattern))
    if len(matches) != 1:
        raise SystemExit(f"expected exactly one file matching {source / pattern}, found {matches}")
    return matches[0]


def read_csv(path: Path, schema: Mapping[str, type[pl.DataType] | pl.DataType]) -> pl.DataFrame:
    frame = pl.read_csv(path, schema=schema)
    if frame.columns != list(schema):
        raise SystemExit(f"{path}: columns {frame.columns}, expected {list(schema)}")
    return frame


def require_unique_sorted(frame: pl.DataFrame, column: str, label: str) -> None:
    if (
        frame[column].null_count()
        or not frame[column].is_sorted()
        or frame[column].n_unique() != frame.height
    ):
        raise SystemExit(f"{label}: {column} must be non-null, sorted and unique")


def ohlc_violations(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows whose high/low do not bracket open and close, or with a non-positive price."""
    top = pl.max_horizontal("open", "close")
    bottom = pl.min_horizontal("open", "close")
    return frame.filter(
        (pl.col("high") < top) | (pl.col("low") > bottom) | (pl.min_horizontal(*OHLC) <= 0)
    )


def read_bars(source: Path, symbol: str) -> tuple[pl.DataFrame, str, list[date]]:
    """One symbol's bars, its CSV name, and the dates whose OHLC is inconsistent (kept)."""
    path = find_one(source, f"underlying/{symbol}_daily_*.csv")
    raw = read_csv(
        path,
        {
            "Date": pl.Date,
            "Open": pl.Float64,
            "High": pl.Float64,
            "Low": pl.Float64,
            "Close": pl.Float64,
            "Volume": pl.Int64,
        },
    )
    bars = raw.rename(str.lower).with_columns(symbol=pl.lit(symbol))
    require_unique_sorted(bars, "date", path.name)
    if bars.null_count().sum_horizontal().item() or bars.filter(pl.col("volume") < 0).height:
        raise SystemExit(f"{path.name}: blank fields or negative volume")
    violations: list[date] = ohlc_violations(bars)["date"].to_list()
    print(f"{symbol}: {bars.height} bars, {len(violations)} OHLC inconsistencies kept as published")
    return bars.select(UNDERLYINGS_SCHEMA.names()), str(path.relative_to(source)), violations


def read_dividends(source: Path, symbol: str) -> tuple[pl.DataFrame, str]:
    path = find_one(source, f"dividends/{symbol}_dividends*.csv")
    raw = read_csv(path, {"Date": pl.Date, "Dividend": pl.Float64})
    dividends = raw.select(symbol=pl.lit(symbol), ex_date=pl.col("Date"), amount=pl.col("Dividend"))
    require_unique_sorted(dividends, "ex_date", path.name)
    if dividends.filter(pl.col("amount").is_null() | (pl.col("amount") <= 0)).height:
        raise SystemExit(f"{path.name}: dividends must be positive")
    return dividends, str(path.relative_to(source))


def clean_vix(raw: pl.DataFrame) -> tuple[pl.DataFrame, list[date], list[date]]:
    """Null open/high/low where Cboe's file has none (O=H=L=C) or where they contradict.

    Returns the cleaned frame, the dates with flat rows and the dates with inconsistent rows.
    The close is always kept: it is the value Cboe publishes as the index level.
    """
    flat = pl.all_horizontal(pl.col(name) == pl.col("close") for name in ("open", "high", "low"))
    inconsistent_dates: list[date] = ohlc_violations(raw)["date"].to_list()
    flat_dates: list[date] = raw.filter(flat)["date"].to_list()
    unusable = flat | pl.col("date").is_in(inconsistent_dates)
    cleaned = raw.with_columns(
        pl.when(~unusable).then(pl.col(name)).alias(name) for name in ("open", "high", "low")
    )
    return cleaned, flat_dates, inconsistent_dates


def read_vix(source: Path) -> Shipped:
    path = find_one(source, "volatility/VIX_daily_*.csv")
    columns = {"DATE": pl.Date} | {name.upper(): pl.Float64 for name in OHLC}
    raw = read_csv(path, columns).rename(str.lower)
    require_unique_sorted(raw, "date", path.name)
    if raw.null_count().sum_horizontal().item():
        raise SystemExit(f"{path.name}: blank fields")
    vix, flat_dates, inconsistent_dates = clean_vix(raw)
    print(f"VIX: {vix.height} rows, {len(flat_dates)} flat, {len(inconsistent_dates)} inconsistent")
    return Shipped(
        VIX_FILE,
        vix.select(VIX_SCHEMA.names()),
        "date",
        "Cboe VIX index: date, open, high, low, close (index points)",
        "Cboe VIX_History via github datasets/finance-vix",
        "ODC-PDDL",
        (str(path.relative_to(source)),),
        f"open/high/low set to null on {len(flat_dates)} rows where Cboe repeats the close "
        f"(O=H=L=C: {describe_dates(flat_dates)}) and on {len(inconsistent_dates)} rows where "
        f"high/low do not bracket open/close ({', '.join(map(str, inconsistent_dates))}). "
        "Closes unchanged.",
        "VIX is Cboe's index, computed whenever SPX options trade: since 2022-05-30 Cboe "
        "publishes it on most NYSE holidays (SPX options trade in Cboe's global trading hours "
        "then), never on Good Friday, Christmas or New Year's Day. The 2004-06-11 row (NYSE "
        "closed for President Reagan's funeral) repeats the previous close. Cboe's file has no "
        "row for four sessions; `vix_close_as_of` carries the previous close over them.",
    )


def percent_text_to_fraction(text: str) -> float:
    """'5.27' (percent, as FRED prints it) -> 0.0527, rounded once from the exact decimal."""
    return float(Decimal(text).scaleb(-2))


def read_tbill(source: Path) -> Shipped:
    path = find_one(source, "rates/DTB3_*.csv")
    raw = read_csv(path, {"observation_date": pl.Date, "DTB3": pl.String})
    require_unique_sorted(raw, "observation_date", path.name)
    published = raw.filter(pl.col("DTB3").is_not_null())
    rates = pl.DataFrame(
        {
            "date": published["observation_date"],
            "rate": [percent_text_to_fraction(text) for text in published["DTB3"]],
        },
        schema=TBILL_SCHEMA,
    )
    blanks = raw.height - published.height
    print(f"T-bill: {rates.height} rates, {blanks} blank (no market) rows dropped")
    return Shipped(
        TBILL_FILE,
        rates,
        "date",
        "3-month Treasury bill secondary-market rate: date, rate "
        "(annualised, discount basis, decimal fraction: 5.27 % is 0.0527)",
        "FRED series DTB3 (Board of Governors of the Federal Reserve System, H.15)",
        "public domain",
        (str(path.relative_to(source)),),
        f"percent converted to a decimal fraction; {blanks} blank rows (bond market closed) "
        "dropped.",
        "FRED follows the US government-bond market, not the NYSE: no rate on Columbus Day and "
        "Veterans Day although the NYSE trades, and a rate on some NYSE closures (Good Friday "
        "in some years, 2001-09-13/14, 2007-01-02, 2012-10-29, 2025-01-09). `rate_as_of` gives "
        "the rate in force (the latest published) for every NYSE session from 2000-01-03 on.",
    )


def ship_underlyings(source: Path) -> list[Shipped]:
    bars = [read_bars(source, symbol) for symbol in SYMBOLS]
    dividends = [read_dividends(source, symbol) for symbol in SYMBOLS]
    violations = "; ".join(
        f"{symbol}: {describe_dates(dates)}"
        for symbol, (_, _, dates) in zip(SYMBOLS, bars, strict=True)
    )
    origin = "Yahoo Finance via github SungKyu-Kim39/BackTester39"
    return [
        Shipped(
            UNDERLYINGS_FILE,
            pl.concat([frame for frame, _, _ in bars]).sort("symbol", "date"),
            "date",
            "SPY, QQQ, IWM daily bars: symbol, date, open, high, low, close (US dollars, "
            "split-adjusted, not dividend-adjusted: the prices that traded), volume (shares)",
            origin,
            "Apache-2.0",
            tuple(name for _, name, _ in bars),
            "none: values as published. Rows where high/low do not bracket open/close "
            f"(kept): {violations}.",
        ),
        Shipped(
            DIVIDENDS_FILE,
            pl.concat([frame for frame, _ in dividends]).sort("symbol", "ex_date"),
            "ex_date",
            "cash dividends: symbol, ex_date, amount (US dollars per share)",
            origin,
            "Apache-2.0",
            tuple(name for _, name in dividends),
            "none.",
            f"gaps of more than {LONG_DIVIDEND_GAP_DAYS} days between ex-dates: "
            f"{long_dividend_gaps([frame for frame, _ in dividends])}. QQQ paid yearly or "
            "twice a year until 2005; its 2020 gap is the source lacking the September 2020 "
            "dividend, kept as published.",
        ),
    ]


def long_dividend_gaps(frames: list[pl.DataFrame]) -> str:
    """Consecutive ex-dates further apart than a quarterly payer's schedule would put them."""
    gaps = (
        pl.concat(frames)
        .with_columns(previous=pl.col("ex_date").shift().over("symbol"))
        .filter((pl.col("ex_date") - pl.col("previous")).dt.total_days() > LONG_DIVIDEND_GAP_DAYS)
    )
    return ", ".join(
        f"{symbol} {previous}..{ex_date}"
        for symbol, previous, ex_date in gaps.select("symbol", "previous", "ex_date").iter_rows()
    )


def describe_dates(dates: list[date]) -> str:
    """A compact text for a list of dates: every date, or counts per year if there are many."""
    if len(dates) <= MAX_LISTED_DATES:
        return ", ".join(map(str, dates)) or "none"
    by_year: dict[int, list[date]] = {}
    for day in dates:
        by_year.setdefault(day.year, []).append(day)
    parts = [
        ", ".join(map(str, days)) if len(days) <= 3 else f"{year}: {len(days)} days"
        for year, days in by_year.items()
    ]
    return ", ".join(parts) or "none"


def calendar_exceptions(dates: pl.Series) -> tuple[list[date], list[date]]:
    """(dates that are not NYSE sessions, NYSE sessions in the series' range it lacks)."""
    calendar = nyse_calendar()
    sessions = calendar.sessions(dates[0], dates[-1])
    extra: list[date] = dates.filter(~dates.is_in(sessions.implode())).to_list()
    missing: list[date] = sessions.filter(~sessions.is_in(dates.implode())).to_list()
    return extra, missing


def exceptions_note(shipped: Shipped) -> str:
    if "symbol" not in shipped.frame.columns:
        return symbol_exceptions(shipped, shipped.frame)
    parts = shipped.frame.partition_by("symbol", as_dict=True, maintain_order=True)
    return "; ".join(
        f"{symbol}: {symbol_exceptions(shipped, frame)}" for (symbol,), frame in parts.items()
    )


def symbol_exceptions(shipped: Shipped, frame: pl.DataFrame) -> str:
    extra, missing = calendar_exceptions(frame[shipped.date_column])
    if shipped.file_name == DIVIDENDS_FILE:
        return f"ex-dates that are not sessions: {describe_dates(extra)}"
    return (
        f"rows on non-sessions: {describe_dates(extra)}; "
        f"sessions without a row: {describe_dates(missing)}"
    )


def render_sources(shipped: list[Shipped]) -> str:
    lines = [
        "# Shipped market history",
        "",
        "Real daily market data, converted from CSV by `tools/ship_market_data.py` (do not edit",
        "by hand: re-run the tool). Files are zstd Parquet; dates are calendar dates in New York;",
        "prices are Float64 exactly as published. Option chains are not shipped (Cboe's terms",
        "of use).",
        "",
    ]
    for item in shipped:
        dates = item.frame[item.date_column].sort()
        lines += [
            f"## {item.file_name}",
            "",
            f"- contents: {item.contents}",
            f"- origin: {item.origin}; licence: {item.licence}",
            f"- converted from: {', '.join(item.inputs)}",
            f"- range: {dates[0]}..{dates[-1]}; rows: {item.frame.height}",
            f"- cleaning: {item.cleaning}",
            f"- against the NYSE calendar (exchange_calendars XNYS): {exceptions_note(item)}",
        ]
        if item.remarks:
            lines.append(f"- remarks: {item.remarks}")
        lines.append("")
    return "\n".join(lines)


def write_parquet(frame: pl.DataFrame, path: Path) -> None:
    frame.write_parquet(path, compression="zstd", compression_level=ZSTD_LEVEL, statistics=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True, help="the shared data directory")
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST, help="package data directory")
    arguments = parser.parse_args(argv)
    source: Path = arguments.source.resolve()
    dest: Path = arguments.dest
    shipped = [*ship_underlyings(source), read_vix(source), read_tbill(source)]
    dest.mkdir(parents=True, exist_ok=True)
    for item in shipped:
        write_parquet(item.frame, dest / item.file_name)
        print(f"wrote {dest / item.file_name}: {item.frame.height} rows")
    (dest / "SOURCES.md").write_text(render_sources(shipped), encoding="utf-8")


if __name__ == "__main__":
    main()
