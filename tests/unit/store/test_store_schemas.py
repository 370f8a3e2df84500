"""Table specs: what a spec accepts, the schema at each version, and the shipped catalog."""

from __future__ import annotations

import pyarrow as pa
import pytest

from v6.store import ALL_TABLES, TABLES, Column, TableSpec, WriteMode, table_spec
from v6.store.schemas import conform

ID = Column("item_id", pa.string(), nullable=False)


def _spec(*columns: Column, version: int = 1, **kwargs: object) -> TableSpec:
    options: dict[str, object] = {"key": ("item_id",), "mode": WriteMode.MERGE, **kwargs}
    return TableSpec("items", (ID, *columns), version=version, **options)  # type: ignore[arg-type]


def test_arrow_schema_at_each_version_has_the_columns_of_that_version() -> None:
    spec = _spec(Column("price", pa.float64()), Column("note", pa.string(), since=2), version=2)
    assert spec.arrow_schema(1).names == ["item_id", "price"]
    assert spec.arrow_schema().names == ["item_id", "price", "note"]
    with pytest.raises(ValueError, match=r"schema version 3: expected 1\.\.2"):
        spec.arrow_schema(3)


@pytest.mark.parametrize(
    ("columns", "options", "message"),
    [
        (
            (Column("late", pa.string(), nullable=False, since=2),),
            {"version": 2},
            "must be nullable",
        ),
        ((Column("x", pa.string(), since=3),), {"version": 2}, "since version 3: expected 1..2"),
        ((), {"key": ("missing",)}, "key column 'missing' is not a column"),
        ((), {"partition_by": ("day",)}, "partition column 'day' is not a column"),
        ((), {"mode": WriteMode.APPEND}, "append table without time_column"),
        ((Column("item_id", pa.string()),), {}, "repeat"),
        ((Column("maybe", pa.string()),), {"key": ("maybe",)}, "'maybe' is nullable"),
    ],
)
def test_bad_specs_are_rejected_with_the_reason(
    columns: tuple[Column, ...], options: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        _spec(*columns, **options)


def test_tracked_columns_leave_out_the_key_and_untracked_bookkeeping() -> None:
    spec = _spec(
        Column("price", pa.float64()), Column("updated_at", pa.string()), untracked=("updated_at",)
    )
    assert spec.tracked_columns == ("price",)


def test_conform_fills_columns_missing_from_an_older_table_with_nulls() -> None:
    spec = _spec(Column("price", pa.float64()), Column("note", pa.string(), since=2), version=2)
    old = pa.table({"price": [1.5], "item_id": ["a"]})
    assert conform(old, spec).to_pylist() == [{"item_id": "a", "price": 1.5, "note": None}]


def test_catalog_has_every_table_once_with_utc_microsecond_timestamps() -> None:
    assert set(TABLES) == {
        "strategies", "legs", "positions", "position_snapshots", "orders", "executions",
        "decisions", "alerts", "risk_events", "reconciliation_events", "account_snapshots",
        "commands", "health", "risk_state",
    }  # fmt: skip
    for spec in ALL_TABLES:
        for field in spec.arrow_schema():
            if pa.types.is_timestamp(field.type):
                assert field.type == pa.timestamp("us", tz="UTC"), (spec.name, field.name)


def test_children_commit_before_their_parents() -> None:
    order = [spec.name for spec in ALL_TABLES]
    assert order.index("legs") < order.index("strategies")
    assert order.index("executions") < order.index("orders")


def test_table_spec_names_the_known_tables_for_an_unknown_one() -> None:
    assert table_spec("alerts").key == ("alert_id",)
    with pytest.raises(ValueError, match=r"table 'nope': expected one of \['account_snapshots'"):
        table_spec("nope")
