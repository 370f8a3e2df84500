"""The price book's conversion of a market ``QuoteBatch`` into IB-style quotes."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
from brokers_sim_fakes import FakeMarket, PinnedQuote, call, put

from v6.brokers.sim.pricebook import PriceBook, option_quotes
from v6.domain import Greeks
from v6.market.quotes import QuoteBatch

NOW = datetime(2020, 3, 16, 14, 30, tzinfo=UTC)


def batch() -> QuoteBatch:
    return QuoteBatch(
        time=NOW,
        bid=np.array([1.25, 0.0, math.nan]),
        ask=np.array([1.35, 0.05, math.nan]),
        last=np.array([1.3, 0.02, math.nan]),
        bid_size=np.array([10, 0, 0], dtype=np.int64),
        ask_size=np.array([20, 5, 0], dtype=np.int64),
        iv=np.array([0.2, 0.5, math.nan]),
        delta=np.array([-0.4, 0.01, math.nan]),
        gamma=np.array([0.02, math.nan, math.nan]),
        theta=np.array([-36.5, -3.65, math.nan]),
        vega=np.array([25.0, 1.0, math.nan]),
        underlying_price=np.array([400.0, 400.0, 400.0]),
    )


def test_rows_become_quotes_with_greeks_per_day_and_per_vol_point() -> None:
    contracts = [put(395), call(450), put(333)]
    quotes = option_quotes(contracts, batch())
    assert list(quotes) == contracts
    first = quotes[put(395)]
    assert (first.time, first.bid, first.ask, first.last) == (NOW, 1.25, 1.35, 1.3)
    assert (first.bid_size, first.ask_size, first.iv, first.underlying_price) == (
        10,
        20,
        0.2,
        400.0,
    )
    assert type(first.bid) is float
    assert type(first.bid_size) is int
    assert first.greeks == Greeks(-0.4, 0.02, -0.1, 0.25)


def test_a_row_without_finite_greeks_has_none() -> None:
    quotes = option_quotes([put(395), call(450), put(333)], batch())
    assert quotes[call(450)].greeks is None
    unlisted = quotes[put(333)]
    assert unlisted.greeks is None
    assert math.isnan(unlisted.bid)
    assert unlisted.bid_size == 0


def test_a_books_marks_are_its_quotes_mids_or_intrinsic_values_at_its_spots() -> None:
    market = FakeMarket(spots={"SPY": 400.0})
    market.overrides[put(410)] = PinnedQuote(11.0, 11.2)
    book = PriceBook(market)
    assert book.mark(put(410)) == book.quotes([put(410)])[0].mid == 11.1
    market.overrides[put(410)] = PinnedQuote(1.0, 1.2)
    market.spots["SPY"] = 300.0
    assert book.mark(put(410)) == 11.1, "the market moved on; the book's step did not"
    book.freeze()
    assert book.mark(put(420)) == 20.0, "unpriced in a frozen book: intrinsic at its spot"
    market.overrides[put(430)] = PinnedQuote(math.nan, math.nan)
    assert PriceBook(market).mark(put(430)) == 130.0, "no valid quote: intrinsic value"
