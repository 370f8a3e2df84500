"""How a table is described in code: columns, stable key, partitioning, write mode, version.

Every table has a ``TableSpec``. Its ``version`` is the schema version this code writes; each
column records the version that introduced it (``since``), so ``arrow_schema(version)`` is the
schema an older V6 created. A later version may only *add nullable columns*: an existing table
is upgraded in place by adding them (old rows read them as null), which every Delta reader
(Spark, Trino, DuckDB) understands. Removing, renaming or retyping a column is a new table.

Two write modes:

* ``APPEND`` - immutable events (snapshots, fills, decisions). A row is never changed; a row
  whose key is already in the table is dropped, so replaying events after a restart adds
  nothing. ``time_column`` (the event time) bounds the look-up of existing keys to recent data.
* ``MERGE`` - mutable entities (strategies, orders, alerts, commands). Rows are merged on the
  key and a matched row is rewritten only if some column differs, so an unchanged replay
  commits nothing (no new table version). ``untracked`` columns (``updated_at``) do not count
  as a change on their own.

Timestamps are UTC with microsecond precision (``timestamp[us, tz=UTC]``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

SCHEMA_VERSION_PROPERTY = "v6.schemaVersion"
"""Table property holding the schema version that last wrote the table's metadata."""

UTC_MICROS = pa.timestamp("us", tz="UTC")
STRIKE = pa.decimal128(8, 3)
"""OCC strikes: 5 digits of dollars, 3 of thousandths (see ``v6.domain.contracts``)."""


class WriteMode(StrEnum):
    APPEND = "append"
    MERGE = "merge"


@dataclass(frozen=True, slots=True)
class Column:
    """One column; ``since`` is the schema version that added it (1 for the original ones)."""

    name: str
    type: pa.DataType
    nullable: bool = True
    since: int = 1

    def arrow_field(self) -> pa.Field:
        return pa.field(self.name, self.type, nullable=self.nullable)


@dataclass(frozen=True, slots=True)
class TableSpec:
    """A Delta table as V6 writes it; see the module docstring."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    mode: WriteMode
    version: int = 1
    partition_by: tuple[str, ...] = ()
    time_column: str | None = None
    untracked: tuple[str, ...] = ()
    description: str = ""
    _by_name: dict[str, Column] = field(init=False, repr=False, compare=False)
    _schema: pa.Schema = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {column.name: column for column in self.columns})
        self._check()
        object.__setattr__(self, "_schema", self._schema_at(self.version))

    def __hash__(self) -> int:
        """Name and version only (equal specs share them): specs key caches, and hashing
        every column on each look-up would cost more than the look-up saves."""
        return hash((self.name, self.version))

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def tracked_columns(self) -> tuple[str, ...]:
        """The columns whose change makes a merge rewrite a row: neither key nor ``untracked``
        (bookkeeping such as ``updated_at``, written along with a real change only)."""
        ignored = {*self.key, *self.untracked}
        return tuple(name for name in self.column_names if name not in ignored)

    def column(self, name: str) -> Column:
        return self._by_name[name]

    def arrow_schema(self, version: int | None = None) -> pa.Schema:
        """The schema at ``version`` (default: this code's version, built once)."""
        if version is None or version == self.version:
            return self._schema
        if not 1 <= version <= self.version:
            raise ValueError(
                f"table {self.name!r}: schema version {version}: expected 1..{self.version}"
            )
        return self._schema_at(version)

    def _schema_at(self, version: int) -> pa.Schema:
        return pa.schema([c.arrow_field() for c in self.columns if c.since <= version])

    def _check(self) -> None:
        names = self.column_names
        problems = [
            *_missing(self.key, names, "key column"),
            *_missing(self.partition_by, names, "partition column"),
            *_missing((self.time_column,) if self.time_column else (), names, "time column"),
            *_missing(self.untracked, names, "untracked column"),
        ]
        if len(set(names)) != len(names):
            problems.append(f"column names {list(names)} repeat")
        if not self.key:
            problems.append("no key: expected at least one key column")
        problems.extend(
            f"key column {name!r} is nullable: expected NOT NULL"
            for name in self.key
            if name in self._by_name and self._by_name[name].nullable
        )
        problems.extend(
            f"column {c.name!r} added in version {c.since} is NOT NULL: columns added after "
            "version 1 must be nullable so existing rows stay valid"
            for c in self.columns
            if c.since > 1 and not c.nullable
        )
        problems.extend(
            f"column {c.name!r} since version {c.since}: expected 1..{self.version}"
            for c in self.columns
            if not 1 <= c.since <= self.version
        )
        if self.mode is WriteMode.APPEND and self.time_column is None:
            problems.append("append table without time_column: expected the event-time column")
        if problems:
            raise ValueError(f"table spec {self.name!r}: " + "; ".join(problems))


def _missing(wanted: Sequence[str], names: Sequence[str], what: str) -> list[str]:
    return [f"{what} {name!r} is not a column" for name in wanted if name not in names]


def conform(table: pa.Table, spec: TableSpec) -> pa.Table:
    """``table`` with exactly the spec's columns, in order and types: missing nullable columns
    (a table written by an older schema version) are filled with nulls."""
    present = dict(zip(table.column_names, table.columns, strict=True))
    arrays = []
    for column in spec.columns:
        values = present.get(column.name)
        if values is None:
            arrays.append(pa.nulls(table.num_rows, column.type))
            continue
        arrays.append(values if values.type == column.type else values.cast(column.type))
    return pa.Table.from_arrays(arrays, schema=spec.arrow_schema())
