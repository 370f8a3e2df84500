"""Reading tables while the engine writes them.

A read uses one table version: a flush is one commit per table, so a reader sees all of a
batch or none of it, never part. The files of the version being read can only disappear if a
vacuum removed them after a newer version replaced them; then the read reloads the latest
version and tries once more. A table that was never created reads as empty, and a table
written by an older schema version reads with the newer columns as nulls, so readers never
depend on the writer having run first.

Across tables, read the parent table before the child (strategies, then legs): the writer
commits children first, so every parent row read has its children (see ``v6.store.catalog``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TypeAlias

import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]
from deltalake import DeltaTable

from v6.store.schemas import TableSpec
from v6.store.tables import StoreLocation, open_table

log = logging.getLogger(__name__)

Filter = tuple[str, str, object]
"""A DNF filter term as deltalake takes it, e.g. ``("status", "in", ["open", "closing"])``:
files are pruned by partition values and statistics, then rows are filtered exactly. Terms
are ANDed. For what terms cannot say (``IS NULL``: a ``("x", "=", None)`` term matches no
row), pass a ``pyarrow.compute`` expression instead."""

Filters: TypeAlias = "Sequence[Filter] | pc.Expression"


class StoreReader:
    """Reads tables at their latest version, keeping one open handle per table."""

    def __init__(self, location: StoreLocation) -> None:
        self._location = location
        self._handles: dict[str, DeltaTable] = {}

    @property
    def location(self) -> StoreLocation:
        return self._location

    def read(
        self,
        spec: TableSpec,
        *,
        columns: Sequence[str] | None = None,
        filters: Filters = (),
    ) -> pa.Table:
        """Rows of ``spec``'s table (``columns`` in that order; all by default) that match
        every filter, at the table's latest version."""
        wanted = _wanted(spec, columns)
        handle = self._latest(spec)
        if handle is None:
            return _empty(spec, wanted)
        table = read_snapshot(self._location, spec, handle, columns=columns, filters=filters)
        self._handles[spec.name] = handle
        return table

    def version(self, spec: TableSpec) -> int | None:
        """The table's latest version (None if it was never created)."""
        handle = self._latest(spec)
        return None if handle is None else handle.version()

    def _latest(self, spec: TableSpec) -> DeltaTable | None:
        handle = self._handles.get(spec.name)
        if handle is None:
            handle = open_table(self._location, spec)
            if handle is not None:
                self._handles[spec.name] = handle
            return handle
        handle.update_incremental()
        return handle


def read_snapshot(
    location: StoreLocation,
    spec: TableSpec,
    table: DeltaTable,
    *,
    columns: Sequence[str] | None = None,
    filters: Filters = (),
) -> pa.Table:
    """Read ``table`` at the version it has loaded; if one of its files was vacuumed away,
    read the latest version once more (see the module docstring)."""
    try:
        return _read(spec, table, columns, filters)
    except FileNotFoundError as error:
        log.info("table %s: %s; reading the latest version again", spec.name, error)
        latest = open_table(location, spec)
        if latest is None:
            raise
        return _read(spec, latest, columns, filters)


def _read(
    spec: TableSpec,
    table: DeltaTable,
    columns: Sequence[str] | None,
    filters: Filters,
) -> pa.Table:
    wanted = _wanted(spec, columns)
    present = set(pa.schema(table.schema().to_arrow()).names)
    where = filters if isinstance(filters, pc.Expression) else list(filters) or None
    data = table.to_pyarrow_table(
        columns=[name for name in wanted if name in present], filters=where
    )
    return _with_columns(spec, data, wanted)


def _with_columns(spec: TableSpec, data: pa.Table, wanted: Sequence[str]) -> pa.Table:
    """``data`` with the ``wanted`` columns in order and the spec's types; columns a
    newer schema version added and the table lacks are nulls."""
    arrays = []
    for name in wanted:
        kind = spec.column(name).type
        if name in data.column_names:
            arrays.append(data.column(name).cast(kind))
        else:
            arrays.append(pa.nulls(data.num_rows, kind))
    return pa.Table.from_arrays(arrays, names=list(wanted))


def _wanted(spec: TableSpec, columns: Sequence[str] | None) -> list[str]:
    wanted = list(columns) if columns is not None else list(spec.column_names)
    unknown = [name for name in wanted if name not in spec.column_names]
    if unknown:
        raise ValueError(
            f"table {spec.name!r}: unknown columns {unknown}: expected some of "
            f"{list(spec.column_names)}"
        )
    return wanted


def _empty(spec: TableSpec, wanted: Sequence[str]) -> pa.Table:
    schema = spec.arrow_schema()
    return pa.schema([schema.field(name) for name in wanted]).empty_table()
