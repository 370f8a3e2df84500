"""Loaders of the shipped daily history: known published values, ranges, errors, as-of lookups."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

from v6.market.history import (
    available_symbols,
    load_daily_bars,
    load_dividends,
    load_tbill_rate,
    load_vix,
    rate_as_of,
    vix_close_as_of,
)

CENT = 0.005  # Yahoo's closes are float32 values printed as doubles: 222.9499969482422


def close_on(frame: pl.DataFrame, day: date) -> float:
    closes: list[float] = frame.filter(pl.col("date") == day)["close"].to_list()
    assert len(closes) == 1, f"expected one row on {day}, got {len(closes)}"
    return closes[0]


@pytest.mark.parametrize(
    ("day", "close"), [(date(2020, 3, 23), 222.95), (date(2020, 2, 19), 338.34)]
)
def test_spy_close_matches_published_value(day: date, close: float) -> None:
    assert close_on(load_daily_bars("SPY"), day) == pytest.approx(close, abs=CENT)


@pytest.mark.parametrize(
    ("day", "close"), [(date(2020, 3, 16), 82.69), (date(2008, 11, 20), 80.86)]
)
def test_vix_close_matches_published_value(day: date, close: float) -> None:
    assert close_on(load_vix(), day) == close


def test_spy_dividend_on_ex_date_2020_03_20() -> None:
    dividends = load_dividends("SPY", date(2020, 3, 20), date(2020, 3, 20))
    assert dividends.rows() == [(date(2020, 3, 20), 1.406)]


def test_tbill_rate_is_a_decimal_fraction() -> None:
    first = load_tbill_rate(end=date(2000, 1, 3))
    assert first.rows() == [(date(2000, 1, 3), 0.0527)]  # FRED prints 5.27 (percent)


def test_symbols_are_the_three_underlyings() -> None:
    assert available_symbols() == ("IWM", "QQQ", "SPY")


@pytest.mark.parametrize("symbol", ["SPY", "QQQ", "IWM"])
def test_bars_have_the_documented_schema_and_are_sorted(symbol: str) -> None:
    bars = load_daily_bars(symbol)
    assert bars.schema == pl.Schema(
        {
            "date": pl.Date,
            "open": pl.Float64,
            "high": pl.Float64,
            "low": pl.Float64,
            "close": pl.Float64,
            "volume": pl.Int64,
        }
    )
    assert bars["date"].is_sorted()
    assert bars["date"].n_unique() == bars.height
    assert bars.null_count().sum_horizontal().item() == 0


def test_first_bars_of_each_symbol() -> None:
    firsts = {symbol: load_daily_bars(symbol)["date"][0] for symbol in available_symbols()}
    assert firsts == {"SPY": date(1993, 1, 29), "QQQ": date(1999, 3, 10), "IWM": date(2000, 5, 26)}


def test_early_prices_keep_their_sixteenths() -> None:
    first = load_daily_bars("IWM").row(0)
    assert first == (date(2000, 5, 26), 45.53125, 45.71875, 45.3125, 45.71875, 74800)


def test_range_is_inclusive_on_both_ends() -> None:
    bars = load_daily_bars("SPY", date(2020, 3, 16), date(2020, 3, 20))
    assert bars["date"].to_list() == [date(2020, 3, d) for d in (16, 17, 18, 19, 20)]


def test_open_ended_ranges() -> None:
    before = load_vix(end=date(1990, 1, 3))
    after = load_tbill_rate(start=date(2026, 1, 29))
    assert before["date"].to_list() == [date(1990, 1, 2), date(1990, 1, 3)]
    assert after["date"].to_list() == [date(2026, 1, 29)]


def test_range_outside_the_data_gives_an_empty_frame_with_columns() -> None:
    bars = load_daily_bars("QQQ", date(1980, 1, 1), date(1980, 12, 31))
    assert bars.is_empty()
    assert bars.columns == ["date", "open", "high", "low", "close", "volume"]


def test_dividends_range_as_published() -> None:
    # The source lacks QQQ's September 2020 dividend (see SOURCES.md); kept as published.
    dividends = load_dividends("QQQ", date(2020, 1, 1), date(2020, 12, 31))
    assert dividends.columns == ["ex_date", "amount"]
    assert dividends.rows() == [
        (date(2020, 3, 23), 0.363),
        (date(2020, 6, 22), 0.424),
        (date(2020, 12, 21), 0.561),
    ]


def test_vix_open_high_low_null_where_cboe_has_none() -> None:
    flat_era = load_vix(date(1990, 1, 1), date(1991, 12, 31))
    inconsistent = load_vix(date(2006, 2, 8), date(2006, 2, 8))
    consistent = load_vix(date(2020, 3, 16), date(2020, 3, 16))
    assert flat_era["open"].null_count() == flat_era.height
    assert flat_era["close"].null_count() == 0
    assert inconsistent.rows() == [(date(2006, 2, 8), None, None, None, 12.83)]
    assert consistent.rows() == [(date(2020, 3, 16), 57.83, 83.56, 57.83, 82.69)]


def test_vix_where_present_brackets_open_and_close() -> None:
    vix = load_vix().drop_nulls()
    bracket = (vix["high"] >= vix[["open", "close"]].max_horizontal()) & (
        vix["low"] <= vix[["open", "close"]].min_horizontal()
    )
    assert bracket.all()
    assert vix.height == 9235 - 506 - 47


def test_changing_a_returned_frame_does_not_touch_the_cache() -> None:
    bars = load_daily_bars("SPY", date(2020, 3, 23), date(2020, 3, 23))
    bars[0, "close"] = 0.0
    assert close_on(load_daily_bars("SPY"), date(2020, 3, 23)) == pytest.approx(222.95, abs=CENT)


def test_unknown_symbol_lists_the_available_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown symbol 'SPX'.*IWM, QQQ, SPY"):
        load_daily_bars("SPX")
    with pytest.raises(ValueError, match="unknown symbol 'spy'"):
        load_dividends("spy")


def test_start_after_end_is_rejected() -> None:
    with pytest.raises(ValueError, match="start 2020-03-02 is after end 2020-03-01"):
        load_vix(date(2020, 3, 2), date(2020, 3, 1))


def test_datetime_bounds_are_rejected() -> None:
    with pytest.raises(TypeError, match=r"start must be a datetime\.date"):
        load_daily_bars("SPY", datetime(2020, 3, 2, 10, 0))


def test_rate_as_of_carries_the_last_published_rate_and_keeps_input_order() -> None:
    columbus_2020 = date(2020, 10, 12)  # NYSE session, bond market closed: no DTB3 value
    friday_before = load_tbill_rate(date(2020, 10, 9), date(2020, 10, 9))["rate"].item()
    rates = rate_as_of([date(2000, 1, 3), columbus_2020, date(1999, 12, 31), None])
    assert rates.name == "rate"
    assert rates.to_list() == [0.0527, friday_before, None, None]


def test_rate_as_of_takes_a_polars_date_series() -> None:
    days = pl.Series([date(2008, 9, 15), date(2008, 9, 12)])
    expected = load_tbill_rate(date(2008, 9, 12), date(2008, 9, 15)).reverse()["rate"]
    assert rate_as_of(days).to_list() == expected.to_list()


def test_vix_close_as_of_fills_a_session_missing_from_cboe() -> None:
    closes = vix_close_as_of([date(1999, 12, 31), date(1999, 12, 30)])
    assert closes[0] == closes[1] == close_on(load_vix(), date(1999, 12, 30))


def test_as_of_rejects_non_dates() -> None:
    with pytest.raises(TypeError, match="polars Date Series, got dtype String"):
        rate_as_of(pl.Series(["2020-01-02"]))
    with pytest.raises(TypeError, match=r"each of dates must be a datetime\.date"):
        rate_as_of([datetime(2020, 1, 2, 12, 0)])
