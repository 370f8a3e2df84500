"""Snapshots of the marks: one row per holder, book units, Greeks all or nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pytest

from v6.brokers.types import Quote
from v6.domain import Greeks, OptionContract, Right
from v6.store import Store, StoreLocation
from v6.store.records import trade_date
from v6.sync.marks import MarkBook
from v6.sync.snapshots import snapshot_table

AT = datetime(2024, 3, 4, 15, 0, tzinfo=UTC)
PUT = OptionContract("SPY", date(2024, 4, 19), 480, Right.PUT)
CALL = OptionContract("SPY", date(2024, 4, 19), 540, Right.CALL)
GREEKS_COLUMNS = ("delta", "gamma", "theta", "vega", "rho")


def quote(contract: OptionContract, greeks: Greeks | None) -> Quote:
    return Quote(contract, AT, 2.00, 2.10, 2.05, 10, 12, 0.18, greeks, 512.0)


@pytest.fixture
def rows() -> dict[tuple[str, str], dict[str, object]]:
    marks = MarkBook()
    marks.apply([quote(PUT, Greeks(-0.20, 0.01, -0.05, 0.30)), quote(CALL, None)], AT)
    holders = {marks.row(PUT): ("a", "b"), marks.row(CALL): ("a",)}
    table = snapshot_table(marks, np.array([marks.row(PUT), marks.row(CALL)]), holders)
    return {(row["strategy_id"], row["occ_symbol"]): row for row in table.to_pylist()}


def test_one_row_per_strategy_holding_a_contract(
    rows: dict[tuple[str, str], dict[str, object]],
) -> None:
    assert set(rows) == {
        ("a", PUT.occ_symbol),
        ("b", PUT.occ_symbol),
        ("a", CALL.occ_symbol),
    }
    assert {row["at"] for row in rows.values()} == {AT}


def test_values_are_in_book_units(rows: dict[tuple[str, str], dict[str, object]]) -> None:
    put = rows[("b", PUT.occ_symbol)]

    assert (put["bid"], put["ask"], put["implied_vol"], put["underlying_price"]) == (
        2.00,
        2.10,
        0.18,
        512.0,
    )
    assert put["mark"] == pytest.approx(2.05)
    assert put["theta"] == pytest.approx(-0.05 * 365)
    assert put["vega"] == pytest.approx(0.30 * 100)
    assert (put["delta"], put["gamma"], put["rho"]) == (-0.20, 0.01, 0.0)


def test_a_leg_without_greeks_records_none(
    rows: dict[tuple[str, str], dict[str, object]],
) -> None:
    call = rows[("a", CALL.occ_symbol)]

    assert all(call[name] is None for name in GREEKS_COLUMNS)
    assert call["mark"] == pytest.approx(2.05)


@pytest.mark.parametrize(
    "at",
    [
        datetime(2024, 3, 10, 4, 59, tzinfo=UTC),  # 23:59 EST on the 9th
        datetime(2024, 3, 10, 5, 0, tzinfo=UTC),  # midnight EST, the day clocks go forward
        datetime(2024, 3, 11, 3, 59, tzinfo=UTC),  # 23:59 EDT on the 10th
        datetime(2024, 11, 3, 3, 59, tzinfo=UTC),  # 23:59 EDT on the 2nd
        datetime(2024, 11, 3, 5, 30, tzinfo=UTC),  # 01:30 EDT, the day clocks go back
        datetime(2024, 11, 3, 6, 30, tzinfo=UTC),  # 01:30 EST, the same day
        datetime(2024, 11, 4, 4, 59, tzinfo=UTC),  # 23:59 EST on the 3rd
    ],
)
def test_recorded_snapshots_fall_on_the_new_york_trade_date(tmp_path: Path, at: datetime) -> None:
    store = Store(StoreLocation(str(tmp_path)), "engine")
    marks = MarkBook()
    marks.apply([Quote(PUT, at, 2.00, 2.10, 2.05, 10, 12, 0.18, None, 512.0)], at)

    store.snapshots.record_frame(snapshot_table(marks, np.array([0]), {0: ("a",)}))
    store.flush()

    recorded = store.snapshots.day(trade_date(at))
    assert recorded.num_rows == 1
    assert recorded.column("trade_date").type == pa.date32()


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (datetime(2024, 3, 4, 14, 30, tzinfo=UTC), datetime(2024, 3, 4, 21, 0, tzinfo=UTC)),
        (datetime(2024, 3, 10, 4, 59, tzinfo=UTC), datetime(2024, 3, 10, 5, 0, tzinfo=UTC)),
        (datetime(2024, 11, 3, 3, 59, tzinfo=UTC), datetime(2024, 11, 3, 6, 30, tzinfo=UTC)),
    ],
    ids=["one day", "across midnight", "midnight then the clocks go back"],
)
def test_each_row_of_a_batch_falls_on_its_own_trade_date(
    tmp_path: Path, first: datetime, second: datetime
) -> None:
    store = Store(StoreLocation(str(tmp_path)), "engine")
    marks = MarkBook()
    marks.apply([Quote(PUT, first, 2.00, 2.10, 2.05, 10, 12, 0.18, None, 512.0)], first)
    marks.apply([Quote(CALL, second, 1.00, 1.10, 1.05, 10, 12, 0.18, None, 512.0)], second)
    holders = {marks.row(PUT): ("a", "b"), marks.row(CALL): ("a",)}

    store.snapshots.record_frame(snapshot_table(marks, np.array([0, 1]), holders))
    store.flush()

    recorded = [
        row
        for day in {trade_date(first), trade_date(second)}
        for row in store.snapshots.day(day).to_pylist()
    ]
    assert sorted((row["occ_symbol"], row["trade_date"]) for row in recorded) == sorted(
        [
            (PUT.occ_symbol, trade_date(first)),
            (PUT.occ_symbol, trade_date(first)),
            (CALL.occ_symbol, trade_date(second)),
        ]
    )
