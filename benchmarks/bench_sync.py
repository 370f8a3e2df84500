"""Position sync against IB's physical limits, on the simulated exchange in simulated time.

Run: ``.venv/bin/python benchmarks/bench_sync.py``

Books of 500, 2,000 and 5,000 open contracts (iron condors and verticals on SPY, QQQ and
IWM, every contract in one strategy only; one strategy in 25 sits near its profit target and
one in 200 is being exited, so the registry always has more candidates than lines) are synced
by the engine's loop - a sync cycle every 5 simulated seconds, the queue worker in between -
from the open of 2024-03-04, at the default configuration (10 streaming lines, snapshots and
line changes at 45 messages per second with a burst of 4) against a broker enforcing IB's
limits (50 messages per second, 100 lines).

* Mark age: every snapshot request is timed; after a warm-up of one and a half rotations,
  the worst age a non-active leg's mark reaches - the longest gap between two refreshes of
  a contract that never streamed, over two rotations - is set against the physical floor
  ``N / 50``: the time IB needs to answer one snapshot of each of the ``N`` legs at its
  pacing limit. Target: <= 1.2 x the floor.
* Lines: the most lines held at once (target <= 10), and the broker's 100/101 errors (0).
* CPU time of one sync cycle (`PositionSync.cycle`: broker events, book frame, registry,
  lines, queue priorities, snapshot records to the store's buffer), median and 95th
  percentile of the steady cycles, for the 5,000-contract book (target <= 20 ms); then the
  same for cycles in which one strategy changed (resized: its rows of the book and its legs
  are rebuilt). The peer, measured in the same run on the same marks: building the same book
  frame from the strategies with ``v6.book.build_book`` every cycle, as a straightforward sync
  would.

One core (POLARS_MAX_THREADS=1); CPU time is process time.
"""

from __future__ import annotations

import os

os.environ["POLARS_MAX_THREADS"] = "1"
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import asyncio  # noqa: E402
import dataclasses  # noqa: E402
import itertools  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import date, datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration" / "sync"))

from sync_books import near_take_profit, open_at_exchange, spread_book  # noqa: E402

from v6.book import build_book  # noqa: E402
from v6.brokers import ErrorEvent, Quote  # noqa: E402
from v6.brokers.sim import Simulation, open_simulation  # noqa: E402
from v6.config import V6Config  # noqa: E402
from v6.config.broker import BrokerConfig, SimConfig  # noqa: E402
from v6.domain import Contract, Strategy, StrategyStatus  # noqa: E402
from v6.market.simulated import SimulatedMarket  # noqa: E402
from v6.store import Store, StoreLocation, WriterSettings  # noqa: E402
from v6.sync import PositionSync, is_unmanaged  # noqa: E402
from v6.sync.frame import held  # noqa: E402

BOOKS = (500, 2_000, 5_000)
SIM = SimConfig(
    symbols=("SPY", "QQQ", "IWM"), start_date=date(2024, 3, 4), end_date=date(2024, 3, 8)
)
CONFIG = V6Config(broker=BrokerConfig(sim=SIM))
PACING = CONFIG.broker.pacing_messages_per_second
AGE_TARGET = 1.2
CPU_TARGET_MS = 20.0
LINE_TARGET = 10
PEER_REPEATS = 7
CHANGE_CYCLES = 9


@dataclass
class Measured:
    contracts: int
    strategies: int
    worst_age: float = 0.0
    most_lines: int = 0
    pacing_and_line_errors: int = 0
    cycle_cpu: list[float] = field(default_factory=list)
    change_cpu: list[float] = field(default_factory=list)
    peer_cpu: list[float] = field(default_factory=list)

    @property
    def floor(self) -> float:
        return self.contracts / PACING


class Recorder:
    """Times every snapshot request that the broker answered."""

    def __init__(self, sim: Simulation) -> None:
        self.refreshed: defaultdict[Contract, list[datetime]] = defaultdict(list)
        self._sim = sim
        self._snapshot = sim.broker.snapshot_quotes
        sim.broker.snapshot_quotes = self._timed  # type: ignore[method-assign]

    async def _timed(self, contracts: Sequence[Contract]) -> tuple[Quote, ...]:
        quotes = await self._snapshot(contracts)
        now = self._sim.clock.now()
        for contract in contracts:
            self.refreshed[contract].append(now)
        return quotes

    def worst_gap(self, start: datetime, end: datetime, never_streamed: set[Contract]) -> float:
        """The oldest any of these contracts' marks got between ``start`` and ``end``: the
        longest gap between two refreshes (the last one before ``start`` included)."""
        worst = 0.0
        for contract, times in self.refreshed.items():
            if contract not in never_streamed:
                continue
            before = max((t for t in times if t < start), default=start)
            inside = [before, *(t for t in times if start <= t <= end), end]
            gaps = (b - a for a, b in itertools.pairwise(inside))
            worst = max(worst, max(gaps).total_seconds())
        return worst


def book_of(market: SimulatedMarket, contracts: int) -> list[Strategy]:
    strategies = near_take_profit(spread_book(market, contracts), every=25)
    return [
        dataclasses.replace(s, status=StrategyStatus.CLOSING) if index % 200 == 0 else s
        for index, s in enumerate(strategies)
    ]


async def measure(contracts: int) -> Measured:
    market = SimulatedMarket(SIM)
    strategies = book_of(market, contracts)
    sim = open_simulation(market, CONFIG.broker)
    open_at_exchange(sim.exchange, strategies)
    await sim.broker.connect()
    errors = sim.broker.events()
    recorder = Recorder(sim)
    settings = WriterSettings(flush_rows=10**9, flush_interval_seconds=1e9)
    store = Store(StoreLocation(tempfile.mkdtemp()), app_id="bench", settings=settings)
    sync = PositionSync.from_config(sim.broker, sim.clock, store, CONFIG)
    result = Measured(sum(len(s.legs) for s in strategies), len(strategies))
    rotation = result.contracts / CONFIG.sync.snapshot_rate_per_second
    start = sim.clock.now()
    warm = start + timedelta(seconds=1.5 * rotation)
    end = warm + timedelta(seconds=2 * rotation)
    streamed: set[Contract] = set()
    live = list(strategies)
    while sim.clock.now() < end:
        before = time.process_time()
        cycle = await sync.cycle(live)
        spent = time.process_time() - before
        live = list(cycle.strategies)
        streamed |= set(sync.lines)
        result.most_lines = max(result.most_lines, cycle.status.lines)
        if sim.clock.now() >= warm and cycle.reconciliation is None:
            result.cycle_cpu.append(spent)
        await sync.run_until(min(sim.clock.now() + timedelta(seconds=5), end))
    never_streamed = {leg.contract for s in live for leg in s.legs} - streamed
    result.worst_age = recorder.worst_gap(warm, end, never_streamed)
    codes = [e.code for e in errors.drain() if isinstance(e, ErrorEvent)]
    result.pacing_and_line_errors = sum(code in (100, 101) for code in codes)
    result.change_cpu = await changing_cycles(live, sync, sim)
    result.peer_cpu = peer_cycles(live, sync)
    sync.close()
    return result


async def changing_cycles(
    strategies: list[Strategy], sync: PositionSync, sim: Simulation
) -> list[float]:
    """CPU time of cycles in which one strategy (a different one each time) is resized."""
    live, times = list(strategies), []
    for index in range(CHANGE_CYCLES):
        live[index] = dataclasses.replace(live[index], quantity=live[index].quantity + 1)
        before = time.process_time()
        cycle = await sync.cycle(live)
        times.append(time.process_time() - before)
        live = list(cycle.strategies)
        await sync.run_until(sim.clock.now() + timedelta(seconds=5))
    return times


def peer_cycles(strategies: list[Strategy], sync: PositionSync) -> list[float]:
    """CPU time of building the book from the strategies every cycle (``build_book``)."""
    marks = sync.quotes()
    book = held(strategies)
    unmanaged = {s.strategy_id for s in book if is_unmanaged(s)}
    times = []
    for _ in range(PEER_REPEATS):
        before = time.process_time()
        build_book(book, marks, unmanaged=unmanaged)
        times.append(time.process_time() - before)
    return times


def ms(values: Sequence[float], quantile: float = 0.5) -> float:
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(quantile * len(ordered)))]


def report(results: list[Measured]) -> None:
    print("position sync on the simulated exchange, simulated time, one core")
    print(
        f"limits: {PACING:g} messages/s, {CONFIG.broker.market_data_lines} lines; "
        f"sync: {CONFIG.sync.snapshot_rate_per_second:g}/s, burst {CONFIG.sync.snapshot_burst}, "
        f"{CONFIG.sync.streaming_lines} streaming lines\n"
    )
    print(
        f"  {'contracts':>9} {'strategies':>10} {'floor N/50':>11} {'worst age':>10} "
        f"{'ratio':>6}  {'lines':>5}  {'100/101':>7}"
    )
    for r in results:
        ratio = r.worst_age / r.floor
        verdict = "met" if ratio <= AGE_TARGET and r.most_lines <= LINE_TARGET else "MISSED"
        print(
            f"  {r.contracts:>9,} {r.strategies:>10,} {r.floor:>10.1f}s {r.worst_age:>9.1f}s "
            f"{ratio:>5.2f}x  {r.most_lines:>5}  {r.pacing_and_line_errors:>7}   "
            f"target <= {AGE_TARGET}x, <= {LINE_TARGET} lines: {verdict}"
        )
    largest = results[-1]
    median, p95 = ms(largest.cycle_cpu), ms(largest.cycle_cpu, 0.95)
    peer = ms(largest.peer_cpu)
    verdict = "met" if median <= CPU_TARGET_MS else "MISSED"
    print(
        f"\nCPU per sync cycle, {largest.contracts:,} contracts "
        f"({len(largest.cycle_cpu)} steady cycles):"
    )
    print(
        f"  median {median:6.2f} ms   p95 {p95:6.2f} ms   target <= {CPU_TARGET_MS:g} ms: {verdict}"
    )
    print(
        f"  with one strategy changed: median {ms(largest.change_cpu):6.2f} ms "
        f"({len(largest.change_cpu)} cycles)"
    )
    print(
        f"  peer: build_book from the strategies every cycle {peer:6.2f} ms "
        f"(the frame alone) = {peer / median:4.1f} x a whole sync cycle"
    )


def main() -> None:
    results = []
    for contracts in BOOKS:
        began = time.perf_counter()
        results.append(asyncio.run(measure(contracts)))
        print(f"  ({contracts:,} contracts measured in {time.perf_counter() - began:.1f} s)")
    print()
    report(results)


if __name__ == "__main__":
    main()
