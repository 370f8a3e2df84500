"""Rows in, Arrow tables out: the one place rows are checked against a table's spec."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

from v6.store.schemas import TableSpec, conform


def rows_to_table(spec: TableSpec, rows: Iterable[Mapping[str, object]] | pa.Table) -> pa.Table:
    """``rows`` (dicts by column name, or an Arrow table) as a table of exactly ``spec``'s
    schema. Raises ValueError naming the table and column for unknown columns, values of the
    wrong type, or nulls in a NOT NULL column."""
    try:
        if isinstance(rows, pa.Table):
            _reject_unknown(spec, rows.column_names)
            table = conform(rows, spec)
        else:
            dicts = list(rows)
            _reject_unknown(spec, set().union(*dicts) if dicts else ())
            table = pa.Table.from_pylist(dicts, schema=spec.arrow_schema())
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as error:
        raise ValueError(f"table {spec.name!r}: {error}") from error
    for column in spec.columns:
        nulls = table.column(column.name).null_count
        if not column.nullable and nulls:
            raise ValueError(
                f"table {spec.name!r}: column {column.name!r} has {nulls} null value(s): "
                "expected a value in every row"
            )
    return table


def _reject_unknown(spec: TableSpec, names: Iterable[str]) -> None:
    unknown = sorted(set(names) - set(spec.column_names))
    if unknown:
        raise ValueError(
            f"table {spec.name!r}: unknown columns {unknown}: expected a subset of "
            f"{list(spec.column_names)}"
        )
