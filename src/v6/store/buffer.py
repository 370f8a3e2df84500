"""One table's rows between ``add`` and their commit, as the writer buffers them.

Rows arrive checked (``v6.store.rows.check_rows``): Arrow tables, or plain rows that are
turned into Arrow only when the writer needs Arrow - for its write-ahead log or its commit -
so many small ``add``-s cost one conversion. The buffer keeps the order rows were added in
(the commit keeps the last row of an entity, the first of an event), and knows which of its
rows are in the write-ahead log already, so ``make_durable`` logs each row once. A flush takes
the buffers; when it fails, each buffer it did not commit takes back the rows added since
(``extend``), so they stay behind the older ones.
"""

from __future__ import annotations

import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

from v6.store.rows import PlainRows, plain_to_table
from v6.store.schemas import TableSpec
from v6.store.wal import WriteAheadLog


class TableBuffer:
    """Rows of one table, in the order they were added (see the module docstring)."""

    def __init__(self, spec: TableSpec) -> None:
        self.spec = spec
        self.num_rows = 0
        self._chunks: list[pa.Table] = []
        self._plain: PlainRows = []
        self._logged = 0
        """How many of ``_chunks`` are in the write-ahead log."""

    def check_spec(self, spec: TableSpec) -> None:
        """Refuse rows of another spec (schema version) of the table than the buffered ones."""
        if spec != self.spec:
            raise ValueError(
                f"table {spec.name!r}: rows for schema version {spec.version} while rows for "
                f"version {self.spec.version} are buffered: expected one spec per table"
            )

    def add(self, rows: pa.Table | PlainRows) -> None:
        """Append checked rows."""
        if isinstance(rows, pa.Table):
            self._seal()
            self._chunks.append(rows)
            self.num_rows += rows.num_rows
        else:
            self._plain.extend(rows)
            self.num_rows += len(rows)

    def log_to(self, wal: WriteAheadLog) -> None:
        """Append the rows not yet in ``wal`` to it, as one record."""
        self._seal()
        fresh = self._chunks[self._logged :]
        if fresh:
            wal.append(self.spec, pa.concat_tables(fresh))
            self._logged = len(self._chunks)

    def extend(self, later: TableBuffer) -> None:
        """Append the rows of ``later``, a buffer of the same table filled after this one.
        Its logged rows count as logged only if every row of this buffer is logged."""
        self.check_spec(later.spec)
        self._seal()
        later._seal()
        if self._logged == len(self._chunks):
            self._logged += later._logged
        self._chunks.extend(later._chunks)
        self.num_rows += later.num_rows

    def table(self) -> pa.Table:
        """Every row, as one table of the spec's schema."""
        self._seal()
        return pa.concat_tables(self._chunks)

    def _seal(self) -> None:
        """Turn the plain rows added since the last chunk into a chunk."""
        if self._plain:
            self._chunks.append(plain_to_table(self.spec, self._plain))
            self._plain = []
