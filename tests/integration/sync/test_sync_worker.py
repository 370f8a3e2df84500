"""The queue worker and the streamer when things go wrong, on a small book at the simulated
exchange: a contract the broker refuses, another sender using up the message budget, the
API connection dropped and re-established, and the worker as a background task."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sync_books import near_take_profit, open_at_exchange, run_cycles, spread_book

from v6.brokers import ErrorEvent
from v6.brokers.sim import Simulation, open_simulation
from v6.config import V6Config
from v6.config.broker import BrokerConfig, SimConfig
from v6.domain import Leg, OptionContract, Right, Strategy, StrategyKind
from v6.market.simulated import SimulatedMarket
from v6.store import Store, StoreLocation
from v6.sync import PositionSync

SIM = SimConfig(symbols=("SPY",), start_date=date(2024, 3, 4), end_date=date(2024, 3, 8))
CONFIG = V6Config(broker=BrokerConfig(sim=SIM))
Scenario = Callable[[Simulation, PositionSync, Store, list[Strategy]], Awaitable[None]]


def with_sync(tmp: Path, scenario: Scenario, contracts: int = 200) -> None:
    market = SimulatedMarket(SIM)
    strategies = near_take_profit(spread_book(market, contracts), every=1)
    sim = open_simulation(market, CONFIG.broker)
    open_at_exchange(sim.exchange, strategies)

    async def main() -> None:
        await sim.broker.connect()
        store = Store(StoreLocation(str(tmp)), app_id="engine")
        sync = PositionSync.from_config(sim.broker, sim.clock, store, CONFIG)
        await scenario(sim, sync, store, strategies)
        sync.close()

    asyncio.run(main())


def test_a_refused_contract_does_not_block_its_batch(tmp_path: Path) -> None:
    async def scenario(
        sim: Simulation, sync: PositionSync, store: Store, strategies: list[Strategy]
    ) -> None:
        off_grid = OptionContract("SPY", date(2024, 4, 19), Decimal(9000), Right.CALL)
        entering = Strategy("off-grid", StrategyKind.CUSTOM, (Leg(off_grid, 1),))
        stream = sim.broker.events()
        until = sim.clock.now() + timedelta(seconds=30)
        await run_cycles(sync, sim.clock, store, [*strategies, entering], until)
        status = sync.status()
        assert sync.queue_legs == status.queue_legs
        assert status.worker.refused >= 1
        assert status.unmarked_legs == 1
        assert sync.book()["mark"].null_count() == 0
        assert 200 in {e.code for e in stream.drain() if isinstance(e, ErrorEvent)}

    with_sync(tmp_path, scenario)


def test_another_sender_using_the_budget_costs_one_pacing_error_then_the_worker_backs_off(
    tmp_path: Path,
) -> None:
    async def scenario(
        sim: Simulation, sync: PositionSync, store: Store, strategies: list[Strategy]
    ) -> None:
        start = sim.clock.now()
        await run_cycles(sync, sim.clock, store, strategies, start + timedelta(seconds=10))
        await sim.clock.sleep(1.0)
        contracts = [leg.contract for s in strategies for leg in s.legs][:50]
        await sim.broker.snapshot_quotes(contracts)
        stream = sim.broker.events()
        until = sim.clock.now() + timedelta(seconds=20)
        await run_cycles(sync, sim.clock, store, strategies, until)
        status = sync.status()
        assert status.worker.pacing_errors == 1
        assert [e.code for e in stream.drain() if isinstance(e, ErrorEvent)] == [100]
        assert status.oldest_mark_seconds is not None
        assert status.oldest_mark_seconds < status.rotation_seconds + 5

    with_sync(tmp_path, scenario)


def test_lines_come_back_after_the_api_connection_is_reestablished(tmp_path: Path) -> None:
    async def scenario(
        sim: Simulation, sync: PositionSync, store: Store, strategies: list[Strategy]
    ) -> None:
        start = sim.clock.now()
        await run_cycles(sync, sim.clock, store, strategies, start + timedelta(seconds=10))
        before = dict(sync.lines)
        await sim.broker.disconnect()
        await sync.cycle(strategies)
        assert sync.lines == {}
        await sim.broker.connect()
        await run_cycles(
            sync, sim.clock, store, strategies, sim.clock.now() + timedelta(seconds=10)
        )
        assert 0 < len(before) == len(sync.lines) <= CONFIG.sync.streaming_lines
        assert set(sync.lines.values()).isdisjoint(before.values())
        assert sync.status().lines_live

    with_sync(tmp_path, scenario)


def test_the_worker_runs_as_a_background_task(tmp_path: Path) -> None:
    async def scenario(
        sim: Simulation, sync: PositionSync, store: Store, strategies: list[Strategy]
    ) -> None:
        await sync.cycle(strategies)
        sync.start()
        for _ in range(200):
            await sim.clock.sleep(0.1)
        await sync.stop()
        status = sync.status()
        assert status.worker.good_quotes > 0
        assert status.worker.pacing_errors == 0
        requests = status.worker.requests
        await sim.clock.sleep(5.0)
        assert sync.status().worker.requests == requests

    with_sync(tmp_path, scenario)


def test_force_full_sync_and_clear_queue_commands(tmp_path: Path) -> None:
    async def scenario(
        sim: Simulation, sync: PositionSync, store: Store, strategies: list[Strategy]
    ) -> None:
        start = sim.clock.now()
        await run_cycles(sync, sim.clock, store, strategies, start + timedelta(seconds=30))
        settled = sync.status()
        assert settled.queue_depth < settled.queue_legs / 10

        sync.force_full_sync()
        assert sync.status().queue_depth == settled.queue_legs
        forced = sim.clock.now()
        rotation = timedelta(seconds=settled.rotation_seconds)
        await run_cycles(sync, sim.clock, store, strategies, forced + rotation)
        assert sync.status().queue_depth < settled.queue_legs / 10

        sync.clear_queue()
        assert sync.status().queue_depth == 0

    with_sync(tmp_path, scenario)
