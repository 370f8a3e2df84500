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
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import cast

import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
from deltalake import DeltaTable

from v6.store.schemas import TableSpec
from v6.store.tables import StoreLocation, open_table

log = logging.getLogger(__name__)

Filter = tuple[str, str, object]
"""A filter term ``(column, operator, value)``: operators ``= != < <= > >=`` and ``in`` /
``not in`` with a list; ``("x", "=", None)`` is ``x IS NULL`` and ``("x", "!=", None)`` is
``x IS NOT NULL``. Terms are ANDed. delta-rs skips files by partition values and statistics,
then filters rows exactly."""

Filters = Sequence[Filter]


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
    except (OSError, pa.ArrowException) as error:
        if not is_missing_file(error):
            raise
        log.info("table %s: %s; reading the latest version again", spec.name, error)
        latest = open_table(location, spec)
        if latest is None:
            raise
        return _read(spec, latest, columns, filters)


def is_missing_file(error: BaseException) -> bool:
    """Whether a read failed because a data file is gone (object stores say "not found")."""
    return isinstance(error, FileNotFoundError) or "not found" in str(error).lower()


def _read(
    spec: TableSpec,
    table: DeltaTable,
    columns: Sequence[str] | None,
    filters: Filters,
) -> pa.Table:
    return read_version(spec, table, _wanted(spec, columns), filters)


def read_version(
    spec: TableSpec, table: DeltaTable, columns: Sequence[str], filters: Filters
) -> pa.Table:
    """The rows of ``table``'s loaded version matching ``filters``, as ``columns``.

    Reads with delta-rs's own scan. (A pyarrow dataset over the table would also work, but
    with deltalake 1.6 and pyarrow 26 its filters fail on string columns, and a process that
    used one aborts at exit about one time in three.)
    """
    present = set(pa.schema(table.schema().to_arrow()).names)
    stream = table.scan(
        columns=[name for name in columns if name in present], predicate=to_sql(filters)
    )
    return _with_columns(spec, pa.RecordBatchReader.from_stream(stream).read_all(), columns)


_COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")
_LISTS = ("in", "not in")


def to_sql(filters: Filters) -> str | None:
    """The filter terms as one SQL predicate for delta-rs (None for no terms)."""
    return (
        " AND ".join(_term(column, operator, value) for column, operator, value in filters) or None
    )


def _term(column: str, operator: str, value: object) -> str:
    name = '"' + column.replace('"', '""') + '"'
    if operator in _LISTS:
        values = list(cast("Iterable[object]", value))
        if not values:
            return "FALSE" if operator == "in" else "TRUE"
        return f"{name} {operator.upper()} ({', '.join(map(_literal, values))})"
    if operator not in _COMPARISONS:
        raise ValueError(
            f"filter on {column!r}: operator {operator!r}: expected one of "
            f"{[*_COMPARISONS, *_LISTS]}"
        )
    if value is None and operator in ("=", "!="):
        return f"{name} IS {'NOT ' if operator == '!=' else ''}NULL"
    return f"{name} {operator} {_literal(value)}"


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, datetime):
        return "'" + value.astimezone(UTC).isoformat() + "'"
    if isinstance(value, date):
        return f"'{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"


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
