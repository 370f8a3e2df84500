"""The shipped Parquet files against their CSV origin, their SOURCES note and their converter.

The CSV originals live outside the repository (../shared/data next to the checkout); tests
that need them are skipped where that directory is absent.
"""

from __future__ import annotations

import csv
import importlib.util
import re
import sys
from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path
from types import ModuleType

import polars as pl
import pytest

from v6.market.history import load_daily_bars, load_dividends, load_tbill_rate, load_vix

REPO_ROOT = Path(__file__).resolve().parents[3]
CONVERTER = REPO_ROOT / "tools" / "ship_market_data.py"
SHIPPED = resources.files("v6.market").joinpath("data")
SHIPPED_FILES = ("underlyings.parquet", "dividends.parquet", "vix.parquet", "tbill_3m.parquet")


def csv_rows(folder: Path, pattern: str) -> list[list[str]]:
    [path] = folder.glob(pattern)
    with path.open(newline="") as handle:
        return list(csv.reader(handle))[1:]


def load_converter(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Import tools/ship_market_data.py (not a package) for the duration of one test."""
    spec = importlib.util.spec_from_file_location("ship_market_data", CONVERTER)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("symbol", ["SPY", "QQQ", "IWM"])
def test_bars_equal_the_csv_exactly(symbol: str, shared_data: Path) -> None:
    expected = [
        (date.fromisoformat(day), *(float(price) for price in prices), int(volume))
        for day, *prices, volume in csv_rows(shared_data, f"underlying/{symbol}_daily_*.csv")
    ]
    assert load_daily_bars(symbol).rows() == expected


def test_vix_closes_equal_the_csv_exactly(shared_data: Path) -> None:
    expected = [
        (date.fromisoformat(day), float(close))
        for day, _, _, _, close in csv_rows(shared_data, "volatility/VIX_daily_*.csv")
    ]
    assert load_vix().select("date", "close").rows() == expected


def test_tbill_rates_equal_the_csv_percentages_divided_by_100(shared_data: Path) -> None:
    expected = [
        (date.fromisoformat(day), float(Decimal(percent) / 100))
        for day, percent in csv_rows(shared_data, "rates/DTB3_*.csv")
        if percent
    ]
    assert load_tbill_rate().rows() == expected


@pytest.mark.parametrize("symbol", ["SPY", "QQQ", "IWM"])
def test_dividends_equal_the_csv_exactly(symbol: str, shared_data: Path) -> None:
    expected = [
        (date.fromisoformat(day), float(amount))
        for day, amount in csv_rows(shared_data, f"dividends/{symbol}_dividends*.csv")
    ]
    assert load_dividends(symbol).rows() == expected


def test_converter_reproduces_the_shipped_files_byte_for_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_data: Path
) -> None:
    load_converter(monkeypatch).main(["--source", str(shared_data), "--dest", str(tmp_path)])
    for name in (*SHIPPED_FILES, "SOURCES.md"):
        assert (tmp_path / name).read_bytes() == SHIPPED.joinpath(name).read_bytes(), name


def test_sources_note_states_each_file_range_and_row_count() -> None:
    sources = SHIPPED.joinpath("SOURCES.md").read_text(encoding="utf-8")
    for name in SHIPPED_FILES:
        section = sources.split(f"## {name}\n", 1)[1].split("\n## ", 1)[0]
        match = re.search(r"range: (\S+)\.\.(\S+); rows: (\d+)", section)
        assert match is not None, name
        with SHIPPED.joinpath(name).open("rb") as handle:
            frame = pl.read_parquet(handle)
        dates = frame[frame.columns[1] if "symbol" in frame.columns else "date"].sort()
        assert (str(dates[0]), str(dates[-1]), frame.height) == (
            match[1],
            match[2],
            int(match[3]),
        ), name
        assert "licence:" in section
        assert "origin:" in section
