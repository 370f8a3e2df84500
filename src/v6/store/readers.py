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
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeAlias, cast

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
    return read_version(spec, table, _wanted(spec, columns), filters)


def read_version(
    spec: TableSpec, table: DeltaTable, columns: Sequence[str], filters: Filters
) -> pa.Table:
    """The rows of ``table``'s loaded version matching ``filters``, as ``columns``.

    Filter terms prune files in delta-rs (as a SQL predicate over partition values and file
    statistics) and then filter the rows read exactly in Arrow. (Passing them to pyarrow's
    dataset instead fails on string columns with deltalake 1.6 and pyarrow 26: the attached
    statistics are ``string_view`` literals that pyarrow cannot compare with ``string``.)
    """
    present = set(pa.schema(table.schema().to_arrow()).names)
    exact = to_expression(spec, filters)
    needed = list(dict.fromkeys([*columns, *_filter_columns(spec, filters)]))
    dataset = table.to_pyarrow_dataset(file_pruning_predicate=pruning_predicate(filters))
    data = _with_columns(
        spec, dataset.to_table(columns=[name for name in needed if name in present]), needed
    )
    if exact is not None:
        data = data.filter(exact)
    return data.select(list(columns))


def _filter_columns(spec: TableSpec, filters: Filters) -> list[str]:
    if isinstance(filters, pc.Expression):
        return list(spec.column_names)
    return [column for column, _, _ in filters]


_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "=": lambda field, value: field == value,
    "!=": lambda field, value: field != value,
    "<": lambda field, value: field < value,
    "<=": lambda field, value: field <= value,
    ">": lambda field, value: field > value,
    ">=": lambda field, value: field >= value,
    "in": lambda field, values: field.isin(values),
    "not in": lambda field, values: ~field.isin(values),
}
_LIST_OPERATORS = ("in", "not in")


def to_expression(spec: TableSpec, filters: Filters) -> pc.Expression | None:
    """The filter terms ANDed as one Arrow expression, values typed as their column (None
    for no terms)."""
    if isinstance(filters, pc.Expression):
        return filters
    expression = None
    for column, operator, value in filters:
        if operator not in _OPERATORS:
            raise ValueError(
                f"filter on {column!r}: operator {operator!r}: expected one of {list(_OPERATORS)}"
            )
        kind = spec.column(column).type
        typed = pa.array(value, kind) if operator in _LIST_OPERATORS else pa.scalar(value, kind)
        term = _OPERATORS[operator](pc.field(column), typed)
        expression = term if expression is None else expression & term
    return expression


def pruning_predicate(filters: Filters) -> str | None:
    """The filter terms as a delta-rs SQL predicate for skipping files (None: read all)."""
    if isinstance(filters, pc.Expression):
        return None
    terms = []
    for column, operator, value in filters:
        name = '"' + column.replace('"', '""') + '"'
        if operator in _LIST_OPERATORS:
            values = list(cast("Iterable[object]", value))
            if values:
                terms.append(f"{name} {operator.upper()} ({', '.join(map(_literal, values))})")
        elif value is not None:
            terms.append(f"{name} {operator} {_literal(value)}")
    return " AND ".join(terms) or None


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
