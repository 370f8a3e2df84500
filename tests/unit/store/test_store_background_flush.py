"""The writer's background flush on real local tables: rows added while it commits follow it,
its failures surface on the next call with nothing lost, and a writer reopened after an
interrupted one replays the sealed log before the newer rows."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import v6.store.writer as writer_module
from v6.store import (
    StoreLocation,
    StoreReader,
    StoreRetryableError,
    StoreWriter,
    WriterConflictError,
    WriterSettings,
)
from v6.store.catalog import POSITION_SNAPSHOTS, STRATEGIES
from v6.store.wal import read_records, wal_path

T0 = datetime(2024, 1, 2, 15, 0, tzinfo=UTC)
APP = "engine"
INTERVAL = 5.0


def _snapshot(minute: int, mark: float = 1.0) -> dict[str, object]:
    at = T0 + timedelta(minutes=minute)
    return {
        "trade_date": at.date(),
        "at": at,
        "strategy_id": "ic-1",
        "occ_symbol": "SPY   240216P00440000",
        "mark": mark,
    }


def _strategy(status: str) -> dict[str, object]:
    return {
        "strategy_id": "ic-1",
        "kind": "iron_condor",
        "status": status,
        "quantity": 1,
        "defined_risk": True,
        "updated_at": T0,
    }


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _writer(location: StoreLocation, clock: _Clock, attempts: int = 5) -> StoreWriter:
    settings = WriterSettings(flush_interval_seconds=INTERVAL, max_attempts=attempts)
    return StoreWriter(location, APP, settings, clock=clock)


def _start_background_flush(writer: StoreWriter, clock: _Clock) -> None:
    clock.now += INTERVAL
    assert writer.flush_if_due() == []


def _wait_for_background_flushes() -> None:
    for thread in threading.enumerate():
        if thread.name.startswith("v6-store-flush-"):
            thread.join()


def _log(location: StoreLocation) -> Path:
    return wal_path(location.root, APP)


def _sealed(location: StoreLocation) -> list[str]:
    return sorted(path.name for path in _log(location).parent.glob(f"{APP}.wal.*"))


def _statuses(location: StoreLocation) -> list[str]:
    rows = StoreReader(location).read(STRATEGIES, columns=["status"]).to_pylist()
    return [row["status"] for row in rows]


def _marks(location: StoreLocation) -> list[float]:
    rows = StoreReader(location).read(POSITION_SNAPSHOTS, columns=["at", "mark"]).to_pylist()
    return [row["mark"] for row in sorted(rows, key=lambda row: row["at"])]


class _Gate:
    """Holds the background thread's merges until ``open``; then ``then`` runs instead of
    the real merge (by default the real merge). Merges in the test's own thread pass."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.entered, self._opened = threading.Event(), threading.Event()
        self.then: Callable[..., None] = writer_module._merge
        real = writer_module._merge

        def held(*args: object) -> None:
            if threading.current_thread() is threading.main_thread():
                real(*args)
                return
            self.entered.set()
            self._opened.wait(timeout=30)
            self.then(*args)

        monkeypatch.setattr(writer_module, "_merge", held)

    def open(self) -> None:
        self._opened.set()


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Gate]:
    held = _Gate(monkeypatch)
    yield held
    held.open()
    _wait_for_background_flushes()


def test_rows_added_while_a_flush_commits_in_the_background_follow_it(
    location: StoreLocation, gate: _Gate
) -> None:
    clock = _Clock()
    writer = _writer(location, clock)
    writer.add(STRATEGIES, [_strategy("open")])
    writer.add(POSITION_SNAPSHOTS, [_snapshot(0)])
    _start_background_flush(writer, clock)
    assert gate.entered.wait(timeout=30)

    writer.add(STRATEGIES, [_strategy("closing")])
    writer.add(POSITION_SNAPSHOTS, [_snapshot(0, mark=9.0), _snapshot(5, mark=2.0)])
    writer.make_durable()
    assert writer.flush_if_due() == []  # one flush at a time: the first still commits
    assert writer.pending_rows == 5
    assert _sealed(location) == [f"{APP}.wal.1"]
    assert [len(record.rows) for record in read_records(_log(location))] == [1, 2]

    gate.open()
    flushed = writer.flush()

    assert sorted((f.table, f.rows) for f in flushed) == [
        ("position_snapshots", 1),
        ("position_snapshots", 1),
        ("strategies", 1),
        ("strategies", 1),
    ]
    assert _statuses(location) == ["closing"]
    assert _marks(location) == [1.0, 2.0]
    assert writer.pending_rows == 0
    assert _sealed(location) == []
    assert _log(location).stat().st_size == 0


def test_a_failed_background_commit_is_raised_by_the_next_call_and_its_rows_stay(
    location: StoreLocation,
) -> None:
    clock = _Clock()
    writer = _writer(location, clock)
    writer.add(STRATEGIES, [_strategy("open")])
    writer.flush()
    intruder = StoreWriter(location, APP)
    intruder.add(STRATEGIES, [_strategy("closing")])
    intruder.flush()
    writer.add(STRATEGIES, [_strategy("closed")])
    writer.add(POSITION_SNAPSHOTS, [_snapshot(0)])
    _start_background_flush(writer, clock)
    writer.add(STRATEGIES, [_strategy("expired")])
    writer.make_durable()
    _wait_for_background_flushes()

    with pytest.raises(WriterConflictError, match="another process writes under the same"):
        writer.flush_if_due()

    assert writer.pending_rows == 3
    assert _sealed(location) == [f"{APP}.wal.1"]
    del writer, intruder
    restarted = StoreWriter(location, APP)
    assert _statuses(location) == ["expired"]
    assert _marks(location) == [1.0]
    assert restarted.pending_rows == 0
    assert _sealed(location) == []


def test_after_a_failed_background_commit_the_next_flush_commits_every_row_in_order(
    location: StoreLocation, gate: _Gate
) -> None:
    def fail(*args: object) -> None:
        raise OSError("object storage did not answer")

    gate.then = fail
    clock = _Clock()
    writer = _writer(location, clock, attempts=1)
    writer.add(POSITION_SNAPSHOTS, [_snapshot(0)])
    writer.add(STRATEGIES, [_strategy("open")])
    _start_background_flush(writer, clock)
    assert gate.entered.wait(timeout=30)
    writer.add(STRATEGIES, [_strategy("closing")])
    writer.add(POSITION_SNAPSHOTS, [_snapshot(5)])
    gate.open()

    with pytest.raises(StoreRetryableError, match="its 1 rows stay buffered"):
        writer.flush()

    assert writer.pending_rows == 4
    writer.make_durable()
    assert [len(record.rows) for record in read_records(_log(location))] == [1, 1]
    flushed = writer.flush()
    assert sorted((f.table, f.rows) for f in flushed) == [
        ("position_snapshots", 2),
        ("strategies", 1),
    ]
    assert _statuses(location) == ["closing"]
    assert _marks(location) == [1.0, 1.0]
    assert (_sealed(location), _log(location).stat().st_size) == ([], 0)


def test_a_writer_reopened_after_an_interrupted_background_commit_replays_it_first(
    location: StoreLocation, gate: _Gate
) -> None:
    def killed(*args: object) -> None:
        raise OSError("killed")

    gate.then = killed
    clock = _Clock()
    interrupted = _writer(location, clock, attempts=1)
    interrupted.add(STRATEGIES, [_strategy("open")])
    interrupted.add(POSITION_SNAPSHOTS, [_snapshot(0)])
    _start_background_flush(interrupted, clock)
    assert gate.entered.wait(timeout=30)
    interrupted.add(STRATEGIES, [_strategy("closing")])
    interrupted.add(POSITION_SNAPSHOTS, [_snapshot(5, mark=2.0)])
    interrupted.make_durable()

    restarted = StoreWriter(location, APP)

    assert _statuses(location) == ["closing"]
    assert _marks(location) == [1.0, 2.0]
    assert restarted.pending_rows == 0
    assert (_sealed(location), _log(location).stat().st_size) == ([], 0)
