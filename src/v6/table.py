"""A table of named columns, each a polars Series or a numpy array, read as whichever the
reader needs: arrays for the cycle's computations, a polars frame for people and storage.

Turning a column from one form into the other costs microseconds, which adds up when a
cycle's summary has thirty columns and the cycle itself needs a few of them as arrays and
none as a frame. An `ArrayTable` converts a column on its first read in the other form and
keeps it; its frame is built once, when first asked for.

As arrays, numbers are floats with NaN for unknown values, flags are booleans with false
for unknown, dates and times are ``datetime64`` with NaT, texts are objects with None. As
Series, a NaN in a float array becomes null.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cached_property
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import polars as pl

Array = npt.NDArray[Any]
Column = pl.Series | Array

Columns = Mapping[str, Array]
"""Columns as arrays by name, one entry per row (an `ArrayTable` is one)."""


def as_array(column: pl.Series) -> Array:
    """A Series as an array of the module docstring's forms."""
    if column.dtype == pl.Boolean:
        return column.to_numpy().astype(np.bool_, copy=False)
    if column.dtype.is_numeric():
        return column.to_numpy().astype(np.float64, copy=False)
    return column.to_numpy()


def as_series(name: str, values: Array, dtype: pl.DataType | None = None) -> pl.Series:
    """An array as a Series (of ``dtype`` when given); NaN in a float array becomes null.
    Objects (texts) go through a list: polars casts no numpy object array."""
    if values.dtype.kind == "O":
        return pl.Series(name, values.tolist(), dtype)
    return pl.Series(name, values, dtype, nan_to_null=values.dtype.kind == "f")


_UNKNOWN: Final = {"f": np.nan, "b": False, "M": np.datetime64("NaT"), "O": None}
"""The unknown value of each array kind (see the module docstring)."""


def aligned(ids: Array, side: pl.DataFrame | Columns | None, schema: pl.Schema) -> dict[str, Array]:
    """``side``'s columns of ``schema`` (bar its ``strategy_id``) as arrays, row for row with
    ``ids``: unknown where ``side`` has no row for an id (or is None), the first row where it
    has several; ``side`` as it is when it lists the same ids in the same order. Integers
    come as floats (an unknown count is NaN)."""
    side = schema.to_frame() if side is None else side
    names = schema.names()[1:]
    if isinstance(side, pl.DataFrame):
        side_ids = side["strategy_id"].to_numpy()
        columns = {name: as_array(_typed(side[name], schema[name])) for name in names}
    else:
        side_ids = side["strategy_id"]
        columns = {name: _floats_for_counts(side[name]) for name in names}
    if side_ids.size == ids.size and bool((side_ids == ids).all()):
        return columns
    position: dict[object, int] = {}
    for row, strategy in enumerate(side_ids.tolist()):
        position.setdefault(strategy, row)
    index = np.array([position.get(strategy, -1) for strategy in ids.tolist()], np.int64)
    return {name: _gathered(values, index) for name, values in columns.items()}


def _floats_for_counts(values: Array) -> Array:
    return values.astype(np.float64) if values.dtype.kind in "iu" else values


def _typed(column: pl.Series, dtype: pl.DataType) -> pl.Series:
    return column if column.dtype == dtype else column.cast(dtype)


def _gathered(values: Array, index: npt.NDArray[np.int64]) -> Array:
    """``values`` at ``index``; the kind's unknown value where the index is -1."""
    missing = index < 0
    if values.size == 0:
        return np.full(index.size, _UNKNOWN[values.dtype.kind], values.dtype)
    found = values[np.where(missing, 0, index)]
    if missing.any():
        found[missing] = _UNKNOWN[found.dtype.kind]
    return found


class ArrayTable(Mapping[str, Array]):
    """Columns of equal length by name, in order (see the module docstring). Reading a
    name gives the column as an array; `frame` gives them all as a polars frame."""

    def __init__(
        self,
        columns: Mapping[str, Column],
        height: int,
        dtypes: Mapping[str, pl.DataType] | None = None,
    ) -> None:
        self._columns = dict(columns)
        self._arrays: dict[str, Array] = {}
        self._dtypes = dict(dtypes or {})
        self.height = height

    @classmethod
    def of_frame(cls, frame: pl.DataFrame) -> ArrayTable:
        return cls({column.name: column for column in frame.get_columns()}, frame.height)

    def __getitem__(self, name: str) -> Array:
        found = self._arrays.get(name)
        if found is None:
            column = self._columns[name]
            found = self._arrays[name] = (
                as_array(column) if isinstance(column, pl.Series) else column
            )
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)

    def series(self, name: str) -> pl.Series:
        column = self._columns[name]
        if isinstance(column, pl.Series):
            return column if column.name == name else column.alias(name)
        return as_series(name, column, self._dtypes.get(name))

    @cached_property
    def frame(self) -> pl.DataFrame:
        if not self._columns:
            return pl.DataFrame()
        return pl.DataFrame([self.series(name) for name in self._columns])

    def with_columns(
        self, columns: Mapping[str, Column], dtypes: Mapping[str, pl.DataType] | None = None
    ) -> ArrayTable:
        """This table and ``columns`` (a column of the same name is replaced); ``dtypes``
        name the frame's type of array columns where numpy's would not do."""
        table = ArrayTable(
            {**self._columns, **columns}, self.height, {**self._dtypes, **(dtypes or {})}
        )
        table._arrays.update((k, v) for k, v in self._arrays.items() if k not in columns)
        return table

    def filtered(self, rows: npt.NDArray[np.bool_]) -> ArrayTable:
        """The rows where ``rows`` is true."""
        mask = pl.Series(rows)
        return ArrayTable(
            {
                name: column.filter(mask) if isinstance(column, pl.Series) else column[rows]
                for name, column in self._columns.items()
            },
            int(rows.sum()),
            self._dtypes,
        )
