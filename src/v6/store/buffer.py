"""One table's rows between ``add`` and their commit, as the writer buffers them.

Rows arrive checked (``v6.store.rows.check_rows``): Arrow tables, or plain rows that are
turned into Arrow only when the writer commits them - so the many small ``add``-s between two
flushes cost one conversion; the write-ahead log takes plain rows as they are. The buffer
keeps the order rows were added in (the commit keeps the last row of an entity, the first of
an event), and knows which of its rows are in the write-ahead log already, so
``make_durable`` logs each row once. A flush takes the buffers; when it fails, each buffer it
did not commit takes back the rows added since (``extend``), so they stay behind the older
ones.
"""

from __future__ import annotations

from typing import TypeAlias

import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

from v6.store.rows import PlainRows, plain_to_table
from v6.store.schemas import TableSpec
from v6.store.wal import WriteAheadLog

Chunk: TypeAlias = "pa.Table | PlainRows"


class TableBuffer:
    """Rows of one table, in the order they were added (see the module docstring)."""

    def __init__(self, spec: TableSpec) -> None:
        self.spec = spec
        self.num_rows = 0
        self._chunks: list[Chunk] = []
        self._logged = 0
        """How many of ``_chunks`` are in the write-ahead log (they are never changed)."""

    def check_spec(self, spec: TableSpec) -> None:
        """Refuse rows of another spec (schema version) of the table than the buffered ones."""
        if spec != self.spec:
            raise ValueError(
                f"table {spec.name!r}: rows for schema version {spec.version} while rows for "
                f"version {self.spec.version} are buffered: expected one spec per table"
            )

    def add(self, rows: Chunk) -> None:
        """Append checked rows (plain rows join the last chunk if it is plain and unlogged)."""
        last = self._chunks[-1] if len(self._chunks) > self._logged else None
        if isinstance(last, list) and isinstance(rows, list):
            last.extend(rows)
        else:
            self._chunks.append(rows if isinstance(rows, pa.Table) else list(rows))
        self.num_rows += len(rows)

    def log_to(self, wal: WriteAheadLog) -> None:
        """Append the rows not yet in ``wal`` to it, as one record: plain rows as they are,
        any others as one Arrow table."""
        fresh = self._chunks[self._logged :]
        if not fresh:
            return
        if len(fresh) == 1 and isinstance(fresh[0], list):
            wal.append(self.spec, fresh[0])
        else:
            wal.append(self.spec, self._arrow(fresh))
        self._logged = len(self._chunks)

    def extend(self, later: TableBuffer) -> None:
        """Append the rows of ``later``, a buffer of the same table filled after this one.
        Its logged rows count as logged only if every row of this buffer is logged."""
        self.check_spec(later.spec)
        if self._logged == len(self._chunks):
            self._logged += later._logged
        self._chunks.extend(later._chunks)
        self.num_rows += later.num_rows

    def table(self) -> pa.Table:
        """Every row, as one table of the spec's schema."""
        return self._arrow(self._chunks)

    def _arrow(self, chunks: list[Chunk]) -> pa.Table:
        return pa.concat_tables(
            chunk if isinstance(chunk, pa.Table) else plain_to_table(self.spec, chunk)
            for chunk in chunks
        )
