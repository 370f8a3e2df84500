"""Opening tables: created on first write, upgraded from an older schema version in place."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from v6.store import (
    Column,
    SchemaMismatchError,
    SchemaTooNewError,
    StoreLocation,
    StoreReader,
    StoreWriter,
)
from v6.store.catalog import ALERTS
from v6.store.schemas import SCHEMA_VERSION_PROPERTY
from v6.store.tables import ensure_table, open_table, table_schema_version

T0 = datetime(2024, 1, 2, 15, 0, tzinfo=UTC)

ALERTS_V2 = replace(
    ALERTS,
    columns=(*ALERTS.columns, Column("acknowledged_by", pa.string(), since=2)),
    version=2,
)
"""The alerts table as a later V6 might define it: one nullable column more."""


def _alert(alert_id: str, **extra: object) -> dict[str, object]:
    return {
        "alert_id": alert_id,
        "severity": "warning",
        "source": "risk",
        "message": "delta limit near",
        "dedup_key": "delta",
        "created_at": T0,
        **extra,
    }


def test_a_table_is_created_on_first_write_with_its_schema_version(
    location: StoreLocation,
) -> None:
    assert open_table(location, ALERTS) is None
    table = ensure_table(location, ALERTS)
    assert table_schema_version(table) == 1
    assert table.metadata().configuration[SCHEMA_VERSION_PROPERTY] == "1"
    assert table.table_uri.rstrip("/").endswith("data/tables/alerts")


def test_a_table_written_by_an_older_version_is_upgraded_and_keeps_its_rows(
    location: StoreLocation,
) -> None:
    old = StoreWriter(location, "engine")
    old.add(ALERTS, [_alert("a1")])
    old.flush()

    new = StoreWriter(location, "engine")
    new.add(ALERTS_V2, [_alert("a2", acknowledged_by="ops")])
    new.flush()

    table = DeltaTable(location.table_uri("alerts"))
    assert table_schema_version(table) == 2
    rows = StoreReader(location).read(ALERTS_V2, columns=["alert_id", "acknowledged_by"])
    assert sorted(rows.to_pylist(), key=lambda r: r["alert_id"]) == [
        {"alert_id": "a1", "acknowledged_by": None},
        {"alert_id": "a2", "acknowledged_by": "ops"},
    ]


def test_the_old_code_still_reads_and_replays_into_an_upgraded_table(
    location: StoreLocation,
) -> None:
    new = StoreWriter(location, "engine")
    new.add(ALERTS_V2, [_alert("a1", acknowledged_by="ops")])
    new.flush()
    rows = StoreReader(location).read(ALERTS, columns=["alert_id"])
    assert rows.to_pylist() == [{"alert_id": "a1"}]
    with pytest.raises(SchemaTooNewError, match="schema version 2, this V6 writes version 1"):
        ensure_table(location, ALERTS)


def test_a_reader_of_the_new_version_sees_nulls_before_the_upgrade(
    location: StoreLocation,
) -> None:
    writer = StoreWriter(location, "engine")
    writer.add(ALERTS, [_alert("a1", acknowledged_at=T0 + timedelta(minutes=1))])
    writer.flush()
    rows = StoreReader(location).read(ALERTS_V2, columns=["acknowledged_at", "acknowledged_by"])
    assert rows.to_pylist() == [
        {"acknowledged_at": T0 + timedelta(minutes=1), "acknowledged_by": None}
    ]


def test_a_table_with_a_foreign_layout_is_refused(location: StoreLocation) -> None:
    foreign = pa.table({"alert_id": ["a"], "severity": [3]})
    write_deltalake(location.table_uri("alerts"), foreign)
    with pytest.raises(SchemaMismatchError, match="column 'severity' has type int64"):
        ensure_table(location, ALERTS)


def test_a_table_with_other_partitions_is_refused(location: StoreLocation) -> None:
    data = StoreWriter(location, "x")
    data.add(ALERTS, [_alert("a1")])
    data.flush()
    partitioned = replace(ALERTS, partition_by=("source",))
    with pytest.raises(SchemaMismatchError, match=r"partitioned by \[\]: expected \['source'\]"):
        ensure_table(location, partitioned)


def test_a_location_is_a_local_directory_or_s3() -> None:
    assert StoreLocation("s3://bucket/v6/").table_uri("legs") == "s3://bucket/v6/tables/legs"
    assert StoreLocation("s3://bucket/v6").is_object_store
    assert StoreLocation("relative/dir").root.startswith("/")
    with pytest.raises(ValueError, match="expected a local path or s3://"):
        StoreLocation("gs://bucket/v6")
