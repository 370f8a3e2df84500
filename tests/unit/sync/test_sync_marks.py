"""The mark book: IB's Greek units converted once, bad quotes refused, nulls never zeros."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from v6.book import QUOTES_SCHEMA
from v6.brokers.sim.faults import BadQuoteKind, spoil
from v6.brokers.types import Quote
from v6.domain import Greeks, OptionContract, Right, StockContract
from v6.sync.marks import NEVER, MarkBook, micros

AT = datetime(2024, 3, 4, 15, 0, tzinfo=UTC)
PUT = OptionContract("SPY", date(2024, 4, 19), 480, Right.PUT)
CALL = OptionContract("SPY", date(2024, 4, 19), 540, Right.CALL)
IB_GREEKS = Greeks(-0.20, 0.01, -0.05, 0.30)
"""Per share, theta per day and vega per vol point, as IB sends them."""


def quote(
    contract: OptionContract | StockContract = PUT,
    bid: float = 2.00,
    ask: float = 2.10,
    greeks: Greeks | None = IB_GREEKS,
    time: datetime = AT,
) -> Quote:
    return Quote(contract, time, bid, ask, 2.05, 10, 12, 0.18, greeks, 512.0)


def test_greeks_arrive_in_ibs_units_and_are_kept_in_the_books() -> None:
    marks = MarkBook()

    assert marks.apply([quote()], AT) == 1

    row = marks.frame().row(0, named=True)
    assert row["delta"] == -0.20
    assert row["gamma"] == 0.01
    assert row["theta"] == pytest.approx(-0.05 * 365)
    assert row["vega"] == pytest.approx(0.30 * 100)
    assert row["mark"] == pytest.approx(2.05)
    assert (row["occ_symbol"], row["strike"], row["right"]) == (PUT.occ_symbol, 480.0, "P")
    assert row["mark_time"] == AT


@pytest.mark.parametrize("kind", list(BadQuoteKind))
def test_a_bad_quote_keeps_the_previous_mark(kind: BadQuoteKind) -> None:
    marks = MarkBook()
    marks.apply([quote()], AT)
    later = AT + timedelta(minutes=5)

    assert marks.apply([spoil(quote(time=later), kind)], later) == 0

    assert marks.bad_quotes == 1
    assert marks.frame().row(0, named=True)["mark_time"] == AT
    assert marks.refreshed_micros(marks.rows([PUT]))[0] == micros(AT)


def test_a_zero_bid_is_a_real_market_for_a_far_option() -> None:
    marks = MarkBook()

    assert marks.apply([quote(bid=0.0, ask=0.05)], AT) == 1
    assert marks.frame().row(0, named=True)["mark"] == pytest.approx(0.025)


def test_unknown_values_are_null_and_stock_quotes_are_ignored() -> None:
    marks = MarkBook()
    marks.row(CALL)
    marks.apply([quote(greeks=None), quote(StockContract("SPY"), 511.99, 512.01, None)], AT)

    frame = marks.frame()
    assert frame.height == 2
    assert frame.filter(pl.col("occ_symbol") == PUT.occ_symbol)["delta"].null_count() == 1
    unmarked = frame.filter(pl.col("occ_symbol") == CALL.occ_symbol).row(0, named=True)
    assert all(unmarked[name] is None for name in ("bid", "mark", "theta", "mark_time"))
    assert marks.refreshed_micros(marks.rows([CALL]))[0] == NEVER
    assert marks.quotes().schema == QUOTES_SCHEMA
    assert marks.quotes()["occ_symbol"].to_list() == [PUT.occ_symbol]


def test_rows_are_stable_and_the_book_grows() -> None:
    marks = MarkBook()
    contracts = [OptionContract("SPY", date(2024, 4, 19), k, Right.PUT) for k in range(300, 500)]

    rows = marks.rows(contracts)

    assert rows.tolist() == list(range(200))
    assert marks.row(contracts[17]) == 17
    marks.apply([quote(contracts[150])], AT)
    assert marks.mark_time(150) == AT
    with pytest.raises(ValueError, match="has no mark"):
        marks.mark_time(151)
