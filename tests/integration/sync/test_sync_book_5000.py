"""Position sync on the simulated exchange with a book of 5,000 open contracts.

One run, several checks. The book: ~1,600 iron condors and verticals on SPY, QQQ and IWM (every
contract in one strategy only), one strategy in 25 re-priced to sit near its profit target
and one in 200 being exited (CLOSING), so the registry has more candidates than the ten
lines. The broker allows exactly ten lines, so a line too many would be refused (101) by the
broker itself. The engine's loop runs for nine simulated minutes from the open of 2024-03-04;
four minutes in, connectivity is lost for a minute (1100/2103, then 1102/2104).
"""

from __future__ import annotations

import asyncio
import bisect
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from sync_books import near_take_profit, open_at_exchange, run_cycles, spread_book

from v6.brokers import BrokerEvent, ErrorEvent, EventStream, QuoteEvent
from v6.brokers.sim import open_simulation
from v6.config import V6Config
from v6.config.broker import BrokerConfig, SimConfig
from v6.domain import OptionContract, Strategy, StrategyStatus
from v6.market.simulated import SimulatedMarket
from v6.store import Store, StoreLocation
from v6.sync import PositionSync, SyncCycle

CONTRACTS = 5_000
LINES = 10
PACING = 50.0
FLOOR_SECONDS = CONTRACTS / PACING
"""The physical floor of the worst mark age: every leg once at the broker's pacing limit."""
TARGET = 1.2
OUTAGE_SECONDS = 60.0
START = datetime(2024, 3, 4, 14, 30, tzinfo=UTC)
"""The open of the first session."""
END = START + timedelta(minutes=9)
SIM = SimConfig(
    symbols=("SPY", "QQQ", "IWM"), start_date=date(2024, 3, 4), end_date=date(2024, 3, 8)
)
CONFIG = V6Config(broker=BrokerConfig(sim=SIM, market_data_lines=LINES))


@dataclass(repr=False)
class Run:
    """What the run observed: every cycle with the lines held after it, every broker event."""

    strategies: list[Strategy]
    cycles: list[SyncCycle] = field(default_factory=list)
    lines: list[dict[OptionContract, int]] = field(default_factory=list)
    events: list[BrokerEvent] = field(default_factory=list)
    outage_at: datetime = START
    restored_at: datetime = START
    snapshots: pl.DataFrame = field(default_factory=pl.DataFrame)

    def between(self, start: datetime, end: datetime) -> Iterator[SyncCycle]:
        return (c for c in self.cycles if start <= c.status.at < end)

    def lines_at(self, time: datetime, *, after: bool) -> dict[OptionContract, int]:
        """The lines after the last cycle before ``time``, or the first cycle from it on."""
        moments = [c.status.at for c in self.cycles]
        index = bisect.bisect_left(moments, time)
        return self.lines[index if after else index - 1]


def book() -> tuple[list[Strategy], SimulatedMarket]:
    market = SimulatedMarket(SIM)
    strategies = near_take_profit(spread_book(market, CONTRACTS), every=25)
    exiting = {s.strategy_id for s in strategies[::200]}
    strategies = [
        dataclasses.replace(s, status=StrategyStatus.CLOSING) if s.strategy_id in exiting else s
        for s in strategies
    ]
    return strategies, market


async def scenario(tmp: Path) -> Run:
    strategies, market = book()
    sim = open_simulation(market, CONFIG.broker)
    open_at_exchange(sim.exchange, strategies)
    await sim.broker.connect()
    watch: EventStream = sim.broker.events()
    store = Store(StoreLocation(str(tmp)), app_id="engine")
    sync = PositionSync.from_config(sim.broker, sim.clock, store, CONFIG)
    run = Run(strategies)
    assert sim.clock.now() == START

    def observe(result: SyncCycle) -> None:
        run.cycles.append(result)
        run.lines.append(dict(sync.lines))
        run.events.extend(watch.drain())

    live = await run_cycles(
        sync, sim.clock, store, strategies, START + timedelta(minutes=4), on_cycle=observe
    )
    run.outage_at = sim.clock.now()
    sim.broker.faults.disconnect(OUTAGE_SECONDS)
    run.restored_at = run.outage_at + timedelta(seconds=OUTAGE_SECONDS)
    await run_cycles(sync, sim.clock, store, live, END, on_cycle=observe)
    store.flush()
    run.snapshots = pl.from_arrow(store.snapshots.day(date(2024, 3, 4)))  # type: ignore[assignment]
    sync.close()
    return run


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return asyncio.run(scenario(tmp_path_factory.mktemp("sync")))


def test_the_book_holds_5000_contracts_in_more_than_500_strategies(run: Run) -> None:
    assert len(run.strategies) > 500
    assert sum(len(s.legs) for s in run.strategies) == CONTRACTS


def test_never_more_than_the_line_budget_and_no_pacing_error(run: Run) -> None:
    assert max(c.status.lines for c in run.cycles) == LINES
    codes = [e.code for e in run.events if isinstance(e, ErrorEvent)]
    assert 100 not in codes
    assert 101 not in codes
    final = run.cycles[-1].status
    assert final.worker.pacing_errors == 0
    assert final.line_budget == LINES


def test_every_leg_is_refreshed_and_recorded(run: Run) -> None:
    final = run.cycles[-1]
    assert final.book.height == CONTRACTS
    assert final.book["mark"].null_count() == 0
    assert final.status.unmarked_legs == 0
    recorded = run.snapshots.select("strategy_id", "occ_symbol").unique()
    assert recorded.height == CONTRACTS


def test_marks_stay_within_the_target_of_the_physical_floor(run: Run) -> None:
    settled = START + timedelta(seconds=2 * FLOOR_SECONDS)
    worst = max(c.status.oldest_mark_seconds or 0.0 for c in run.between(settled, run.outage_at))
    assert worst <= TARGET * FLOOR_SECONDS


def test_strategies_near_a_trigger_and_in_flight_stream(run: Run) -> None:
    activity = run.cycles[-1].activity
    exiting = [s.strategy_id for s in run.strategies if s.status is StrategyStatus.CLOSING]
    assert set(exiting) <= set(activity.active)
    assert len(activity.active) > len(exiting)
    streamed = set(run.lines[-1])
    first = next(s for s in run.strategies if s.strategy_id == activity.active[0])
    assert {leg.contract for leg in first.legs} <= streamed


def test_after_the_disconnect_every_line_is_resubscribed_with_a_fresh_quote(run: Run) -> None:
    codes = [e.code for e in run.events if isinstance(e, ErrorEvent)]
    assert {1100, 2103, 1102, 2104} <= set(codes)
    before = run.lines_at(run.outage_at, after=False)
    after = run.lines_at(run.restored_at, after=True)
    assert len(before) == len(after) == LINES
    assert set(after.values()).isdisjoint(before.values())
    quoted = {
        e.req_id for e in run.events if isinstance(e, QuoteEvent) and e.time >= run.restored_at
    }
    assert set(after.values()) <= quoted
    assert run.cycles[-1].status.resubscriptions == 1
    assert all(c.status.lines_live for c in run.between(run.restored_at, END))


def test_after_the_disconnect_no_mark_is_older_than_allowed(run: Run) -> None:
    final = run.cycles[-1].status
    assert final.oldest_mark_seconds is not None
    assert final.oldest_mark_seconds <= TARGET * FLOOR_SECONDS
    assert final.worker.connection_errors > 0
    assert final.queue_depth < CONTRACTS / 100
