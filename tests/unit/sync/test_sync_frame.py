"""The book frame sync produces is exactly ``v6.book.build_book``'s, cycle after cycle."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from v6.book import BOOK_SCHEMA, DIVIDENDS_SCHEMA, build_book, validate_book
from v6.brokers.types import Quote
from v6.domain import Greeks, Leg, OptionContract, Right, Strategy, StrategyKind, StrategyStatus
from v6.sync.frame import BookFrames
from v6.sync.marks import MarkBook
from v6.sync.registry import trigger_inputs

NOW = datetime(2024, 3, 4, 15, 0, tzinfo=UTC)
APRIL = date(2024, 4, 19)
ORDER = ["strategy_id", "expiry", "right", "strike"]


def put(strike: int, symbol: str = "SPY") -> OptionContract:
    return OptionContract(symbol, APRIL, strike, Right.PUT)


def strategy(
    sid: str,
    legs: tuple[Leg, ...],
    status: StrategyStatus = StrategyStatus.OPEN,
    kind: StrategyKind = StrategyKind.VERTICAL,
    defined_risk: bool = True,
) -> Strategy:
    opened = None if status is StrategyStatus.PENDING else NOW - timedelta(days=3)
    premium = None if status is StrategyStatus.PENDING else 1.25
    return Strategy(
        sid,
        kind,
        legs,
        quantity=2,
        status=status,
        entry_premium=premium,
        opened_at=opened,
        defined_risk=defined_risk,
    )


STRATEGIES = [
    strategy("open", (Leg(put(480), -1), Leg(put(470), 1))),
    strategy("closing", (Leg(put(480), -1), Leg(put(460), 1)), StrategyStatus.CLOSING),
    strategy("pending", (Leg(put(450), -1), Leg(put(440), 1)), StrategyStatus.PENDING),
    strategy("adopted", (Leg(put(300, "QQQ"), -1),), kind=StrategyKind.CUSTOM, defined_risk=False),
]
DIVIDENDS = pl.DataFrame(
    {"underlying": ["SPY"], "ex_div_date": [date(2024, 3, 15)], "ex_div_amount": [1.6]},
    schema=DIVIDENDS_SCHEMA,
)


def quote(contract: OptionContract, mid: float, at: datetime) -> Quote:
    greeks = Greeks(-0.2, 0.01, -0.04, 0.25)
    return Quote(contract, at, mid - 0.05, mid + 0.05, mid, 5, 5, 0.2, greeks, 510.0)


def test_the_cached_frame_equals_build_book_as_marks_arrive() -> None:
    marks = MarkBook()
    frames = BookFrames(marks)
    frames.update(STRATEGIES, DIVIDENDS)
    held = [s for s in STRATEGIES if s.status is not StrategyStatus.PENDING]
    arrivals = [[quote(put(480), 3.0, NOW)], [quote(put(470), 2.0, NOW), quote(put(460), 1.0, NOW)]]

    for batch in arrivals:
        marks.apply(batch, NOW)
        ours = validate_book(frames.book())
        reference = build_book(held, marks.quotes(), dividends=DIVIDENDS, unmanaged={"adopted"})
        assert_frame_equal(ours.sort(ORDER), reference.sort(ORDER))

    assert ours.schema == BOOK_SCHEMA
    assert ours.filter(pl.col("strategy_id") == "adopted")["managed"].to_list() == [False]
    assert ours.filter(pl.col("strategy_id") == "adopted")["mark"].null_count() == 1
    assert set(ours["strategy_id"]) == {"open", "closing", "adopted"}


def test_strategies_changing_between_cycles_change_only_their_rows() -> None:
    marks = MarkBook()
    frames = BookFrames(marks)
    marks.apply([quote(put(480), 3.0, NOW), quote(put(300, "QQQ"), 1.0, NOW)], NOW)
    frames.update(STRATEGIES, None)
    resized = dataclasses.replace(STRATEGIES[0], quantity=5)
    opened = strategy("new", (Leg(put(440), -1), Leg(put(430), 1)))
    later = [resized, STRATEGIES[1], opened]

    frames.update(later, None)

    reference = build_book(later, marks.quotes())
    assert_frame_equal(frames.book().sort(ORDER), reference.sort(ORDER))
    assert frames.book().n_chunks() == 1, "kept and new rows in one chunk"
    frames.update(later, DIVIDENDS)
    with_dividends = build_book(later, marks.quotes(), dividends=DIVIDENDS)
    assert_frame_equal(frames.book().sort(ORDER), with_dividends.sort(ORDER))


def test_a_change_of_status_alone_keeps_the_rows_which_build_book_makes_alike() -> None:
    marks = MarkBook()
    frames = BookFrames(marks)
    marks.apply([quote(put(480), 3.0, NOW), quote(put(470), 2.0, NOW)], NOW)
    frames.update(STRATEGIES, None)
    closing = dataclasses.replace(STRATEGIES[0], status=StrategyStatus.CLOSING)
    built: list[list[Strategy]] = []

    def counted(strategies: list[Strategy], *args: Any, **kwargs: Any) -> pl.DataFrame:
        built.append(strategies)
        return build_book(strategies, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("v6.sync.frame.build_book", counted)
        frames.update([closing, *STRATEGIES[1:]], None)

    assert built == [], "no rows rebuilt"
    held = [closing, STRATEGIES[1], STRATEGIES[3]]
    later = build_book(held, marks.quotes(), unmanaged={"adopted"})
    assert_frame_equal(frames.book().sort(ORDER), later.sort(ORDER))
    assert_frame_equal(
        build_book([closing], marks.quotes()), build_book(STRATEGIES[:1], marks.quotes())
    )


def test_new_dividends_without_strategies_leave_an_empty_book() -> None:
    frames = BookFrames(MarkBook())
    frames.update(STRATEGIES, None)

    frames.update([], DIVIDENDS)

    assert frames.book().is_empty()
    assert frames.trigger_inputs(NOW.date()).strategy_ids == ()


def test_without_strategies_the_book_is_empty() -> None:
    frames = BookFrames(MarkBook())

    assert frames.book().is_empty()
    assert frames.book().schema == BOOK_SCHEMA


def test_the_trigger_inputs_equal_those_read_from_the_book_as_marks_arrive() -> None:
    marks = MarkBook()
    frames = BookFrames(marks)
    frames.update(STRATEGIES, DIVIDENDS)
    arrivals = [[], [quote(put(480), 3.0, NOW)], [quote(put(470), 2.0, NOW)]]

    for batch in arrivals:
        marks.apply(batch, NOW)
        for today in (NOW.date(), APRIL):
            ours = frames.trigger_inputs(today)
            reference = trigger_inputs(frames.book(), today)
            assert ours.strategy_ids == reference.strategy_ids == ("open", "closing", "adopted")
            for name in ("managed", "entry_credit", "max_profit", "pnl", "dte", "short_delta"):
                np.testing.assert_array_equal(
                    getattr(ours, name), getattr(reference, name), err_msg=name
                )
    assert np.isfinite(ours.pnl).tolist() == [True, False, False]
