"""Readers: empty before the first write, one version per read, retry on a vacuumed file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest
from deltalake import DeltaTable

from v6.store import StoreLocation, StoreReader, StoreWriter
from v6.store.catalog import POSITION_SNAPSHOTS
from v6.store.readers import read_snapshot

T0 = datetime(2024, 1, 2, 15, 0, tzinfo=UTC)


def _write_snapshots(location: StoreLocation, count: int) -> None:
    writer = StoreWriter(location, "engine")
    for minute in range(count):
        at = T0 + timedelta(minutes=minute)
        row = {"trade_date": at.date(), "at": at, "strategy_id": "s", "occ_symbol": "X"}
        writer.add(POSITION_SNAPSHOTS, [row])
        writer.flush()


def test_a_table_never_written_reads_as_empty_with_its_schema(location: StoreLocation) -> None:
    reader = StoreReader(location)
    empty = reader.read(POSITION_SNAPSHOTS, columns=["at", "mark"])
    assert empty.num_rows == 0
    assert empty.column_names == ["at", "mark"]
    assert reader.version(POSITION_SNAPSHOTS) is None


def test_a_reader_follows_new_versions(location: StoreLocation) -> None:
    reader = StoreReader(location)
    _write_snapshots(location, 1)
    assert reader.read(POSITION_SNAPSHOTS).num_rows == 1
    _write_snapshots(location, 3)
    assert reader.read(POSITION_SNAPSHOTS).num_rows == 3
    assert reader.version(POSITION_SNAPSHOTS) == 3


def test_a_read_of_a_vacuumed_version_reads_the_latest_once_more(
    location: StoreLocation,
) -> None:
    _write_snapshots(location, 4)
    uri = location.table_uri("position_snapshots")
    stale = DeltaTable(uri)
    live = DeltaTable(uri)
    live.optimize.compact()
    deleted = live.vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=False)
    assert len(deleted) == 4
    with pytest.raises(pa.ArrowInvalid, match="not found"):
        pa.table(stale.scan())
    rows = read_snapshot(location, POSITION_SNAPSHOTS, stale, columns=["at"])
    assert rows.num_rows == 4


def test_unknown_columns_are_named(location: StoreLocation) -> None:
    with pytest.raises(ValueError, match=r"unknown columns \['colour'\]"):
        StoreReader(location).read(POSITION_SNAPSHOTS, columns=["at", "colour"])
