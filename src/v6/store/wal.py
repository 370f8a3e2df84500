"""The writer's write-ahead log: rows added to a writer, durable before they are committed.

One file per writer app id, ``<local data location>/_wal/<app_id>.wal``. The writer's
``make_durable`` appends a record per table of the rows added since its last call, then
``sync`` fsyncs the file (rows then survive a killed process and a machine crash).

A flush that commits in the background first *seals* the log: the file, synced, is renamed to
``<app_id>.wal.<n>`` (``n`` counting up) and an empty file takes its place for the rows added
meanwhile; once the flush's commits landed the writer deletes the sealed segments it took.
A flush in the caller's thread clears the file instead. A new writer replays what a previous
one left: the sealed segments, oldest first, then the file (see ``v6.store.writer``).

A record is a header - magic, payload length, CRC-32 of the payload - and the payload, of
one of two kinds (the magic says which):

* Arrow rows: one Arrow IPC stream (which round-trips every Arrow type exactly), whose schema
  metadata names the table and its schema version.
* Plain rows (``v6.store.rows.PlainRows``, values of the few Python types ``check_rows``
  lets through): a pickle of the table name, schema version, column names and value tuples,
  read back by an unpickler that builds nothing but those types. It spares ``make_durable``
  turning a handful of rows into Arrow, which costs far more per row than the one conversion
  of all of them at the commit.

A record cut short by a kill, or a tail of zeros a machine crash left after the last sync, is
the torn end of the log and is ignored; any other unreadable record raises
``WriteAheadLogError`` naming the file.
"""

from __future__ import annotations

import datetime
import decimal
import os
import pickle
import struct
import weakref
import zlib
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

from v6.durable import fsync_directory
from v6.store.errors import WriteAheadLogError
from v6.store.rows import PlainRows
from v6.store.schemas import TableSpec

WAL_DIR = "_wal"
MAGIC = b"V6WA"
"""A record of Arrow rows."""
PLAIN_MAGIC = b"V6WP"
"""A record of plain rows."""
HEADER = struct.Struct("<4sII")
"""Magic, payload length, CRC-32 of the payload."""
TABLE_KEY = b"v6.table"
VERSION_KEY = b"v6.schemaVersion"


@dataclass(frozen=True)
class WalRecord:
    """Rows of one table: its name, the schema version they were written with, and the rows
    (an Arrow table, or plain rows as dicts by column name)."""

    table: str
    version: int
    rows: pa.Table | list[dict[str, object]]


class WriteAheadLog:
    """An append-only log file; see the module docstring."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        sealed = self.sealed()
        self._next_segment = _segment_number(sealed[-1]) + 1 if sealed else 1
        self._open()

    def _open(self) -> None:
        """Open (or create) the file; a created file's directory entry is synced by ``sync``."""
        self._directory_unsynced = not self.path.exists()
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._close = weakref.finalize(self, os.close, self._fd)
        self._size = os.fstat(self._fd).st_size
        self._unsynced = False

    def sealed(self) -> list[Path]:
        """The sealed segments of this log on disk, oldest first."""
        prefix = f"{self.path.name}."
        segments = [
            path
            for path in self.path.parent.iterdir()
            if path.name.startswith(prefix) and path.name[len(prefix) :].isdigit()
        ]
        return sorted(segments, key=_segment_number)

    def records(self) -> list[WalRecord]:
        """Every complete record of the sealed segments, oldest first, then of the file
        (a torn end is left out)."""
        return [record for path in (*self.sealed(), self.path) for record in read_records(path)]

    def append(self, spec: TableSpec, rows: pa.Table | PlainRows) -> None:
        """Write a record of ``rows`` (not yet durable: see ``sync``)."""
        if isinstance(rows, pa.Table):
            magic, payload = MAGIC, _encode(spec, rows)
        else:
            magic, payload = PLAIN_MAGIC, _encode_plain(spec, rows)
        record = HEADER.pack(magic, len(payload), zlib.crc32(payload)) + payload
        view = memoryview(record)
        while view:
            view = view[os.write(self._fd, view) :]
        self._size += len(record)
        self._unsynced = True

    def sync(self) -> None:
        """Make every appended record durable (fsync), if any is not yet."""
        if self._unsynced:
            os.fsync(self._fd)
            self._unsynced = False
            if self._directory_unsynced:
                fsync_directory(self.path.parent)
                self._directory_unsynced = False

    def clear(self) -> None:
        """Empty the file: its rows are committed."""
        if self._size:
            os.ftruncate(self._fd, 0)
            self._size = 0
            self._unsynced = False

    def seal(self) -> Path | None:
        """Sync the file and rename it to the next sealed segment, whose path is returned,
        and continue in a new empty file; None (and nothing done) when the file is empty."""
        if not self._size:
            return None
        self.sync()
        segment = self.path.with_name(f"{self.path.name}.{self._next_segment}")
        os.rename(self.path, segment)
        self._next_segment += 1
        self._close()
        self._open()
        return segment


def discard_segments(segments: list[Path]) -> None:
    """Delete sealed segments whose rows are committed, durably (a segment back after a
    machine crash would replay entity rows older than the table's)."""
    if not segments:
        return
    for segment in segments:
        segment.unlink(missing_ok=True)
    fsync_directory(segments[0].parent)


def _segment_number(segment: Path) -> int:
    return int(segment.suffix[1:])


def wal_path(root: str, app_id: str) -> Path:
    """The log of ``app_id``'s writer under the local data location ``root``."""
    if not app_id.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise ValueError(
            f"app id {app_id!r}: expected letters, digits, '-', '_' or '.' (it names the "
            "writer's write-ahead log file)"
        )
    return Path(root) / WAL_DIR / f"{app_id}.wal"


def _encode(spec: TableSpec, rows: pa.Table) -> bytes:
    metadata = {TABLE_KEY: spec.name.encode(), VERSION_KEY: str(spec.version).encode()}
    tagged = rows.replace_schema_metadata(metadata)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, tagged.schema) as stream:
        stream.write_table(tagged)
    payload: bytes = sink.getvalue().to_pybytes()
    return payload


def _encode_plain(spec: TableSpec, rows: PlainRows) -> bytes:
    return pickle.dumps((spec.name, spec.version, spec.column_names, rows), protocol=5)


def read_records(path: Path) -> list[WalRecord]:
    data = path.read_bytes() if path.exists() else b""
    records, offset = [], 0
    while offset + HEADER.size <= len(data):
        magic, length, checksum = HEADER.unpack_from(data, offset)
        start, end = offset + HEADER.size, offset + HEADER.size + length
        intact = magic in (MAGIC, PLAIN_MAGIC) and end <= len(data)
        if intact and zlib.crc32(data[start:end]) == checksum:
            decode = _decode if magic == MAGIC else _decode_plain
            records.append(decode(path, offset, data[start:end]))
            offset = end
            continue
        if end >= len(data) or not data[offset:].strip(b"\0"):
            break
        raise WriteAheadLogError(
            f"write-ahead log {path}: the record at byte {offset} is corrupt (bad magic or "
            "checksum) and more records follow: expected intact records up to a torn end; "
            "move the file aside (its rows are not committed) to start"
        )
    return records


def _decode(path: Path, offset: int, payload: bytes) -> WalRecord:
    try:
        rows = pa.ipc.open_stream(payload).read_all()
    except (pa.ArrowInvalid, OSError) as error:
        raise WriteAheadLogError(
            f"write-ahead log {path}: the record at byte {offset} is not an Arrow IPC stream: "
            f"{error}"
        ) from error
    metadata = rows.schema.metadata or {}
    table, version = metadata.get(TABLE_KEY), metadata.get(VERSION_KEY, b"")
    if table is None or not version.isdigit():
        raise WriteAheadLogError(
            f"write-ahead log {path}: the record at byte {offset} has schema metadata "
            f"{metadata!r}: expected its table name and schema version"
        )
    return WalRecord(table.decode(), int(version), rows.replace_schema_metadata(None))


_PLAIN_TYPES = {
    ("datetime", "datetime"): datetime.datetime,
    ("datetime", "date"): datetime.date,
    ("datetime", "timezone"): datetime.timezone,
    ("datetime", "timedelta"): datetime.timedelta,
    ("decimal", "Decimal"): decimal.Decimal,
}
"""What a pickle of plain rows may build besides built-in values (``timezone`` and
``timedelta`` make the UTC of a timestamp)."""


class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> type:
        found = _PLAIN_TYPES.get((module, name))
        if found is None:
            raise pickle.UnpicklingError(f"{module}.{name} is not a plain value type")
        return found


def _decode_plain(path: Path, offset: int, payload: bytes) -> WalRecord:
    try:
        table, version, names, rows = _PlainUnpickler(BytesIO(payload)).load()
        dicts = [dict(zip(names, row, strict=True)) for row in rows]
    except (pickle.UnpicklingError, ValueError, TypeError, EOFError) as error:
        raise WriteAheadLogError(
            f"write-ahead log {path}: the record at byte {offset} is not a record of plain "
            f"rows (table, schema version, column names, value tuples): {error}"
        ) from error
    return WalRecord(table, version, dicts)
