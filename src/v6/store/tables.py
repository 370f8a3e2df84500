"""Where the tables live, and opening them: created on first write, upgraded in place.

``StoreLocation`` is the data location (a local directory or ``s3://bucket/prefix``) with the
object-store options; table ``name`` lives at ``<root>/tables/<name>``. Writers call
``ensure_table`` (create if missing, add columns a newer schema version introduced, refuse a
table written by a newer V6); readers call ``open_table`` (never creates; None if absent).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
from deltalake import DeltaTable
from deltalake import Field as DeltaField
from deltalake.exceptions import DeltaError, TableNotFoundError

from v6.config.storage import OBJECT_STORE_SCHEMES, StorageConfig
from v6.store.errors import SchemaMismatchError, SchemaTooNewError
from v6.store.schemas import SCHEMA_VERSION_PROPERTY, TableSpec

TABLES_DIR = "tables"


@dataclass(frozen=True)
class StoreLocation:
    """The data location: ``root`` is an absolute local directory or ``s3://bucket/prefix``."""

    root: str
    storage_options: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        root = self.root.rstrip("/")
        if "://" in root and not root.startswith(OBJECT_STORE_SCHEMES):
            raise ValueError(f"data location {self.root!r}: expected a local path or s3://…")
        if "://" not in root:
            root = str(Path(root).expanduser().resolve())
        object.__setattr__(self, "root", root)
        object.__setattr__(self, "storage_options", dict(self.storage_options))

    @classmethod
    def from_config(cls, config: StorageConfig, data_dir: str | None = None) -> StoreLocation:
        """The location and options (credentials from the environment) of ``config``;
        ``data_dir`` (a command's --data-dir) replaces the location and keeps the options."""
        return cls(data_dir or config.location, config.deltalake_storage_options())

    @property
    def is_object_store(self) -> bool:
        return self.root.startswith(OBJECT_STORE_SCHEMES)

    def table_uri(self, name: str) -> str:
        return f"{self.root}/{TABLES_DIR}/{name}"

    def options(self) -> dict[str, str] | None:
        """The options for deltalake (None when there are none)."""
        return dict(self.storage_options) or None


def open_table(location: StoreLocation, spec: TableSpec) -> DeltaTable | None:
    """The table at its latest version, or None if it was never created."""
    try:
        return DeltaTable(location.table_uri(spec.name), storage_options=location.options())
    except TableNotFoundError:
        return None


def ensure_table(location: StoreLocation, spec: TableSpec) -> DeltaTable:
    """The table, created if missing and upgraded to ``spec.version``, ready for writes."""
    table = open_table(location, spec) or _create(location, spec)
    check_layout(table, spec)
    if table_schema_version(table) < spec.version:
        _upgrade(table, spec)
    return table


def table_schema_version(table: DeltaTable) -> int:
    """The V6 schema version recorded in the table's properties (1 if never recorded)."""
    return int(table.metadata().configuration.get(SCHEMA_VERSION_PROPERTY, "1"))


def check_layout(table: DeltaTable, spec: TableSpec) -> None:
    """Raise unless the table is one this code may write: not newer, same partitioning,
    and every column the table has is the spec's column with the spec's type."""
    version = table_schema_version(table)
    if version > spec.version:
        raise SchemaTooNewError(
            f"table {spec.name!r} has schema version {version}, this V6 writes version "
            f"{spec.version}: upgrade V6 before writing to it"
        )
    partitions = tuple(table.metadata().partition_columns)
    if partitions != spec.partition_by:
        raise SchemaMismatchError(
            f"table {spec.name!r} is partitioned by {list(partitions)}: expected "
            f"{list(spec.partition_by)}"
        )
    expected = spec.arrow_schema()
    for actual in pa.schema(table.schema().to_arrow()):
        if actual.name not in expected.names:
            raise SchemaMismatchError(
                f"table {spec.name!r} has column {actual.name!r} that schema version "
                f"{spec.version} does not know: expected columns {expected.names}"
            )
        wanted = expected.field(actual.name).type
        if not _same_type(actual.type, wanted):
            raise SchemaMismatchError(
                f"table {spec.name!r} column {actual.name!r} has type {actual.type}: "
                f"expected {wanted}"
            )


def _same_type(actual: pa.DataType, wanted: pa.DataType) -> bool:
    """Delta stores strings without the large/view distinction Arrow makes."""
    text = (pa.string(), pa.large_string(), pa.string_view())
    return bool(actual == wanted or (actual in text and wanted in text))


def _create(location: StoreLocation, spec: TableSpec) -> DeltaTable:
    """Create the table; if another process created it first, open theirs."""
    try:
        return DeltaTable.create(
            location.table_uri(spec.name),
            spec.arrow_schema(),
            mode="ignore",
            partition_by=list(spec.partition_by) or None,
            name=spec.name,
            description=spec.description or None,
            configuration={SCHEMA_VERSION_PROPERTY: str(spec.version)},
            storage_options=location.options(),
            raise_if_key_not_exists=False,
        )
    except DeltaError:
        table = open_table(location, spec)
        if table is None:
            raise
        return table


def _upgrade(table: DeltaTable, spec: TableSpec) -> None:
    """Add the nullable columns introduced after the table's version, then record the
    version. Each step is idempotent, so a crash between them is repaired on the next open."""
    present = set(pa.schema(table.schema().to_arrow()).names)
    missing = [c.arrow_field() for c in spec.columns if c.name not in present]
    if missing:
        table.alter.add_columns([DeltaField.from_arrow(f) for f in missing])
    table.alter.set_table_properties(
        {SCHEMA_VERSION_PROPERTY: str(spec.version)}, raise_if_not_exists=False
    )
