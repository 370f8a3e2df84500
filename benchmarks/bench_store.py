"""Speed and size of V6's Delta store, against plain deltalake calls measured in the same run.

Run: ``.venv/bin/python benchmarks/bench_store.py [--runs 5] [--python OTHER_PYTHON ...]``

Each figure is the median of ``--runs`` runs on fresh tables in a temporary directory. The
peer is what the same work costs without V6's guarantees: a blind ``write_deltalake`` append
(not idempotent: a replay duplicates rows), a plain ``DeltaTable.scan`` of the whole table,
and a writer that never compacts. The merge memory figure is the peak resident set (VmHWM,
Linux) of a separate process that merges 10,000 rows into a 1,000,000-row table;
``--python`` adds interpreters with other deltalake versions (they need deltalake and
pyarrow only).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow as pa
from deltalake import DeltaTable, write_deltalake
from rich.console import Console
from rich.table import Table

from v6.store import Store, StoreLocation, StoreWriter, WriterSettings
from v6.store.catalog import ORDERS, POSITION_SNAPSHOTS
from v6.store.rows import rows_to_table
from v6.store.schemas import TableSpec

DAY = date(2024, 1, 2)
OPEN = datetime(2024, 1, 2, 14, 30, tzinfo=UTC)
LEGS = 5_000
MARKS = 78
"""A 6.5-hour session at 5-minute marks."""


@dataclass(frozen=True)
class Figure:
    name: str
    v6: float
    peer: float | None
    unit: str
    target: str
    met: bool


def median_of(runs: int, measure: Callable[[Path], float]) -> float:
    values = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as folder:
            values.append(measure(Path(folder)))
    return statistics.median(values)


def orders(first: int, count: int, price: float) -> pa.Table:
    ids = np.arange(first, first + count)
    stamp = pa.array(np.full(count, 1_704_205_800_000_000), pa.int64()).cast(
        pa.timestamp("us", tz="UTC")
    )
    return pa.table(
        {
            "order_id": pa.array([f"O{i:09d}" for i in ids]),
            "strategy_id": pa.array([f"S{i // 4:08d}" for i in ids]),
            "intent": pa.array(["open"] * count),
            "order_ref": pa.array([f"S{i // 4:08d}:open:1" for i in ids]),
            "legs": pa.array(["+1 SPY   240216P00430000;-1 SPY   240216P00440000"] * count),
            "quantity": pa.array(np.ones(count, np.int32)),
            "limit_price": pa.array(np.full(count, price)),
            "status": pa.array(["submitted"] * count),
            "filled_quantity": pa.array(np.zeros(count, np.int32)),
            "submitted_at": stamp,
            "updated_at": stamp,
        }
    )


def _base_table(folder: Path) -> tuple[StoreWriter, Path]:
    writer = StoreWriter(StoreLocation(str(folder)), "bench", WriterSettings(flush_rows=10**7))
    writer.add(ORDERS, orders(0, 100_000, 1.0))
    writer.flush()
    return writer, folder / "tables" / "orders"


def upsert_and_replay(runs: int) -> list[Figure]:
    """10,000 rows (5,000 updates, 5,000 inserts) into 100,000, then the same batch again."""
    upserts, replays, new_versions, appends = [], [], [], []
    batch = rows_to_table(ORDERS, orders(95_000, 10_000, 2.0))
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as folder:
            writer, path = _base_table(Path(folder))
            upserts.append(_timed(partial(_flush, writer, ORDERS, batch)))
            before = DeltaTable(str(path)).version()
            replays.append(_timed(partial(_flush, writer, ORDERS, batch)))
            new_versions.append(DeltaTable(str(path)).version() - before)
            appends.append(_timed(partial(write_deltalake, str(path), batch, mode="append")))
    upsert, replay, append = (statistics.median(v) for v in (upserts, replays, appends))
    return [
        Figure("upsert 10k rows into 100k", upsert, append, "ms", "<= 150", upsert <= 150),
        Figure("replay of that batch", replay, append, "ms", "<= 100", replay <= 100),
        Figure(
            "new versions from the replay",
            max(new_versions),
            1,
            "",
            "0",
            max(new_versions) == 0,
        ),
    ]


def small_appends(runs: int) -> Figure:
    """p50 of flushing 10 snapshot rows, 100 times, into a table that grows."""

    def measure(folder: Path) -> tuple[float, float]:
        writer = StoreWriter(StoreLocation(str(folder)), "bench")
        plain = str(folder / "plain")
        ours, theirs = [], []
        for flush in range(100):
            rows = rows_to_table(POSITION_SNAPSHOTS, snapshot_rows(flush, legs=10))
            ours.append(_timed(partial(_flush, writer, POSITION_SNAPSHOTS, rows)))
            peer = partial(write_deltalake, plain, rows, mode="append", partition_by=["trade_date"])
            theirs.append(_timed(peer))
        return statistics.median(ours), statistics.median(theirs)

    results = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as folder:
            results.append(measure(Path(folder)))
    ours = statistics.median(r[0] for r in results)
    theirs = statistics.median(r[1] for r in results)
    return Figure("append 10 rows (p50)", ours, theirs, "ms", "<= 25", ours <= 25)


def snapshot_rows(mark: int, legs: int = LEGS) -> pa.Table:
    at = OPEN + timedelta(minutes=5 * mark)
    count = legs
    values = np.linspace(0.5, 5.0, count)
    return pa.table(
        {
            "trade_date": pa.array([DAY] * count, pa.date32()),
            "at": pa.array([at] * count, pa.timestamp("us", tz="UTC")),
            "strategy_id": pa.array([f"S{i // 4:05d}" for i in range(count)]),
            "occ_symbol": pa.array([f"SPY   240216P{400_000 + i:08d}" for i in range(count)]),
            **{name: pa.array(values) for name in ("bid", "ask", "mark", "implied_vol", "delta")},
        }
    )


def simulated_day(folder: Path, settings: WriterSettings) -> Path:
    """One session: every 5 minutes a snapshot of 5,000 legs, flushed 1,000 rows at a time,
    on a clock that advances 5 minutes per mark."""
    now = [0.0]
    writer = StoreWriter(StoreLocation(str(folder)), "bench", settings, clock=lambda: now[0])
    for mark in range(MARKS):
        snapshots = snapshot_rows(mark)
        for first in range(0, LEGS, settings.flush_rows):
            writer.add(POSITION_SNAPSHOTS, snapshots.slice(first, settings.flush_rows))
        now[0] += 300.0
    return folder / "tables" / "position_snapshots"


def day_figures(runs: int) -> list[Figure]:
    with tempfile.TemporaryDirectory() as folder:
        compacted = simulated_day(Path(folder) / "v6", WriterSettings(flush_rows=1_000))
        never = WriterSettings(flush_rows=1_000, compact_every_commits=10**6,
                               compact_interval_seconds=1e9)  # fmt: skip
        uncompacted = simulated_day(Path(folder) / "peer", never)
        files = len(DeltaTable(str(compacted)).file_uris())
        peer_files = len(DeltaTable(str(uncompacted)).file_uris())
        store = Store(StoreLocation(str(Path(folder) / "v6")))
        plain = DeltaTable(str(compacted))
        reads = [_timed(lambda: store.snapshots.day(DAY)) for _ in range(3 * runs)]
        peer_reads = [_timed(lambda: pa.table(plain.scan())) for _ in range(3 * runs)]
        rows = store.snapshots.day(DAY).num_rows
    read, peer_read = statistics.median(reads), statistics.median(peer_reads)
    return [
        Figure(f"read one day ({rows:,} snapshots)", read, peer_read, "ms", "<= 100", read <= 100),
        Figure("data files in the day's partition", files, peer_files, "", "<= 10", files <= 10),
    ]


MERGE_CHILD = """
import sys
import pyarrow as pa
from deltalake import DeltaTable
path = sys.argv[1]
table = DeltaTable(path)
ids = [f"O{i:09d}" for i in range(995_000, 1_005_000)]
source = pa.table({
    "order_id": pa.array(ids),
    "limit_price": pa.array([2.0] * len(ids)),
    "status": pa.array(["filled"] * len(ids)),
})
def kib(name):
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith(name + ":"))
    return int(line.split()[1])
before = kib("VmRSS")
changed = ' OR '.join(f'(t."{c}" IS DISTINCT FROM s."{c}")' for c in ("limit_price", "status"))
(table.merge(source, 't."order_id" = s."order_id"', source_alias="s", target_alias="t")
    .when_matched_update(updates={"limit_price": "s.limit_price", "status": "s.status"},
                         predicate=changed)
    .when_not_matched_insert(updates={"order_id": "s.order_id",
                                      "limit_price": "s.limit_price", "status": "s.status"})
    .execute())
after = kib("VmHWM")
import deltalake
print(deltalake.__version__, before // 1024, after // 1024)
"""


def merge_memory(pythons: list[str]) -> list[tuple[str, int, int]]:
    """(deltalake version, MiB before the merge, peak MiB) per interpreter."""
    results = []
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder) / "base"
        count = 1_000_000
        write_deltalake(
            str(base),
            pa.table(
                {
                    "order_id": pa.array([f"O{i:09d}" for i in range(count)]),
                    "limit_price": pa.array(np.ones(count)),
                    "status": pa.array(["submitted"] * count),
                }
            ),
        )
        for python in pythons:
            target = Path(folder) / "target"
            shutil.copytree(base, target)
            output = subprocess.run(
                [python, "-c", MERGE_CHILD, str(target)], capture_output=True, text=True, check=True
            ).stdout.split()
            results.append((output[0], int(output[1]), int(output[2])))
            shutil.rmtree(target)
    return results


def _flush(writer: StoreWriter, spec: TableSpec, rows: pa.Table) -> None:
    writer.add(spec, rows)
    writer.flush()


def _timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def print_figures(console: Console, figures: list[Figure]) -> None:
    table = Table(title="V6 store (median of runs; peer = plain deltalake, same run)")
    for name in ("measure", "V6", "peer", "V6 / peer", "target", "met"):
        table.add_column(name, justify="left" if name == "measure" else "right")
    for figure in figures:
        unit = f" {figure.unit}" if figure.unit else ""
        peer = "-" if figure.peer is None else f"{figure.peer:,.1f}{unit}"
        ratio = "-" if not figure.peer else f"{figure.v6 / figure.peer:.2f}"
        table.add_row(figure.name, f"{figure.v6:,.1f}{unit}", peer, ratio, figure.target,
                      "yes" if figure.met else "NO")  # fmt: skip
    console.print(table)


def print_memory(console: Console, results: list[tuple[str, int, int]]) -> None:
    table = Table(title="Peak memory: merge 10,000 rows into 1,000,000 (separate process)")
    for name in ("deltalake", "RSS before merge", "peak RSS", "merge adds"):
        table.add_column(name, justify="right")
    for version, before, peak in results:
        table.add_row(version, f"{before} MiB", f"{peak} MiB", f"{peak - before} MiB")
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--python",
        action="append",
        default=[],
        help="another interpreter (another deltalake version) for the merge memory figure",
    )
    args = parser.parse_args()
    console = Console()
    figures = [*upsert_and_replay(args.runs), small_appends(args.runs), *day_figures(args.runs)]
    print_figures(console, figures)
    print_memory(console, merge_memory([sys.executable, *args.python]))


if __name__ == "__main__":
    main()
