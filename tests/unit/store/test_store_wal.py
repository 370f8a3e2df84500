"""The writer's write-ahead log: durable rows survive a kill, torn ends are ignored, a replay of
committed rows commits nothing, and an unreadable log is refused by name."""

from __future__ import annotations

import os
import pickle
import shutil
import zlib
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable

from v6.store import (
    ALL_TABLES,
    Store,
    StoreLocation,
    StoreReader,
    StoreWriter,
    TableSpec,
    WriteAheadLogError,
)
from v6.store.catalog import POSITION_SNAPSHOTS, STRATEGIES
from v6.store.rows import plain_to_table, plain_values, rows_to_table
from v6.store.wal import HEADER, MAGIC, PLAIN_MAGIC, WriteAheadLog, read_records, wal_path

T0 = datetime(2024, 1, 2, 15, 0, tzinfo=UTC)
APP = "engine"


def _snapshots(*minutes: int) -> list[dict[str, object]]:
    return [
        {
            "trade_date": T0.date(),
            "at": T0 + timedelta(minutes=minute),
            "strategy_id": "ic-1",
            "occ_symbol": "SPY   240216P00440000",
            "mark": 1.0 + minute,
        }
        for minute in minutes
    ]


def _strategy(status: str) -> dict[str, object]:
    return {
        "strategy_id": "ic-1",
        "kind": "iron_condor",
        "status": status,
        "quantity": 1,
        "defined_risk": True,
        "updated_at": T0,
    }


def _log(location: StoreLocation) -> Path:
    return wal_path(location.root, APP)


def _versions(location: StoreLocation) -> dict[str, int]:
    return {
        spec.name: DeltaTable(location.table_uri(spec.name)).version()
        for spec in (STRATEGIES, POSITION_SNAPSHOTS)
    }


def _durable_writer(location: StoreLocation) -> StoreWriter:
    """A writer that made a strategy and two snapshots durable and then was 'killed'."""
    writer = StoreWriter(location, APP)
    writer.add(STRATEGIES, [_strategy("open")])
    writer.add(POSITION_SNAPSHOTS, _snapshots(0, 5))
    writer.make_durable()
    return writer


def test_rows_made_durable_by_a_killed_writer_are_committed_by_the_next(
    location: StoreLocation,
) -> None:
    killed = _durable_writer(location)
    del killed
    assert not Path(location.table_uri("strategies")).exists()

    restarted = StoreWriter(location, APP)

    reader = StoreReader(location)
    assert reader.read(STRATEGIES, columns=["status"]).to_pylist() == [{"status": "open"}]
    assert reader.read(POSITION_SNAPSHOTS, columns=["mark"]).column("mark").to_pylist() == [
        1.0,
        6.0,
    ]
    assert restarted.pending_rows == 0
    assert _log(location).stat().st_size == 0


def test_a_flush_empties_the_log(location: StoreLocation) -> None:
    writer = _durable_writer(location)
    assert _log(location).stat().st_size > 0
    writer.flush()
    assert _log(location).stat().st_size == 0
    writer.add(STRATEGIES, [_strategy("closing")])
    writer.make_durable()
    assert [len(record.rows) for record in read_records(_log(location))] == [1]


def test_a_torn_last_record_is_ignored(location: StoreLocation) -> None:
    writer = _durable_writer(location)
    intact = _log(location).stat().st_size
    writer.add(STRATEGIES, [_strategy("closing")])
    writer.make_durable()
    whole = _log(location).stat().st_size
    with _log(location).open("r+b") as file:
        file.truncate(intact + (whole - intact) // 2)
    del writer

    StoreWriter(location, APP)

    reader = StoreReader(location)
    assert reader.read(STRATEGIES, columns=["status"]).to_pylist() == [{"status": "open"}]
    assert _log(location).stat().st_size == 0


def test_a_tail_of_zeros_after_the_last_record_is_ignored(location: StoreLocation) -> None:
    _durable_writer(location)
    with _log(location).open("ab") as file:
        file.write(bytes(300))
    assert [record.table for record in read_records(_log(location))] == [
        "strategies",
        "position_snapshots",
    ]


def test_replaying_rows_already_committed_adds_no_rows_and_no_versions(
    location: StoreLocation, tmp_path: Path
) -> None:
    writer = _durable_writer(location)
    saved = tmp_path / "before-flush.wal"
    shutil.copy(_log(location), saved)
    writer.flush()
    sequence = writer.committed_sequence(STRATEGIES)
    versions = _versions(location)
    del writer
    shutil.copy(saved, _log(location))  # killed after the commits, before the log was emptied

    restarted = StoreWriter(location, APP)

    assert _versions(location) == versions
    assert restarted.committed_sequence(STRATEGIES) == sequence
    reader = StoreReader(location)
    assert reader.read(STRATEGIES).num_rows == 1
    assert reader.read(POSITION_SNAPSHOTS).num_rows == 2


def test_a_corrupt_record_before_others_is_refused_naming_the_file(
    location: StoreLocation,
) -> None:
    _durable_writer(location)
    data = bytearray(_log(location).read_bytes())
    data[40] ^= 0xFF
    _log(location).write_bytes(bytes(data))
    with pytest.raises(WriteAheadLogError, match=rf"{_log(location)}: the record at byte 0"):
        StoreWriter(location, APP)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (replace(STRATEGIES, name="strategy"), "table 'strategy': expected one of"),
        (replace(STRATEGIES, version=2), "schema version 2, this V6 writes version 1"),
    ],
)
def test_a_record_this_v6_cannot_replay_is_refused_naming_the_file(
    location: StoreLocation, spec: TableSpec, message: str
) -> None:
    log = WriteAheadLog(_log(location))
    log.append(spec, pa.Table.from_pylist([_strategy("open")], schema=spec.arrow_schema()))
    log.sync()
    with pytest.raises(WriteAheadLogError, match=rf"write-ahead log {log.path}: .*{message}"):
        StoreWriter(location, APP)


def test_an_intact_record_that_is_not_arrow_is_refused(location: StoreLocation) -> None:
    payload = b"not an arrow stream"
    record = HEADER.pack(MAGIC, len(payload), zlib.crc32(payload)) + payload
    _log(location).parent.mkdir(parents=True)
    _log(location).write_bytes(record)
    with pytest.raises(WriteAheadLogError, match="the record at byte 0 is not an Arrow IPC"):
        StoreWriter(location, APP)


def _sample(column_type: pa.DataType) -> object:
    samples: dict[str, object] = {
        "bool": True,
        "date32[day]": date(2024, 2, 16),
        "decimal128(8, 3)": Decimal("430.125"),
        "double": 0.1,
        "int32": -7,
        "int64": 2**40,
        "string": "SPY   240216P00430000",
        "timestamp[us, tz=UTC]": T0 + timedelta(microseconds=1),
    }
    return samples[str(column_type)]


@pytest.mark.parametrize("spec", ALL_TABLES, ids=lambda spec: spec.name)
def test_every_column_of_every_table_round_trips_exactly(spec: TableSpec, tmp_path: Path) -> None:
    full = {column.name: _sample(column.type) for column in spec.columns}
    empty = {column.name: None if column.nullable else full[column.name] for column in spec.columns}
    rows = pa.Table.from_pylist([full, empty], schema=spec.arrow_schema())
    log = WriteAheadLog(tmp_path / "x.wal")
    log.append(spec, rows)
    [record] = read_records(log.path)
    assert (record.table, record.version) == (spec.name, spec.version)
    assert record.rows.schema == rows.schema
    assert record.rows.to_pylist() == rows.to_pylist()


@pytest.mark.parametrize("spec", ALL_TABLES, ids=lambda spec: spec.name)
def test_every_column_of_every_table_round_trips_exactly_as_plain_rows(
    spec: TableSpec, tmp_path: Path
) -> None:
    full = {column.name: _sample(column.type) for column in spec.columns}
    empty = {column.name: None if column.nullable else full[column.name] for column in spec.columns}
    plain = plain_values(spec, [full, empty])
    assert plain is not None
    log = WriteAheadLog(tmp_path / "x.wal")
    log.append(spec, plain)
    [record] = read_records(log.path)
    assert (record.table, record.version) == (spec.name, spec.version)
    assert rows_to_table(spec, record.rows).equals(plain_to_table(spec, plain))
    assert record.rows == [full, empty]


def test_a_plain_record_that_builds_anything_but_plain_values_is_refused(
    location: StoreLocation,
) -> None:
    payload = pickle.dumps(("strategies", 1, ("strategy_id",), [(os.getcwd,)]))
    record = HEADER.pack(PLAIN_MAGIC, len(payload), zlib.crc32(payload)) + payload
    _log(location).parent.mkdir(parents=True)
    _log(location).write_bytes(record)
    with pytest.raises(WriteAheadLogError, match=r"posix\.getcwd is not a plain value type"):
        StoreWriter(location, APP)


def test_an_app_id_that_is_not_a_file_name_is_refused(location: StoreLocation) -> None:
    with pytest.raises(ValueError, match=r"app id '\.\./x': expected letters, digits"):
        StoreWriter(location, "../x")


def test_the_store_makes_its_writes_durable(location: StoreLocation) -> None:
    store = Store(location, app_id=APP)
    store.writer.add(STRATEGIES, [_strategy("open")])  # type: ignore[union-attr]
    store.make_durable()
    Store(location).make_durable()  # read-only: nothing to do
    Store(location, app_id=APP)
    assert StoreReader(location).read(STRATEGIES).num_rows == 1


def test_rows_reach_the_log_at_make_durable_as_one_record_per_table(
    location: StoreLocation,
) -> None:
    writer = StoreWriter(location, APP)
    writer.add(STRATEGIES, [_strategy("open")])
    writer.add(POSITION_SNAPSHOTS, _snapshots(0))
    writer.add(POSITION_SNAPSHOTS, pa.Table.from_pylist(_snapshots(5)))
    writer.add(STRATEGIES, [_strategy("closing")])
    assert read_records(_log(location)) == []

    writer.make_durable()
    writer.make_durable()
    writer.add(POSITION_SNAPSHOTS, _snapshots(10))
    writer.make_durable()

    records = [(r.table, len(r.rows)) for r in read_records(_log(location))]
    assert records == [("strategies", 2), ("position_snapshots", 2), ("position_snapshots", 1)]
    del writer
    StoreWriter(location, APP)
    reader = StoreReader(location)
    assert reader.read(STRATEGIES, columns=["status"]).to_pylist() == [{"status": "closing"}]
    assert reader.read(POSITION_SNAPSHOTS).num_rows == 3
