"""The legs' arrays behind the summary and the rules: grouping by strategy whatever the
book's order, and unknown values (null or NaN) that never set a rule off."""

import math

import polars as pl
from decision_books import TODAY, Quote, book_of, decide, put_spread, quotes_frame

from v6.book import summarize
from v6.legs import Legs

SPOT = 445.0


def two_spreads() -> pl.DataFrame:
    a, b = put_spread("a", short=440, long=430), put_spread("b", short=445, long=435)
    return book_of(
        (a, quotes_frame(a, [Quote(mark=1.0), Quote(mark=3.0)], SPOT)),
        (b, quotes_frame(b, [Quote(mark=2.0), Quote(mark=5.0)], SPOT)),
    )


def test_interleaved_legs_summarize_like_grouped_ones_in_order_of_first_appearance() -> None:
    book = two_spreads()
    interleaved = book[[2, 0, 3, 1]]  # b, a, b, a

    summary = summarize(interleaved, TODAY).frame
    grouped = summarize(book[[2, 3, 0, 1]], TODAY).frame

    assert summary["strategy_id"].to_list() == ["b", "a"]
    assert summary.equals(grouped)
    assert Legs.of(interleaved, TODAY).groups.starts.tolist() == [0, 2]


def test_each_strategy_sums_only_its_own_legs() -> None:
    summary = summarize(two_spreads(), TODAY).frame
    # a: long 430 at 1.00, short 440 at 3.00; b: long 435 at 2.00, short 445 at 5.00
    assert summary["value"].to_list() == [(1.0 - 3.0) * 100, (2.0 - 5.0) * 100]


def test_a_nan_mark_is_unknown_and_sets_off_no_rule() -> None:
    strategy = put_spread("nan", short=440, long=430)
    quotes = quotes_frame(strategy, [Quote(mark=1.0), Quote(mark=9.0)], SPOT)
    book = book_of((strategy, quotes)).with_columns(
        pl.when(pl.col("quantity") < 0).then(float("nan")).otherwise(pl.col("mark")).alias("mark")
    )

    cycle = decide(book)
    row = cycle.frame.row(0, named=True)

    assert row["pnl"] is None
    assert row["stop_loss.triggered"] is False
    assert row["catastrophic_move.triggered"] is False
    assert cycle.decisions()[0].rule == "hold"
    assert math.isnan(Legs.of(book, TODAY).value[1])
