"""``v6 db``: table maintenance and statistics (mounted by ``v6.cli`` as ``db_app``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from v6.cli_options import ConfigPath, DataDir
from v6.config import ConfigError, StorageConfig, load_config
from v6.config.storage import MIN_VACUUM_RETENTION_HOURS
from v6.store.catalog import ALL_TABLES
from v6.store.maintenance import (
    MaintenanceReport,
    TableStats,
    check_retention,
    maintain_table,
    table_stats,
)
from v6.store.tables import StoreLocation

db_app = typer.Typer(help="Maintain and inspect V6's Delta tables.", no_args_is_help=True)

console = Console()
error_console = Console(stderr=True, soft_wrap=True)

EXIT_BAD_INPUT = 2


@db_app.command("maintain")
def maintain(
    data_dir: DataDir = None,
    config: ConfigPath = None,
    retention_hours: Annotated[
        int | None,
        typer.Option(
            help=f"Vacuum keeps files younger than this (>= {MIN_VACUUM_RETENTION_HOURS}); "
            "default: storage.vacuum_retention_hours of the configuration.",
        ),
    ] = None,
) -> None:
    """Compact, checkpoint, clean up logs and fully vacuum every table."""
    storage = _storage(config)
    hours = storage.vacuum_retention_hours if retention_hours is None else retention_hours
    try:
        check_retention(hours)
    except ValueError as error:
        _fail(str(error))
    location = _location(storage, data_dir)
    reports = [maintain_table(location, spec, hours) for spec in ALL_TABLES]
    console.print(_maintenance_table(reports, hours))


@db_app.command("stats")
def stats(data_dir: DataDir = None, config: ConfigPath = None) -> None:
    """Per table: version, schema version, rows, data files and size."""
    location = _location(_storage(config), data_dir)
    console.print(_stats_table([table_stats(location, spec) for spec in ALL_TABLES], location))


def _storage(config: Path | None) -> StorageConfig:
    try:
        return load_config(config).storage
    except ConfigError as error:
        for problem in error.problems:
            error_console.print(str(problem), markup=False, highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def _location(storage: StorageConfig, data_dir: str | None) -> StoreLocation:
    try:
        return StoreLocation.from_config(storage, data_dir)
    except ValueError as error:
        _fail(str(error))


def _fail(message: str) -> NoReturn:
    error_console.print(f"db: {message}", markup=False, highlight=False)
    raise typer.Exit(EXIT_BAD_INPUT)


def _maintenance_table(reports: list[MaintenanceReport], hours: int) -> Table:
    table = Table(title=f"Maintenance (vacuum retention {hours} h)")
    for name in ("table", "version", "files compacted", "files vacuumed", "note"):
        table.add_column(name, justify="left" if name in ("table", "note") else "right")
    for report in reports:
        table.add_row(
            report.table,
            _or_dash(report.version),
            str(report.files_compacted),
            str(report.files_vacuumed),
            report.skipped or "ok",
        )
    return table


def _stats_table(rows: list[TableStats], location: StoreLocation) -> Table:
    table = Table(title=f"Tables under {location.root}")
    for name in ("table", "version", "schema", "rows", "files", "size"):
        table.add_column(name, justify="left" if name == "table" else "right")
    for stat in rows:
        table.add_row(
            stat.table,
            _or_dash(stat.version),
            _or_dash(stat.schema_version),
            f"{stat.rows:,}",
            f"{stat.files:,}",
            _size(stat.size_bytes),
        )
    return table


def _or_dash(value: int | None) -> str:
    return "-" if value is None else str(value)


def _size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover
