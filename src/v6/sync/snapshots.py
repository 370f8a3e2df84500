"""The marks sync records to ``position_snapshots``, built column-wise.

One row per strategy holding a contract, with the mark book's values in book units. A leg's
Greeks are recorded only when delta, gamma, theta and vega are all known - otherwise all of
them are null, as for a `v6.store.LegSnapshot` without Greeks - and then with a rho of 0
(`v6.domain.Greeks`' default: IB's model Greeks carry no rho).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

from v6.store.schemas import UTC_MICROS
from v6.sync.marks import VALUE_COLUMNS, IntArray, MarkBook

GREEKS: Final = ("delta", "gamma", "theta", "vega")
_FLOAT: Final = pa.float64()
_VALUES: Final = {
    "underlying_price": "underlying_price",
    "bid": "bid",
    "ask": "ask",
    "mark": "mark",
    "implied_vol": "iv",
    **{name: name for name in GREEKS},
}
"""Snapshot value column -> mark book value, in the table's order (rho follows, from none)."""
_FROM_MARKS: Final = np.array([VALUE_COLUMNS.index(name) for name in _VALUES.values()])
_GREEK_ROWS: Final = slice(len(_VALUES) - len(GREEKS), None)
"""The Greeks' rows of the values matrix (rho, the last, included)."""
_SCHEMA: Final = pa.schema(
    [
        ("strategy_id", pa.string()),
        ("occ_symbol", pa.string()),
        ("at", UTC_MICROS),
        *((name, _FLOAT) for name in (*_VALUES, "rho")),
    ]
)


def snapshot_table(
    marks: MarkBook, rows: IntArray, holders: Mapping[int, Sequence[str]]
) -> pa.Table:
    """The snapshots of the current marks of ``rows`` (rows that have a mark), one per
    strategy holding each (``holders``), as the Arrow table `SnapshotRepository.record_frame`
    takes (built straight from the mark book's arrays: no frame library in between). The
    value columns are one matrix, NaN for null, made one Arrow array and cut into columns:
    one conversion instead of one per column."""
    pairs = [(row, sid) for row in rows.tolist() for sid in holders[row]]
    legs = np.fromiter((row for row, _ in pairs), dtype=np.int64, count=len(pairs))
    count = len(legs)
    values = np.zeros((len(_VALUES) + 1, count))  # rho: 0
    values[: len(_VALUES)] = marks.values(legs)[_FROM_MARKS]
    greeks = values[_GREEK_ROWS]
    greeks[:, np.isnan(greeks).any(axis=0)] = np.nan
    flat = pa.array(values.ravel(), _FLOAT, from_pandas=True)  # NaN as null
    symbols = marks.occ_symbols
    return pa.Table.from_arrays(
        [
            pa.array([sid for _, sid in pairs], pa.string()),
            pa.array([symbols[row] for row, _ in pairs], pa.string()),
            pa.array(marks.mark_micros(legs)).view(UTC_MICROS),
            *(flat.slice(index * count, count) for index in range(len(values))),
        ],
        schema=_SCHEMA,
    )
