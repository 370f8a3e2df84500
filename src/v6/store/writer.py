"""The batched, idempotent writer: the only way V6 writes its tables.

Rows are buffered per table and committed by a flush: ``flush()`` on demand, in the caller's
thread; and in the background when a table holds ``flush_rows`` rows (checked by ``add``) or
the oldest row has waited ``flush_interval_seconds`` (checked by ``flush_if_due``, which the
engine calls every cycle).

**Acknowledged** means ``flush()`` returned without raising: every row added before that call
is then committed to its Delta table and stays there through crashes. **Durable** means
``make_durable()`` returned: every row added before it is in the writer's write-ahead log
(``v6.store.wal``, ``<location>/_wal/<app_id>.wal``), fsynced. ``make_durable`` writes the
rows added since its last call there, a record per table (``add`` itself does no I/O). A
writer opened later under the same app id replays a log it finds and commits it at once
(before anyone reads through it), so a killed process loses no durable row; a flush empties
the log of the rows it committed once they all landed. An object-store location keeps no log
(no local directory is sure to be there for the next writer): there ``make_durable()``
commits everything buffered. A row that was only ``add``-ed is neither; after a crash the
caller produces it again (replays).

A background flush lets the caller's loop go on while delta-rs commits (it releases the GIL):
a due flush hands the buffered rows to a thread - one flush at a time - after logging
them and sealing the log (a new log file takes the rows added meanwhile), so they stay durable
until their commits land and the thread deletes the sealed log. The next ``flush_if_due``,
``flush`` or ``committed_sequence`` collects it: ``flush()`` first waits for it, so when it
returns every row added before is committed; an error of the background flush is raised by
that next call, with the rows it did not commit buffered again ahead of those added since.

Why a replay never duplicates:

* Append tables (events) drop rows whose key is already in the table. The look-up reads the
  key columns of rows at or after the batch's earliest event time (file statistics prune the
  rest), so a replay after a restart adds nothing and a normal flush reads almost nothing.
* Merge tables (entities) merge on the key and rewrite a matched row only if a tracked column
  differs; an unchanged replay makes no commit and no table version. The writer also keeps
  the tracked values of the rows it committed, and drops a row identical to them before the
  merge (an entity saved again unchanged, such as a strategy's legs): it trusts them only
  while the table is at the version of its own last commit or compaction - once another
  writer commits, it forgets them - so a dropped row is one the table holds as it is.

Every commit carries an application transaction ``(app_id, sequence)``. delta-rs records the
latest sequence per app id but does not enforce its order, so the writer checks it: before each
commit the table's sequence for ``app_id`` must equal the last one this writer committed
(otherwise another process writes under the same app id: ``WriterConflictError``). When a commit
fails (a concurrent commit delta-rs could not resolve, or object storage failed mid-request),
the writer reloads the table and looks for its sequence: present means the commit landed;
absent means it retries the batch, which is safe because the batch is idempotent.

Tables are committed children-first (see ``v6.store.catalog``) and a failure stops the flush:
the failed table's rows and every later table's rows stay buffered for the next flush.

Every ``compact_every_commits`` commits to a table, or ``compact_interval_seconds`` after its
last compaction, the writer compacts the partitions it wrote and checkpoints the log.

Not thread-safe: use one writer from one thread (the engine's loop); the writer's own
background thread touches only the flush it was handed and the tables' commit state.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]
from deltalake import CommitProperties, DeltaTable, Transaction, write_deltalake
from deltalake.exceptions import CommitFailedError

from v6.config.storage import StorageConfig
from v6.store.buffer import TableBuffer
from v6.store.catalog import ALL_TABLES, table_spec
from v6.store.errors import StoreRetryableError, WriteAheadLogError, WriterConflictError
from v6.store.maintenance import compact_partitions
from v6.store.readers import Filter, read_version
from v6.store.rows import check_rows, rows_to_table
from v6.store.schemas import TableSpec, WriteMode
from v6.store.tables import StoreLocation, ensure_table
from v6.store.wal import WalRecord, WriteAheadLog, discard_segments, wal_path

log = logging.getLogger(__name__)

RETRYABLE = (CommitFailedError, OSError)
"""Failures after which the writer re-checks its sequence and retries the batch."""

_ROW_INDEX = "__v6_row"
STATISTICS_PRECISION = timedelta(milliseconds=1)


@dataclass(frozen=True)
class WriterSettings:
    """How often the writer commits and compacts (see the module docstring)."""

    flush_rows: int = 10_000
    flush_interval_seconds: float = 5.0
    compact_every_commits: int = 100
    compact_interval_seconds: float = 300.0
    max_attempts: int = 5
    retry_backoff_seconds: float = 0.05

    def __post_init__(self) -> None:
        for name in ("flush_rows", "compact_every_commits", "max_attempts"):
            if getattr(self, name) < 1:
                raise ValueError(f"WriterSettings.{name} = {getattr(self, name)}: expected >= 1")
        for name in ("flush_interval_seconds", "compact_interval_seconds"):
            if getattr(self, name) <= 0:
                raise ValueError(f"WriterSettings.{name} = {getattr(self, name)}: expected > 0")

    @classmethod
    def from_config(cls, config: StorageConfig) -> WriterSettings:
        return cls(
            flush_rows=config.writer_flush_rows,
            flush_interval_seconds=config.writer_flush_interval_seconds,
            compact_every_commits=config.compact_every_commits,
        )


@dataclass(frozen=True)
class TableFlush:
    """What one flush did to one table: rows committed (0 when the batch was a replay),
    the table version after it, and the app-transaction sequence of the commit (None when
    nothing was committed)."""

    table: str
    rows: int
    version: int
    sequence: int | None


@dataclass
class _TableState:
    handle: DeltaTable
    sequence: int
    commits_since_compaction: int = 0
    last_compaction: float = 0.0
    touched_partitions: set[tuple[str, ...]] = field(default_factory=set)
    newest: datetime | None = None
    newest_at_version: int = -1
    committed: dict[tuple[object, ...], tuple[object, ...]] = field(default_factory=dict)
    committed_at_version: int = -1


@dataclass
class _Flush:
    """One flush: the buffers it commits (in commit order), the sealed log segments holding
    their durable rows, whether it clears the log, and how far it got."""

    buffers: list[TableBuffer]
    segments: list[Path]
    clears_log: bool
    oldest: float | None
    results: list[TableFlush] = field(default_factory=list)
    error: BaseException | None = None


class StoreWriter:
    """Buffers rows per table and commits them idempotently; see the module docstring."""

    def __init__(
        self,
        location: StoreLocation,
        app_id: str,
        settings: WriterSettings | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not app_id or not app_id.strip():
            raise ValueError(f"StoreWriter.app_id = {app_id!r}: expected a non-blank name")
        self._location = location
        self._app_id = app_id
        self._settings = settings or WriterSettings()
        self._clock = clock
        self._buffers: dict[str, TableBuffer] = {}
        self._oldest: float | None = None
        self._tables: dict[str, _TableState] = {}
        self._running: tuple[_Flush, threading.Thread] | None = None
        """The background flush and its thread, until collected."""
        self._sealed: list[Path] = []
        """Sealed log segments of a failed flush, whose rows are buffered again."""
        self._wal: WriteAheadLog | None = None
        if not location.is_object_store:
            self._wal = WriteAheadLog(wal_path(location.root, app_id))
            self._replay(self._wal)

    @property
    def app_id(self) -> str:
        return self._app_id

    @property
    def pending_rows(self) -> int:
        """Rows added and not yet acknowledged by a flush."""
        running = [] if self._running is None else self._running[0].buffers
        return sum(buffer.num_rows for buffer in (*running, *self._buffers.values()))

    def add(self, spec: TableSpec, rows: Iterable[Mapping[str, object]] | pa.Table) -> None:
        """Buffer ``rows`` for ``spec``'s table (validated now: bad rows raise ValueError);
        flush everything in the background if that table now holds ``flush_rows`` rows (see
        ``flush_if_due``). The rows go to the write-ahead log with the next ``make_durable``."""
        batch = check_rows(spec, rows)
        if len(batch) == 0:
            return
        buffer = self._buffer(spec)
        buffer.add(batch)
        if buffer.num_rows >= self._settings.flush_rows:
            self._start_if_due()

    def make_durable(self) -> None:
        """Make every row added so far survive a kill of this process (and of its machine):
        append the rows added since the last call to the write-ahead log (a record per
        table) and fsync it, or without a log (an object-store location) ``flush``."""
        if self._wal is None:
            self.flush()
            return
        for buffer in self._buffers.values():
            buffer.log_to(self._wal)
        self._wal.sync()

    def flush_if_due(self) -> list[TableFlush]:
        """Start a background flush when a table holds ``flush_rows`` rows or the oldest
        buffered row has waited ``flush_interval_seconds``, and none is running. Returns
        what a background flush that finished since the last call committed, or raises
        its error."""
        finished = self._collect_background(wait=False)
        self._start_if_due()
        return finished

    def _start_if_due(self) -> None:
        """Start a background flush if one is due and none is running (nor waiting to be
        collected: only ``flush_if_due``, ``flush`` and ``committed_sequence`` collect)."""
        if self._running is not None or not self._due():
            return
        flush = self._hand_off(background=True)
        thread = threading.Thread(
            target=self._run, args=(flush,), name=f"v6-store-flush-{self._app_id}"
        )
        thread.start()
        self._running = (flush, thread)

    def flush(self) -> list[TableFlush]:
        """Wait for a background flush, then commit every buffered row, children-first, and
        empty the write-ahead log; when it returns, those rows are acknowledged. Returns what
        both committed. Raises ``StoreError`` with the uncommitted rows still buffered (and
        the log untouched)."""
        finished = self._collect_background(wait=True)
        flush = self._hand_off(background=False)
        self._run(flush)
        return finished + self._outcome(flush)

    def _due(self) -> bool:
        if self._oldest is None:
            return False
        if self._clock() - self._oldest >= self._settings.flush_interval_seconds:
            return True
        return any(b.num_rows >= self._settings.flush_rows for b in self._buffers.values())

    def _hand_off(self, background: bool) -> _Flush:
        """A flush of every buffered row (the buffers start empty again). In the background
        the rows are logged and the log sealed first, so they stay durable while the thread
        commits; in the caller's thread the log is cleared after the commits instead."""
        buffers = [self._buffers[name] for name in sorted(self._buffers, key=_commit_rank)]
        segments, self._sealed = self._sealed, []
        if background and self._wal is not None:
            for buffer in buffers:
                buffer.log_to(self._wal)
            segment = self._wal.seal()
            segments = segments if segment is None else [*segments, segment]
        flush = _Flush(buffers, segments, not background and self._wal is not None, self._oldest)
        self._buffers, self._oldest = {}, None
        return flush

    def _run(self, flush: _Flush) -> None:
        """Commit the flush's buffers, then drop the log segments and rows it committed;
        the first failure stops it and is kept in ``flush.error``."""
        try:
            for buffer in flush.buffers:
                batch = _one_per_key(buffer.spec, buffer.table())
                flush.results.append(self._commit_with_retries(buffer.spec, batch))
            discard_segments(flush.segments)
            if flush.clears_log:
                assert self._wal is not None
                self._wal.clear()
        except BaseException as error:
            flush.error = error

    def _collect_background(self, wait: bool) -> list[TableFlush]:
        """The outcome of the background flush, if it finished (or ``wait``)."""
        if self._running is None:
            return []
        flush, thread = self._running
        if not wait and thread.is_alive():
            return []
        thread.join()
        self._running = None
        return self._outcome(flush)

    def _outcome(self, flush: _Flush) -> list[TableFlush]:
        """What a finished flush committed; if it failed, buffer its uncommitted rows again
        ahead of the rows added since, keep its log segments, and raise its error."""
        if flush.error is None:
            return flush.results
        for buffer in flush.buffers[len(flush.results) :]:
            later = self._buffers.get(buffer.spec.name)
            if later is not None:
                buffer.extend(later)
            self._buffers[buffer.spec.name] = buffer
        self._sealed = flush.segments + self._sealed
        if flush.oldest is not None:
            self._oldest = min(flush.oldest, self._oldest or flush.oldest)
        raise flush.error

    def _buffer(self, spec: TableSpec) -> TableBuffer:
        """The buffer of ``spec``'s table, created (and the oldest row's time taken) when
        it is the first since the last flush."""
        buffer = self._buffers.get(spec.name)
        if buffer is None:
            buffer = self._buffers[spec.name] = TableBuffer(spec)
        else:
            buffer.check_spec(spec)
        if self._oldest is None:
            self._oldest = self._clock()
        return buffer

    def _replay(self, wal: WriteAheadLog) -> None:
        """Commit the rows a previous writer under this app id left in the log."""
        records = wal.records()
        for record in records:
            spec = _replayed_spec(wal, record)
            try:
                batch = rows_to_table(spec, record.rows)
            except ValueError as error:
                raise WriteAheadLogError(f"write-ahead log {wal.path}: {error}") from error
            self._buffer(spec).add(batch)
        if records:
            log.info("replaying %d rows from %s", self.pending_rows, wal.path)
        self._sealed = wal.sealed()
        self.flush()

    def committed_sequence(self, spec: TableSpec) -> int:
        """The last app-transaction sequence this writer's app id committed to the table
        (after a background flush finished)."""
        self._collect_background(wait=True)
        return self._state(spec).sequence

    def _state(self, spec: TableSpec) -> _TableState:
        state = self._tables.get(spec.name)
        if state is None:
            handle = ensure_table(self._location, spec)
            sequence = handle.transaction_version(self._app_id) or 0
            state = _TableState(handle, sequence, last_compaction=self._clock())
            self._tables[spec.name] = state
        return state

    def _commit_with_retries(self, spec: TableSpec, batch: pa.Table) -> TableFlush:
        attempts = self._settings.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                return self._commit(spec, batch)
            except RETRYABLE as error:
                landed = self._landed(spec)
                if landed is not None:
                    return landed
                log.warning(
                    "commit to %s failed (attempt %d of %d): %s",
                    spec.name,
                    attempt,
                    attempts,
                    error,
                )
                if attempt == attempts:
                    raise StoreRetryableError(
                        f"table {spec.name!r}: {attempts} commit attempts failed, last: {error}; "
                        f"its {batch.num_rows} rows stay buffered"
                    ) from error
                time.sleep(self._settings.retry_backoff_seconds * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _commit(self, spec: TableSpec, batch: pa.Table) -> TableFlush:
        state = self._state(spec)
        state.handle.update_incremental()
        self._check_sequence(spec, state)
        before = state.handle.version()
        sequence = state.sequence + 1
        properties = CommitProperties(app_transactions=[Transaction(self._app_id, sequence)])
        if spec.mode is WriteMode.APPEND:
            rows = self._new_rows(spec, state, batch)
            if rows.num_rows:
                write_deltalake(state.handle, rows, mode="append", commit_properties=properties)
                self._advance_newest(spec, state, rows, before)
        else:
            rows, entities = _changed_entities(spec, state, batch)
            if rows.num_rows:
                _merge(spec, state.handle, rows, properties)
            _remember(state, entities, before)
        after = state.handle.version()
        if after == before:
            return TableFlush(spec.name, 0, after, None)
        state.sequence = sequence
        self._after_commit(spec, state, rows)
        return TableFlush(spec.name, rows.num_rows, after, sequence)

    def _new_rows(self, spec: TableSpec, state: _TableState, batch: pa.Table) -> pa.Table:
        """``batch`` without rows already in the table. Events newer than the newest event
        time in the table cannot be there, so the look-up is skipped for them (the usual
        case: only replays and batches sharing a timestamp with the last one read keys)."""
        assert spec.time_column is not None
        earliest = pc.min(batch.column(spec.time_column)).as_py()
        if state.newest_at_version != state.handle.version():
            state.newest = _newest_event(spec, state.handle)
            state.newest_at_version = state.handle.version()
        if state.newest is not None and earliest > state.newest:
            return batch
        return _without_existing(spec, state.handle, batch, earliest)

    @staticmethod
    def _advance_newest(spec: TableSpec, state: _TableState, rows: pa.Table, before: int) -> None:
        """Keep the newest event time current across our own commit (version ``before``+1)."""
        assert spec.time_column is not None
        if state.newest is None or state.newest_at_version != before:
            return
        newest_written = pc.max(rows.column(spec.time_column)).as_py()
        state.newest = max(state.newest, newest_written)
        state.newest_at_version = state.handle.version()

    def _check_sequence(self, spec: TableSpec, state: _TableState) -> None:
        in_table = state.handle.transaction_version(self._app_id) or 0
        if in_table != state.sequence:
            raise WriterConflictError(
                f"table {spec.name!r}: app id {self._app_id!r} is at sequence {in_table} in "
                f"the table but this writer last committed {state.sequence}: another process "
                "writes under the same app id; give each writer its own"
            )

    def _landed(self, spec: TableSpec) -> TableFlush | None:
        """After a failed commit: reload the table; if it holds our next sequence, the commit
        landed (the failure came after it), so report it instead of writing it again."""
        state = self._tables.get(spec.name)
        if state is None:
            return None
        handle = ensure_table(self._location, spec)
        state.handle = handle
        expected = state.sequence + 1
        if (handle.transaction_version(self._app_id) or 0) != expected:
            return None
        state.sequence = expected
        state.commits_since_compaction += 1
        return TableFlush(spec.name, 0, handle.version(), expected)

    def _after_commit(self, spec: TableSpec, state: _TableState, rows: pa.Table) -> None:
        state.commits_since_compaction += 1
        state.touched_partitions.update(_partition_values(spec, rows))
        now = self._clock()
        due = state.commits_since_compaction >= self._settings.compact_every_commits or (
            now - state.last_compaction >= self._settings.compact_interval_seconds
        )
        if not due:
            return
        try:
            compact_partitions(state.handle, spec, sorted(state.touched_partitions))
        except RETRYABLE as error:
            log.warning("compaction of %s skipped, will retry later: %s", spec.name, error)
            return
        if state.committed_at_version == state.handle.version() - 1:
            state.committed_at_version = state.handle.version()
        state.commits_since_compaction = 0
        state.last_compaction = now
        state.touched_partitions.clear()


_CATALOG_ORDER = {spec.name: rank for rank, spec in enumerate(ALL_TABLES)}


def _replayed_spec(wal: WriteAheadLog, record: WalRecord) -> TableSpec:
    """The catalog's spec of a logged table; a log from an older schema version replays
    into the current one (its missing columns are nullable)."""
    try:
        spec = table_spec(record.table)
    except ValueError as error:
        raise WriteAheadLogError(f"write-ahead log {wal.path}: {error}") from error
    if record.version > spec.version:
        raise WriteAheadLogError(
            f"write-ahead log {wal.path}: rows of table {spec.name!r} at schema version "
            f"{record.version}, this V6 writes version {spec.version}: replay it with the V6 "
            "that wrote it"
        )
    return spec


def _commit_rank(name: str) -> tuple[int, str]:
    """Catalog order (children first); tables outside the catalog last, by name."""
    return (_CATALOG_ORDER.get(name, len(_CATALOG_ORDER)), name)


def _quoted(alias: str, column: str) -> str:
    return f'{alias}."{column}"'


def _merge(spec: TableSpec, table: DeltaTable, batch: pa.Table, props: CommitProperties) -> None:
    on_key = " AND ".join(f"{_quoted('t', k)} = {_quoted('s', k)}" for k in spec.key)
    merger = table.merge(batch, on_key, source_alias="s", target_alias="t", commit_properties=props)
    if spec.tracked_columns:
        changed = " OR ".join(
            f"({_quoted('t', c)} IS DISTINCT FROM {_quoted('s', c)})" for c in spec.tracked_columns
        )
        merger = merger.when_matched_update_all(predicate=changed)
    merger.when_not_matched_insert_all().execute()


Entities = dict[tuple[object, ...], tuple[object, ...]]
"""Tracked values by key, of rows a merge table holds."""


def _changed_entities(
    spec: TableSpec, state: _TableState, batch: pa.Table
) -> tuple[pa.Table, Entities]:
    """``batch`` without the rows identical (key and tracked values) to rows this writer
    committed, if the table is still at the version of that commit; and every row's
    tracked values by key."""
    keys = list(zip(*(batch.column(name).to_pylist() for name in spec.key), strict=True))
    tracked = [batch.column(name).to_pylist() for name in spec.tracked_columns]
    values = list(zip(*tracked, strict=True)) if tracked else [()] * len(keys)
    entities = dict(zip(keys, values, strict=True))
    known = state.committed if state.committed_at_version == state.handle.version() else {}
    changed = [i for i, key in enumerate(keys) if known.get(key) != values[i]]
    if len(changed) == batch.num_rows:
        return batch, entities
    return batch.take(pa.array(changed, pa.int64())), entities


def _remember(state: _TableState, entities: Entities, before: int) -> None:
    """After a merge of ``entities`` into the table at version ``before``: the rows it holds
    now, if every earlier commit since the last remembered one was ours."""
    if state.committed_at_version != before:
        state.committed = {}
    state.committed.update(entities)
    state.committed_at_version = state.handle.version()


def _without_existing(
    spec: TableSpec, table: DeltaTable, batch: pa.Table, earliest: datetime
) -> pa.Table:
    """``batch`` without the rows whose key the table holds at or after ``earliest``."""
    assert spec.time_column is not None
    filters: list[Filter] = [(spec.time_column, ">=", earliest)]
    for name in spec.partition_by:
        filters.append((name, "in", pc.unique(batch.column(name)).to_pylist()))
    existing = read_version(spec, table, spec.key, filters)
    if existing.num_rows == 0:
        return batch
    return batch.join(existing, keys=list(spec.key), join_type="left anti")


def _newest_event(spec: TableSpec, table: DeltaTable) -> datetime | None:
    """An upper bound of the newest event time in the table, from file statistics (which
    keep milliseconds, hence the extra millisecond); the oldest time for an empty table;
    None when a file has no statistics (then every batch is looked up)."""
    files = pa.table(table.get_add_actions(flatten=True))
    if files.num_rows == 0:
        return datetime.min.replace(tzinfo=UTC)
    column = f"max.{spec.time_column}"
    if column not in files.column_names or files.column(column).null_count:
        return None
    newest: datetime = pc.max(files.column(column)).as_py()
    return newest + STATISTICS_PRECISION


def _one_per_key(spec: TableSpec, batch: pa.Table) -> pa.Table:
    """One row per key: the last for entities (their latest state), the first for events
    (a repeat is a replay)."""
    indexed = batch.append_column(_ROW_INDEX, pa.array(range(batch.num_rows), pa.int64()))
    pick = "max" if spec.mode is WriteMode.MERGE else "min"
    chosen = indexed.group_by(list(spec.key), use_threads=False).aggregate([(_ROW_INDEX, pick)])
    if chosen.num_rows == batch.num_rows:
        return batch
    rows = chosen.column(f"{_ROW_INDEX}_{pick}").combine_chunks()
    return batch.take(pc.take(rows, pc.sort_indices(rows)))


def _partition_values(spec: TableSpec, rows: pa.Table) -> set[tuple[str, ...]]:
    if not spec.partition_by:
        return {()}
    columns = [pc.cast(rows.column(name), pa.string()) for name in spec.partition_by]
    return set(zip(*(column.to_pylist() for column in columns), strict=True))
