"""The book frame: schema, builder, and per-strategy figures checked against v6.pricing and
the domain's payoff and Greeks (independent calculations, not the frame's own numbers)."""

from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from decision_books import NOW, TODAY, Quote, book_of, open_strategy, put_spread, quotes_frame

from v6.book import (
    BOOK_SCHEMA,
    DIVIDENDS_SCHEMA,
    QUOTES_SCHEMA,
    STRATEGY_COLUMNS,
    BookError,
    build_book,
    empty_book,
    summarize,
    validate_book,
)
from v6.domain import (
    Greeks,
    Leg,
    OptionContract,
    Right,
    Strategy,
    StrategyKind,
    StrategyStatus,
)
from v6.pricing import bsm_price_greeks

SPOT, VOL, RATE = 450.0, 0.18, 0.05
CONDOR_LEGS = [
    (420.0, Right.PUT, 1),
    (430.0, Right.PUT, -1),
    (470.0, Right.CALL, -1),
    (480.0, Right.CALL, 1),
]


def priced_quotes(strategy: Strategy, spot: float, as_of: date) -> pl.DataFrame:
    """Quotes from Black-Scholes-Merton (v6.pricing), textbook units as the frame wants."""
    legs = strategy.legs
    years = np.array([(leg.contract.expiry - as_of).days / 365 for leg in legs])
    result = bsm_price_greeks(
        spot,
        np.array([float(leg.contract.strike) for leg in legs]),
        years,
        RATE,
        0.0,
        VOL,
        np.array([leg.contract.is_call for leg in legs]),
    )
    quotes = [
        Quote(
            mark=float(result.price[i]),
            delta=float(result.delta[i]),
            gamma=float(result.gamma[i]),
            theta=float(result.theta[i]),
            vega=float(result.vega[i]),
        )
        for i in range(len(legs))
    ]
    return quotes_frame(strategy, quotes, spot)


def condor(units: int = 3, dte: int = 30) -> Strategy:
    return open_strategy(
        "ic", CONDOR_LEGS, credit=2.35, units=units, dte=dte, kind=StrategyKind.IRON_CONDOR
    )


def test_the_builder_produces_the_documented_schema() -> None:
    strategy = condor()
    book = build_book([strategy], priced_quotes(strategy, SPOT, TODAY))

    assert book.schema == BOOK_SCHEMA
    assert validate_book(book) is book
    # legs sorted by right then strike: 470C, 480C, 420P, 430P
    assert book["quantity"].to_list() == [-3, 3, 3, -3]
    assert book["units"].unique().to_list() == [3]
    assert empty_book().schema == BOOK_SCHEMA


def test_position_greeks_match_the_domain_conversion_of_pricing_greeks() -> None:
    strategy = condor()
    quotes = priced_quotes(strategy, SPOT, TODAY)
    row = summarize(build_book([strategy], quotes), TODAY).frame.row(0, named=True)

    expected = Greeks.zero()
    for leg, quote in zip(strategy.legs, quotes.iter_rows(named=True), strict=True):
        per_share = Greeks(quote["delta"], quote["gamma"], quote["theta"], quote["vega"])
        expected += per_share.to_position_units(leg.quantity * strategy.quantity, 100)
    for name in ("delta", "gamma", "theta", "vega"):
        assert row[name] == pytest.approx(getattr(expected, name), rel=1e-12)
    assert row["theta"] > 0  # a short condor earns time decay
    assert row["gamma"] < 0


def test_pnl_is_the_credit_less_the_cost_to_close_from_bsm_prices() -> None:
    strategy = condor()
    quotes = priced_quotes(strategy, SPOT, TODAY)
    row = summarize(build_book([strategy], quotes), TODAY).frame.row(0, named=True)

    close_cost = sum(
        -leg.quantity * price for leg, price in zip(strategy.legs, quotes["mark"], strict=True)
    )
    assert row["entry_credit"] == pytest.approx(2.35 * 100 * 3)
    assert row["pnl"] == pytest.approx((2.35 - close_cost) * 100 * 3, rel=1e-12)


@pytest.mark.parametrize("spot", [400.0, 425.0, 433.5, 450.0, 471.0, 478.0, 500.0])
def test_at_expiry_pnl_is_the_domain_payoff(spot: float) -> None:
    strategy = condor(dte=0)
    row = summarize(build_book([strategy], priced_quotes(strategy, spot, TODAY)), TODAY).frame.row(
        0, named=True
    )

    assert row["dte"] == 0
    assert row["pnl"] == pytest.approx(strategy.payoff_at_expiry(spot) * 3, abs=1e-9)
    assert row["max_profit"] == pytest.approx(strategy.max_profit * 3)
    assert row["max_loss"] == pytest.approx(strategy.max_loss * 3)
    assert row["max_profit"] == pytest.approx(235 * 3)
    assert row["max_loss"] == pytest.approx((1000 - 235) * 3)


def test_the_summary_has_one_row_per_strategy_in_book_order() -> None:
    a, b = put_spread("b-first"), put_spread("a-second", short=445, long=435)
    quotes = [Quote(mark=1.0), Quote(mark=2.0)]
    book = book_of((a, quotes_frame(a, quotes, SPOT)), (b, quotes_frame(b, quotes, SPOT)))
    frame = summarize(book, TODAY).frame

    assert frame.columns == list(STRATEGY_COLUMNS)
    assert frame["strategy_id"].to_list() == ["b-first", "a-second"]


def test_a_book_grown_in_chunks_summarizes_as_one_frame() -> None:
    a, b = put_spread("b-first"), put_spread("a-second", short=445, long=435)
    quotes = [Quote(mark=1.0), Quote(mark=2.0)]
    book = book_of((a, quotes_frame(a, quotes, SPOT)), (b, quotes_frame(b, quotes, SPOT)))
    grown = pl.concat([book.slice(0, 1), book.slice(1, 2), book.slice(3)], rechunk=False)

    assert grown.n_chunks() == 3
    assert summarize(grown, TODAY).frame.equals(summarize(book, TODAY).frame)


def test_a_missing_quote_makes_value_and_pnl_unknown_not_zero() -> None:
    strategy = put_spread()
    quotes = quotes_frame(strategy, [Quote(mark=1.0), Quote(mark=2.0)], SPOT).head(1)
    book = build_book([strategy], quotes)
    row = summarize(book, TODAY).frame.row(0, named=True)

    assert book["mark"].null_count() == 1
    assert row["value"] is None
    assert row["pnl"] is None
    assert row["delta"] is None
    assert row["quote_ok"] is False


def test_the_combo_spread_is_the_sum_of_leg_widths_over_the_net_mid() -> None:
    strategy = put_spread()
    quotes = [Quote(mark=1.0, bid=0.9, ask=1.1), Quote(mark=3.0, bid=2.8, ask=3.2)]
    row = summarize(build_book([strategy], quotes_frame(strategy, quotes, SPOT)), TODAY).frame.row(
        0, named=True
    )

    assert row["spread_fraction"] == pytest.approx((0.2 + 0.4) / 2.0)
    assert row["quote_ok"] is True


def test_dividends_and_unmanaged_flags_reach_every_leg() -> None:
    strategy = put_spread()
    dividends = pl.DataFrame(
        [("SPY", date(2024, 1, 12), 1.6)], schema=DIVIDENDS_SCHEMA, orient="row"
    )
    book = build_book(
        [strategy],
        quotes_frame(strategy, [Quote(mark=1.0), Quote(mark=2.0)], SPOT),
        dividends=dividends,
        unmanaged=["ps"],
    )

    assert book["ex_div_date"].to_list() == [date(2024, 1, 12)] * 2
    assert book["ex_div_amount"].to_list() == [1.6, 1.6]
    assert book["managed"].to_list() == [False, False]


def test_a_strategy_that_is_not_open_is_refused_by_name() -> None:
    pending = Strategy.propose(
        "pending-1",
        StrategyKind.VERTICAL,
        put_spread().legs,
        as_of=TODAY,
        entry_premium=2.0,
    )

    with pytest.raises(BookError, match=r"'pending-1': status PENDING.*expected an OPEN"):
        build_book([pending], QUOTES_SCHEMA.to_frame())


def test_a_closing_strategy_is_still_in_the_book() -> None:
    closing = put_spread().transition_to(StrategyStatus.CLOSING, NOW)

    assert build_book([closing], QUOTES_SCHEMA.to_frame()).height == 2


def test_validation_names_missing_and_mistyped_columns() -> None:
    book = empty_book().drop("iv").with_columns(pl.col("strike").cast(pl.Int64))

    with pytest.raises(
        BookError, match=r"column 'strike' is Int64, expected Float64; missing column 'iv'"
    ):
        validate_book(book)


def test_validation_counts_bad_values() -> None:
    strategy = put_spread()
    book = build_book([strategy], quotes_frame(strategy, [Quote(1.0), Quote(2.0)], SPOT))
    bad = book.with_columns(
        right=pl.lit("X"), quantity=pl.lit(0, dtype=pl.Int64), strategy_id=pl.lit(None, pl.String)
    )

    with pytest.raises(BookError) as caught:
        validate_book(bad)
    message = str(caught.value)
    for expected in ("2 rows with null strategy_id", "right not 'C' or 'P'", "quantity == 0"):
        assert expected in message


def test_a_null_right_is_reported_as_null_only() -> None:
    strategy = put_spread()
    book = build_book([strategy], quotes_frame(strategy, [Quote(1.0), Quote(2.0)], SPOT))
    bad = book.with_columns(right=pl.when(pl.col("strike") > 435).then(pl.col("right")))

    with pytest.raises(BookError, match=r"^book frame: 1 rows with null right$"):
        validate_book(bad)


def test_quotes_with_the_wrong_schema_are_refused() -> None:
    with pytest.raises(BookError, match=r"quotes frame: missing column 'mark_time'"):
        build_book([put_spread()], QUOTES_SCHEMA.to_frame().drop("mark_time"))


def test_an_undefined_payoff_leaves_max_profit_and_loss_null() -> None:
    near, far = TODAY + timedelta(days=10), TODAY + timedelta(days=40)
    calendar = Strategy(
        "cal",
        StrategyKind.CUSTOM,
        (
            Leg(OptionContract("SPY", near, 450, Right.CALL), -1),
            Leg(OptionContract("SPY", far, 450, Right.CALL), 1),
        ),
        status=StrategyStatus.OPEN,
        entry_premium=-1.5,
        opened_at=datetime(2024, 1, 2, tzinfo=UTC),
    )
    book = build_book([calendar], QUOTES_SCHEMA.to_frame())

    assert book["max_profit"].to_list() == [None, None]
    assert book["max_loss"].to_list() == [None, None]
    assert summarize(book, TODAY).frame["dte"].item() == 10
    assert summarize(book, TODAY + timedelta(days=3)).frame["dte"].item() == 7
