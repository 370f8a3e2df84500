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
"""The value columns' type, given so that Arrow need not infer it from each array."""
_SNAPSHOT_NAMES: Final = {
    "bid": "bid",
    "ask": "ask",
    "mark": "mark",
    "iv": "implied_vol",
    "underlying_price": "underlying_price",
}
"""Mark book value -> snapshot column, for the values other than the Greeks."""


def snapshot_table(
    marks: MarkBook, rows: IntArray, holders: Mapping[int, Sequence[str]]
) -> pa.Table:
    """The snapshots of the current marks of ``rows`` (rows that have a mark), one per
    strategy holding each (``holders``), as the Arrow table `SnapshotRepository.record_frame`
    takes (built straight from the mark book's arrays: no frame library in between)."""
    pairs = [(row, sid) for row in rows.tolist() for sid in holders[row]]
    legs = np.fromiter((row for row, _ in pairs), dtype=np.int64, count=len(pairs))
    values = dict(zip(VALUE_COLUMNS, marks.values(legs), strict=True))
    no_greeks = np.isnan(np.stack([values[name] for name in GREEKS])).any(axis=0)
    symbols = marks.occ_symbols
    return pa.table(
        {
            "strategy_id": pa.array([sid for _, sid in pairs], pa.string()),
            "occ_symbol": pa.array([symbols[row] for row, _ in pairs], pa.string()),
            "at": pa.array(marks.mark_micros(legs)).view(UTC_MICROS),
            **{
                column: pa.array(values[name], _FLOAT, from_pandas=True)  # NaN as null
                for name, column in _SNAPSHOT_NAMES.items()
            },
            **{name: pa.array(values[name], _FLOAT, mask=no_greeks) for name in GREEKS},
            "rho": pa.array(np.zeros(len(legs)), _FLOAT, mask=no_greeks),
        }
    )
