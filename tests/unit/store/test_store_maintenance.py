"""Maintenance and the `v6 db` commands: compaction, vacuum that spares young files, stats."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable
from typer.testing import CliRunner

from v6.store import StoreLocation, StoreWriter, maintain_table, table_stats
from v6.store.catalog import POSITION_SNAPSHOTS, STRATEGIES
from v6.store.cli import db_app

T0 = datetime(2024, 1, 2, 15, 0, tzinfo=UTC)

runner = CliRunner()
DAY = 24 * 3600


def _write_days(location: StoreLocation, days: int, per_day: int) -> None:
    writer = StoreWriter(location, "engine")
    for day in range(days):
        for minute in range(per_day):
            at = T0 + timedelta(days=day, minutes=minute)
            row = {"trade_date": at.date(), "at": at, "strategy_id": "s", "occ_symbol": "X"}
            writer.add(POSITION_SNAPSHOTS, [row])
            writer.flush()


def _data_files(root: Path) -> set[Path]:
    return set(root.glob("trade_date=*/*.parquet"))


def _age(path: Path, seconds: float) -> None:
    old = time.time() - seconds
    os.utime(path, (old, old))


def test_maintain_compacts_every_partition_and_keeps_young_replaced_files(
    location: StoreLocation,
) -> None:
    _write_days(location, days=2, per_day=3)
    report = maintain_table(location, POSITION_SNAPSHOTS, retention_hours=24)
    assert (report.files_compacted, report.files_vacuumed, report.skipped) == (6, 0, None)
    table = DeltaTable(location.table_uri("position_snapshots"))
    assert len(table.file_uris()) == 2
    assert pa.table(table.scan()).num_rows == 6
    assert len(_data_files(Path(location.table_uri("position_snapshots")))) == 8


def test_full_vacuum_removes_only_orphans_older_than_the_retention(
    location: StoreLocation,
) -> None:
    """Files replaced by compaction an hour ago stay (their removal time is in the log);
    an orphan a killed writer left two days ago goes; one left a minute ago stays (it may
    be a live writer's file about to be committed)."""
    _write_days(location, days=1, per_day=3)
    root = Path(location.table_uri("position_snapshots"))
    maintain_table(location, POSITION_SNAPSHOTS, retention_hours=24)
    partition = next(root.glob("trade_date=*"))
    old_orphan, young_orphan = partition / "crashed-old.parquet", partition / "crashed-new.parquet"
    for orphan in (old_orphan, young_orphan):
        orphan.write_bytes(b"PAR1 left by a killed writer")
    _age(old_orphan, 2 * DAY)
    _age(young_orphan, 60)
    before = _data_files(root)
    report = maintain_table(location, POSITION_SNAPSHOTS, retention_hours=24)
    assert report.files_vacuumed == 1
    assert before - _data_files(root) == {old_orphan}
    assert pa.table(DeltaTable(str(root)).scan()).num_rows == 3


def test_retention_under_a_day_is_refused(location: StoreLocation) -> None:
    with pytest.raises(ValueError, match="vacuum retention 23 h: expected at least 24 h"):
        maintain_table(location, STRATEGIES, retention_hours=23)


def test_stats_count_rows_files_and_bytes(location: StoreLocation) -> None:
    _write_days(location, days=2, per_day=2)
    stats = table_stats(location, POSITION_SNAPSHOTS)
    assert (stats.version, stats.schema_version, stats.rows, stats.files) == (4, 1, 4, 4)
    assert stats.size_bytes > 0
    assert table_stats(location, STRATEGIES).version is None


def test_db_stats_prints_every_table(location: StoreLocation) -> None:
    _write_days(location, days=1, per_day=2)
    result = runner.invoke(db_app, ["stats", "--data-dir", location.root])
    assert result.exit_code == 0, result.output
    assert "position_snapshots" in result.output
    assert "strategies" in result.output


def test_db_maintain_runs_on_every_table(location: StoreLocation) -> None:
    _write_days(location, days=1, per_day=3)
    result = runner.invoke(db_app, ["maintain", "--data-dir", location.root])
    assert result.exit_code == 0, result.output
    assert "retention 168 h" in result.output
    assert "absent" in result.output
    assert len(DeltaTable(location.table_uri("position_snapshots")).file_uris()) == 1


def test_db_maintain_refuses_a_short_retention(location: StoreLocation) -> None:
    result = runner.invoke(
        db_app, ["maintain", "--data-dir", location.root, "--retention-hours", "1"]
    )
    assert result.exit_code == 2
    assert "expected at least 24 h" in result.output
