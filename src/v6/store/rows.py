"""Rows in, Arrow tables out: the one place rows are checked against a table's spec.

Converting a handful of dicts to Arrow costs far more per row than converting many at once,
and the writer receives a few rows at a time (a heartbeat, a cycle's decisions). So
``check_rows`` accepts dicts whose every value is *plainly* of its column's type - a Python
value of exactly the type Arrow converts to that column without question - as value tuples
(``PlainRows``), to be converted later, many ``add``-s at once, by ``plain_to_table``.
Anything else (an Arrow table, a numpy number, a naive datetime, a value of the wrong type,
a null in a NOT NULL column) goes through ``rows_to_table`` at once, which converts it or
raises. Either way a bad row raises when it is checked, never later.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache

import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

from v6.store.schemas import UTC_MICROS, TableSpec, conform

PlainRows = list[tuple[object, ...]]
"""Rows as tuples of values in the spec's column order, every value plainly of its type."""
Check = Callable[[object], bool]

_DOUBLE_EXACT = 2**53
"""Integers up to this magnitude convert to float64 exactly (Arrow refuses larger ones)."""


def check_rows(
    spec: TableSpec, rows: Iterable[Mapping[str, object]] | pa.Table
) -> pa.Table | PlainRows:
    """``rows`` checked against ``spec``: plain dict rows as ``PlainRows``, anything else as
    ``rows_to_table`` makes it (see the module docstring). Raises ValueError like
    ``rows_to_table``."""
    if isinstance(rows, pa.Table):
        return rows_to_table(spec, rows)
    dicts = list(rows)
    plain = plain_values(spec, dicts)
    return rows_to_table(spec, dicts) if plain is None else plain


def plain_values(spec: TableSpec, rows: Sequence[Mapping[str, object]]) -> PlainRows | None:
    """The rows as value tuples in column order, or None if any row has a column the spec
    does not know or a value that is not plainly of its column's type (or null where nulls
    are allowed)."""
    names, known, checks = _plain_checks(spec)
    values = []
    for row in rows:
        if not row.keys() <= known:
            return None
        value = tuple(map(row.get, names))
        if not all(map(operator.call, checks, value)):
            return None
        values.append(value)
    return values


def plain_to_table(spec: TableSpec, rows: PlainRows) -> pa.Table:
    """``PlainRows`` of ``spec`` as a table of exactly its schema."""
    columns = zip(*rows, strict=True) if rows else ([] for _ in spec.columns)
    arrays = [
        pa.array(values, type=column.type)
        for values, column in zip(columns, spec.columns, strict=True)
    ]
    return pa.Table.from_arrays(arrays, schema=spec.arrow_schema())


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
    except (
        pa.ArrowInvalid,
        pa.ArrowTypeError,
        pa.ArrowNotImplementedError,
        OverflowError,
    ) as error:
        raise ValueError(f"table {spec.name!r}: {error}") from error
    for column, values in zip(spec.columns, table.columns, strict=True):
        nulls = values.null_count
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


@cache
def _plain_checks(spec: TableSpec) -> tuple[tuple[str, ...], frozenset[str], tuple[Check, ...]]:
    """The spec's column names, as a set, and the plain-value check of each column."""
    checks = []
    for column in spec.columns:
        check = _plain_check(column.type)
        checks.append(_or_null(check) if column.nullable else check)
    return spec.column_names, frozenset(spec.column_names), tuple(checks)


def _plain_check(kind: pa.DataType) -> Check:
    """Values Arrow converts to ``kind`` exactly and without fail (types not listed here
    have no plain values: their rows always go through ``rows_to_table``)."""
    if kind == pa.string():
        return lambda value: type(value) is str and value.isascii()
    if kind == pa.bool_():
        return lambda value: type(value) is bool
    if pa.types.is_signed_integer(kind):
        bound = 2 ** (kind.bit_width - 1)
        return lambda value: type(value) is int and -bound <= value < bound
    if kind == pa.float64():
        return lambda value: (
            type(value) is float
            or (type(value) is int and -_DOUBLE_EXACT <= value <= _DOUBLE_EXACT)
        )
    if kind == UTC_MICROS:
        return lambda value: type(value) is datetime and value.tzinfo is UTC
    if kind == pa.date32():
        return lambda value: type(value) is date
    if pa.types.is_decimal(kind):
        return _plain_decimal(kind.precision, kind.scale)
    return lambda value: False


def _plain_decimal(precision: int, scale: int) -> Check:
    """Finite Decimals with at most ``scale`` decimals and ``precision - scale`` integer
    digits (for strikes: OCC's grid)."""

    def check(value: object) -> bool:
        if type(value) is not Decimal or not value.is_finite():
            return False
        _, digits, exponent = value.as_tuple()
        assert isinstance(exponent, int)
        return exponent >= -scale and len(digits) + exponent <= precision - scale

    return check


def _or_null(check: Check) -> Check:
    return lambda value: value is None or check(value)
