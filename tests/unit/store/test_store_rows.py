"""Checking rows against a spec: the plain-row path (values kept as tuples, converted to Arrow
later, many rows at once) accepts a row only if Arrow converts it exactly as the direct
conversion does, and a bad row raises when it is checked, whichever path it takes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from v6.store import ALL_TABLES
from v6.store.rows import check_rows, plain_to_table, plain_values, rows_to_table
from v6.store.schemas import Column, TableSpec, WriteMode

CATALOG_TYPES = sorted({column.type for spec in ALL_TABLES for column in spec.columns}, key=str)

_EDGES = [
    edge + step for bits in (31, 53, 63) for edge in (2**bits, -(2**bits)) for step in (-1, 0, 1)
]
_ANY_VALUE = st.one_of(
    st.none(),
    st.sampled_from(_EDGES),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(min_value=-(2**54), max_value=2**54),
    st.floats(allow_nan=False),
    st.text(max_size=5),
    st.dates(),
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5))])),
    st.datetimes(),
    st.decimals(allow_nan=False, allow_infinity=False, places=4, max_value=10**7),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.builds(np.float64, st.floats(allow_nan=False)),
)


def _spec(kind: pa.DataType, nullable: bool) -> TableSpec:
    return TableSpec(
        name="probe",
        columns=(Column("id", pa.string(), nullable=False), Column("value", kind, nullable)),
        key=("id",),
        mode=WriteMode.MERGE,
    )


def _outcome(convert: Callable[[], pa.Table]) -> pa.Table | None:
    """The table a conversion gives, or None if it raised ValueError (a rejected row)."""
    try:
        return convert()
    except ValueError:
        return None


def _same(left: pa.Table | None, right: pa.Table | None) -> bool:
    return left is right is None or (left is not None and right is not None and left.equals(right))


@pytest.mark.parametrize("nullable", [True, False])
@pytest.mark.parametrize("kind", CATALOG_TYPES, ids=str)
@settings(max_examples=20, deadline=None)
@given(values=st.lists(_ANY_VALUE, min_size=1, max_size=3))
def test_plain_rows_convert_exactly_as_arrow_converts_them(
    kind: pa.DataType, nullable: bool, values: list[object]
) -> None:
    _assert_both_paths_agree(_spec(kind, nullable), values)


@pytest.mark.parametrize("kind", CATALOG_TYPES, ids=str)
def test_values_at_the_edges_of_each_type_convert_exactly_as_arrow_converts_them(
    kind: pa.DataType,
) -> None:
    decimals = [Decimal("99999.999"), Decimal("100000"), Decimal("-99999.9995"), Decimal("1E-3")]
    for value in [*_EDGES, *decimals]:
        _assert_both_paths_agree(_spec(kind, nullable=False), [value])


def _assert_both_paths_agree(spec: TableSpec, values: list[object]) -> None:
    rows = [{"id": f"k{i}", "value": value} for i, value in enumerate(values)]
    expected = _outcome(lambda: rows_to_table(spec, rows))
    plain = plain_values(spec, rows)
    if plain is not None:
        assert expected is not None, f"{values} taken as plain, but Arrow refuses them"
        assert _same(_outcome(lambda: plain_to_table(spec, plain)), expected)
    assert _same(_outcome(lambda: _as_table(spec, check_rows(spec, rows))), expected)


def _as_table(spec: TableSpec, checked: pa.Table | list[tuple[object, ...]]) -> pa.Table:
    return checked if isinstance(checked, pa.Table) else plain_to_table(spec, checked)


@pytest.mark.parametrize(
    ("value", "plain"),
    [
        (Decimal("430.125"), True),
        (Decimal("99999.999"), True),
        (Decimal("4.3E+2"), True),
        (Decimal("100000"), False),
        (Decimal("1.2500"), False),
        (Decimal("NaN"), False),
        (430.125, False),
    ],
)
def test_plain_strikes_fit_the_occ_grid(value: object, plain: bool) -> None:
    spec = _spec(pa.decimal128(8, 3), nullable=True)
    assert (plain_values(spec, [{"id": "a", "value": value}]) is not None) is plain


def test_values_arrow_might_read_differently_are_not_plain() -> None:
    spec = _spec(pa.timestamp("us", tz="UTC"), nullable=False)
    eastern = timezone(timedelta(hours=-5))
    for value in (datetime(2024, 1, 2), datetime(2024, 1, 2, tzinfo=eastern), None, "x"):
        assert plain_values(spec, [{"id": "a", "value": value}]) is None
    text = _spec(pa.string(), nullable=False)
    assert plain_values(text, [{"id": "a", "value": "µ"}]) is None
    assert plain_values(text, [{"id": "a", "value": "a", "colour": "red"}]) is None


def test_plain_rows_are_value_tuples_in_column_order_with_missing_columns_null() -> None:
    spec = _spec(pa.date32(), nullable=True)
    assert check_rows(spec, [{"value": date(2024, 1, 2), "id": "a"}, {"id": "b"}]) == [
        ("a", date(2024, 1, 2)),
        ("b", None),
    ]


def test_no_plain_rows_make_an_empty_table_of_the_schema() -> None:
    spec = _spec(pa.float64(), nullable=True)
    assert plain_to_table(spec, []).schema == spec.arrow_schema()
