"""Crash safety with real process kills.

A writer process commits numbered batches (events to ``position_snapshots``, entity updates to
``strategies``) and records each batch number in an acknowledgement log once ``flush()`` has
returned - or, in the ``durable`` mode, once ``make_durable()`` has returned, while due
flushes commit in the background. The test SIGKILLs it at random moments, restarts it, and
each restart replays from its last acknowledged batch. After every kill (and, in the durable
mode, a writer's replay of the log): the tables open and read, no key appears twice, every
acknowledged snapshot is present, and no entity holds a state older than the last
acknowledged batch.

This file is also the writer program: ``python test_store_crash.py DATA_DIR ACK_LOG MODE``.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.compute as pc
import pytest

from v6.store import StoreLocation, StoreReader, StoreWriter, WriterSettings, maintain_table
from v6.store.catalog import POSITION_SNAPSHOTS, STRATEGIES

T0 = datetime(2024, 1, 2, 14, 30, tzinfo=UTC)
BATCHES = 60
LEGS_PER_BATCH = 40
STRATEGY_IDS = [f"s{i:02d}" for i in range(10)]
KILLS = 8
DURABLE_BATCH_PAUSE = 0.01
"""Seconds between the durable mode's batches, so kills land amid its background flushes."""


def _snapshot_rows(batch: int) -> list[dict[str, object]]:
    at = T0 + timedelta(seconds=batch)
    return [
        {"trade_date": at.date(), "at": at, "strategy_id": f"b{batch:03d}", "occ_symbol": f"L{leg}"}
        for leg in range(LEGS_PER_BATCH)
    ]


def _strategy_rows(batch: int) -> list[dict[str, object]]:
    return [
        {
            "strategy_id": strategy_id,
            "kind": "custom",
            "status": f"b{batch:03d}",
            "quantity": 1,
            "defined_risk": False,
            "updated_at": T0 + timedelta(seconds=batch),
        }
        for strategy_id in STRATEGY_IDS
    ]


def _acknowledged(log: Path) -> list[int]:
    """Batch numbers in the log; a line cut short by a kill (no newline) does not count."""
    if not log.exists():
        return []
    return [int(line) for line in log.read_text().splitlines(keepends=True) if line.endswith("\n")]


def run_writer(data_dir: str, log: Path, mode: str) -> None:
    interval = 0.02 if mode == "durable" else 3600.0
    settings = WriterSettings(
        flush_rows=10**6, flush_interval_seconds=interval, compact_every_commits=7
    )
    writer = StoreWriter(StoreLocation(data_dir), "engine", settings)
    done = _acknowledged(log)
    start = done[-1] if done else 0
    for spec in (POSITION_SNAPSHOTS, STRATEGIES):
        writer.committed_sequence(spec)  # open (or create) the tables before "ready"
    print("ready", flush=True)
    for batch in range(start, BATCHES):
        writer.add(POSITION_SNAPSHOTS, _snapshot_rows(batch))
        writer.add(STRATEGIES, _strategy_rows(batch))
        if mode == "durable":
            writer.make_durable()
        else:
            writer.flush()
        with log.open("a") as file:
            file.write(f"{batch}\n")
            file.flush()
            os.fsync(file.fileno())
        if mode == "durable":
            writer.flush_if_due()
            time.sleep(DURABLE_BATCH_PAUSE)
    writer.flush()


def _start(data_dir: Path, log: Path, mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, __file__, str(data_dir), str(log), mode],
        stdout=subprocess.PIPE,
        text=True,
    )


def _check_invariants(location: StoreLocation, log: Path, mode: str) -> None:
    if mode == "durable":
        StoreWriter(location, "engine")  # replays the log the killed writer left
    reader = StoreReader(location)
    snapshots = reader.read(POSITION_SNAPSHOTS, columns=["strategy_id", "occ_symbol", "at"])
    keys = set(zip(*(snapshots.column(c).to_pylist() for c in snapshots.column_names), strict=True))
    assert len(keys) == snapshots.num_rows, "a snapshot key appears twice"
    acknowledged = set(_acknowledged(log))
    batches = set(pc.unique(snapshots.column("strategy_id")).to_pylist())
    assert {f"b{batch:03d}" for batch in acknowledged} <= batches, (
        "an acknowledged batch is missing"
    )
    strategies = reader.read(STRATEGIES, columns=["strategy_id", "status"]).to_pylist()
    assert len({row["strategy_id"] for row in strategies}) == len(strategies)
    if acknowledged:
        assert sorted(row["strategy_id"] for row in strategies) == STRATEGY_IDS
        newest = f"b{max(acknowledged):03d}"
        assert all(row["status"] >= newest for row in strategies), "an acknowledged update is lost"


@pytest.mark.parametrize("mode", ["flush", "durable"])
def test_killed_writers_lose_nothing_acknowledged_and_duplicate_nothing(
    tmp_path: Path, mode: str
) -> None:
    data_dir, log = tmp_path / "data", tmp_path / "acks.log"
    location = StoreLocation(str(data_dir))
    chance = random.Random(20240102)
    for _ in range(KILLS):
        writer = _start(data_dir, log, mode)
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "ready"
        try:
            writer.wait(timeout=chance.uniform(0.1, 0.6))
        except subprocess.TimeoutExpired:
            writer.send_signal(signal.SIGKILL)
            writer.wait()
        _check_invariants(location, log, mode)
    finisher = _start(data_dir, log, mode)
    assert finisher.wait(timeout=60) == 0
    _check_invariants(location, log, mode)
    assert _acknowledged(log)[-1] == BATCHES - 1
    snapshots = StoreReader(location).read(POSITION_SNAPSHOTS, columns=["at"])
    assert snapshots.num_rows == BATCHES * LEGS_PER_BATCH
    assert maintain_table(location, POSITION_SNAPSHOTS, retention_hours=24).skipped is None
    assert StoreReader(location).read(POSITION_SNAPSHOTS).num_rows == BATCHES * LEGS_PER_BATCH


if __name__ == "__main__":
    run_writer(sys.argv[1], Path(sys.argv[2]), sys.argv[3])
