"""Keeping tables healthy: compaction, checkpoints, vacuum, and per-table statistics.

The writer compacts the partitions it wrote every ~100 commits (``compact_partitions``);
``maintain_table`` (``v6 db maintain``) does the rest: compacts every partition, writes a
checkpoint, removes expired log files, and runs a *full* vacuum - files no longer referenced
by the log and files never referenced (orphans of a writer killed mid-commit) - but only files
older than the retention, never under 24 hours: a reader that listed a table's files a moment
ago must still find them, and a writer's not-yet-committed files must not be taken for orphans.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]
from deltalake import DeltaTable
from deltalake.exceptions import CommitFailedError

from v6.config.storage import MIN_VACUUM_RETENTION_HOURS
from v6.store.schemas import TableSpec
from v6.store.tables import StoreLocation, open_table, table_schema_version


@dataclass(frozen=True)
class MaintenanceReport:
    """What ``maintain_table`` did to one table; ``skipped`` says why it did nothing."""

    table: str
    version: int | None = None
    files_compacted: int = 0
    files_vacuumed: int = 0
    skipped: str | None = None


@dataclass(frozen=True)
class TableStats:
    """A table at its latest version (``version`` None: the table was never created)."""

    table: str
    version: int | None
    schema_version: int | None
    rows: int
    files: int
    size_bytes: int


def compact_partitions(
    table: DeltaTable, spec: TableSpec, partitions: Sequence[tuple[str, ...]] = ()
) -> int:
    """Compact the given partitions (values in ``spec.partition_by`` order; all of them when
    empty) and checkpoint the log. Returns the number of small files rewritten."""
    rewritten = 0
    if spec.partition_by and partitions:
        for values in partitions:
            filters = [
                (name, "=", value) for name, value in zip(spec.partition_by, values, strict=True)
            ]
            rewritten += _compact(table, filters)
    else:
        rewritten = _compact(table, None)
    table.create_checkpoint()
    return rewritten


def _compact(table: DeltaTable, filters: list[tuple[str, str, str]] | None) -> int:
    metrics = table.optimize.compact(partition_filters=filters)
    return int(metrics.get("numFilesRemoved", 0))


def maintain_table(
    location: StoreLocation, spec: TableSpec, retention_hours: int
) -> MaintenanceReport:
    """Compact, checkpoint, clean up the log and fully vacuum one table (see module doc)."""
    check_retention(retention_hours)
    table = open_table(location, spec)
    if table is None:
        return MaintenanceReport(spec.name, skipped="absent")
    try:
        compacted = compact_partitions(table, spec)
        table.cleanup_metadata()
        vacuumed = table.vacuum(
            retention_hours=retention_hours,
            dry_run=False,
            enforce_retention_duration=False,
            full=True,
        )
    except CommitFailedError as error:
        return MaintenanceReport(spec.name, table.version(), skipped=f"busy: {error}")
    return MaintenanceReport(spec.name, table.version(), compacted, len(vacuumed))


def check_retention(retention_hours: int) -> None:
    """Refuse a vacuum retention under 24 hours: it deletes files live readers still use."""
    if retention_hours < MIN_VACUUM_RETENTION_HOURS:
        raise ValueError(
            f"vacuum retention {retention_hours} h: expected at least "
            f"{MIN_VACUUM_RETENTION_HOURS} h (shorter breaks readers and time travel)"
        )


def table_stats(location: StoreLocation, spec: TableSpec) -> TableStats:
    """Version, rows, data files and bytes of one table at its latest version."""
    table = open_table(location, spec)
    if table is None:
        return TableStats(spec.name, None, None, 0, 0, 0)
    files = pa.table(table.get_add_actions(flatten=True))
    return TableStats(
        table=spec.name,
        version=table.version(),
        schema_version=table_schema_version(table),
        rows=_sum(files, "num_records"),
        files=files.num_rows,
        size_bytes=_sum(files, "size_bytes"),
    )


def _sum(files: pa.Table, column: str) -> int:
    if files.num_rows == 0:
        return 0
    return int(pc.sum(files.column(column)).as_py() or 0)
