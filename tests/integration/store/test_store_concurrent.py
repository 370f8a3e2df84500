"""A reader process polls while a writer process flushes, compacts and vacuums.

The writer commits numbered batches: an iron condor with its four legs, and one snapshot
per leg per minute for 25 minutes (100 rows). It compacts every three commits and, harsher
than production (which never vacuums under 24 hours), vacuums replaced files at once after
every batch. The reader must never fail and never see part of a batch: every strategy it
reads has its four legs, and every batch's snapshots are all there or not there at all.

This file is also both programs: ``python test_store_concurrent.py writer|reader DATA_DIR``.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from deltalake import DeltaTable

from v6.domain import Leg, OptionContract, Right, Strategy, StrategyKind, StrategyStatus
from v6.store import LegSnapshot, Store, StoreLocation, WriterSettings
from v6.store.catalog import POSITION_SNAPSHOTS

T0 = datetime(2024, 1, 2, 14, 30, tzinfo=UTC)
BATCHES = 30
MINUTES = 25
DONE = "writer.done"


def _condor(batch: int) -> Strategy:
    expiry = date(2024, 2, 16)
    shape = ((430, Right.PUT, 1), (440, Right.PUT, -1), (470, Right.CALL, -1), (480, Right.CALL, 1))
    legs = tuple(Leg(OptionContract("SPY", expiry, k, right), q) for k, right, q in shape)
    return Strategy(
        f"ic-{batch:03d}", StrategyKind.IRON_CONDOR, legs, status=StrategyStatus.OPEN,
        entry_premium=2.0, opened_at=T0,
    )  # fmt: skip


def run_writer(data_dir: Path) -> None:
    location = StoreLocation(str(data_dir))
    store = Store(location, "engine", WriterSettings(compact_every_commits=3))
    for batch in range(BATCHES):
        strategy = _condor(batch)
        store.strategies.save([strategy], at=T0)
        store.snapshots.record(
            LegSnapshot(strategy.strategy_id, leg.contract, T0 + timedelta(minutes=m), mark=1.0)
            for leg in strategy.legs
            for m in range(MINUTES)
        )
        store.flush()
        snapshots = DeltaTable(location.table_uri(POSITION_SNAPSHOTS.name))
        snapshots.vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=False)
    (data_dir / DONE).touch()


class _RetryCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.retries = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.retries += 1


def run_reader(data_dir: Path) -> None:
    counter = _RetryCounter()
    logging.getLogger("v6.store.readers").addHandler(counter)
    logging.getLogger("v6.store.readers").setLevel(logging.INFO)
    store = Store(StoreLocation(str(data_dir)))
    polls, finished = 0, False
    while not finished:
        finished = (data_dir / DONE).exists()
        strategies = store.strategies.live()
        per_batch = Counter(store.snapshots.day(T0.date()).column("strategy_id").to_pylist())
        partial = {batch: n for batch, n in per_batch.items() if n != 4 * MINUTES}
        if partial:
            raise AssertionError(f"partial batches seen: {partial}")
        polls += 1
    summary = {"polls": polls, "strategies": len(strategies), "batches": len(per_batch)}
    print(json.dumps({**summary, "retries": counter.retries}))


def _start(role: str, data_dir: Path) -> subprocess.Popen[str]:
    command = [sys.executable, __file__, role, str(data_dir)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_reader_never_fails_nor_sees_part_of_a_batch(tmp_path: Path) -> None:
    reader = _start("reader", tmp_path)
    writer = _start("writer", tmp_path)
    _, writer_errors = writer.communicate(timeout=120)
    assert writer.returncode == 0, writer_errors
    output, reader_errors = reader.communicate(timeout=60)
    assert reader.returncode == 0, reader_errors
    summary = json.loads(output)
    assert summary["polls"] > 1
    assert (summary["strategies"], summary["batches"]) == (BATCHES, BATCHES)


if __name__ == "__main__":
    role, directory = sys.argv[1], Path(sys.argv[2])
    (run_writer if role == "writer" else run_reader)(directory)
