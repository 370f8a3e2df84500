"""One message budget for every sender, on the real simulated exchange: while the sync's queue
worker refreshes a full queue, a strategy is built from the chain and its entry sent (what-if,
walk quotes, the order) in the same seconds, and the broker never answers error 100. The same
scenario with the builder and the order engine on a budget of their own does hit it, so the
scenario is tight enough to catch two senders sharing the broker's limit."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from execution_sim import DAY, NEXT_DAY, connected, execution_config, run, simulation

from v6.brokers import ErrorEvent
from v6.brokers.pacing import PacedBroker, TokenBucket
from v6.brokers.sim import Simulation, open_simulation
from v6.config import V6Config
from v6.config.broker import BrokerConfig, SimConfig
from v6.config.execution import ExitStyle, SelectionConfig
from v6.config.sync import SyncConfig
from v6.domain import Strategy
from v6.execution import OrderEngine, OrderRequest
from v6.market.simulated import SimulatedMarket
from v6.store import Store, StoreLocation
from v6.strategies import BuiltStrategy, DteWindow, StrategyBuilder, Wing
from v6.sync import PositionSync

SIM = SimConfig(symbols=("SPY",), start_date=DAY, end_date=NEXT_DAY, bar_step_minutes=5)
CONFIG = V6Config(broker=BrokerConfig(sim=SIM), sync=SyncConfig(streaming_lines=0))
"""No streaming lines: every leg of the book is the queue worker's to refresh."""
QUEUED_DELTAS = (0.10, 0.15, 0.25, 0.30)
WORKER_SECONDS = 10.0


@dataclass(frozen=True)
class Seen:
    pacing_codes: int
    """Error 100 events the broker emitted while the worker and the entry ran."""
    worker_pacing_errors: int
    queue_legs: int
    book_contracts: int
    entry: str | BaseException
    """The entry's order ref, or what it raised."""
    worker_requests_before_entry: int
    entry_sent_at: datetime | None
    deadline: datetime
    working_refs: tuple[str, ...]


def budget(sim: Simulation) -> TokenBucket:
    """The connection's message budget as ``v6.engine.wire`` builds it."""
    return TokenBucket.within(
        CONFIG.sync.snapshot_rate_per_second,
        CONFIG.sync.snapshot_burst,
        CONFIG.broker.pacing_messages_per_second,
        sim.clock.now(),
    )


async def condor(builder: StrategyBuilder, strategy_id: str, delta: float) -> BuiltStrategy:
    built = await builder.iron_condor(
        strategy_id,
        "SPY",
        short_delta=delta,
        wing=Wing(width=5),
        dte=DteWindow(45, 30, 60),
        min_credit_fraction=0.05,
    )
    assert isinstance(built, BuiltStrategy), built
    return built


async def scenario(tmp: Path, *, shared: bool) -> Seen:
    sim = open_simulation(SimulatedMarket(SIM), CONFIG.broker)
    await connected(sim)
    bucket = budget(sim)
    store = Store(StoreLocation(str(tmp)), app_id="engine")
    sync = PositionSync.from_config(sim.broker, sim.clock, store, CONFIG, bucket=bucket)
    paced = PacedBroker(sim.broker, bucket if shared else budget(sim), sim.clock)
    builder = StrategyBuilder(paced, sim.clock, SelectionConfig())
    orders = OrderEngine(paced, sim.clock, execution_config())
    await orders.start()
    book: list[Strategy] = [
        (await condor(builder, f"queued{i}", delta)).strategy
        for i, delta in enumerate(QUEUED_DELTAS)
    ]
    await sync.cycle(book)
    await sim.clock.sleep(1.0)
    stream = sim.broker.events()
    deadline = sim.clock.now() + timedelta(seconds=WORKER_SECONDS)
    sent: list[tuple[int, datetime]] = []

    async def enter() -> str:
        built = await condor(builder, "entry", 0.20)
        key = await orders.submit(OrderRequest(built.open_intent(), 1))
        sent.append((sync.status().worker.requests, sim.clock.now()))
        return key

    _, entry = await asyncio.gather(sync.run_until(deadline), enter(), return_exceptions=True)
    status = sync.status()
    working = tuple(state.spec.order_ref for state in await sim.broker.open_orders())
    codes = [e.code for e in stream.drain() if isinstance(e, ErrorEvent)]
    sync.close()
    orders.close()
    return Seen(
        pacing_codes=codes.count(100),
        worker_pacing_errors=status.worker.pacing_errors,
        queue_legs=status.queue_legs,
        book_contracts=len({leg.contract for strategy in book for leg in strategy.legs}),
        entry=entry if isinstance(entry, str | BaseException) else repr(entry),
        worker_requests_before_entry=sent[0][0] if sent else 0,
        entry_sent_at=sent[0][1] if sent else None,
        deadline=deadline,
        working_refs=working,
    )


@pytest.fixture(scope="module")
def one_budget(tmp_path_factory: pytest.TempPathFactory) -> Seen:
    return run(scenario(tmp_path_factory.mktemp("one_budget"), shared=True))


def test_the_worker_and_an_entry_on_one_budget_never_meet_error_100(one_budget: Seen) -> None:
    assert one_budget.pacing_codes == 0
    assert one_budget.worker_pacing_errors == 0


def test_the_entry_is_built_and_sent(one_budget: Seen) -> None:
    assert one_budget.entry == "entry:open:1"
    assert "entry:open:1" in one_budget.working_refs


def test_every_leg_of_the_book_is_queued(one_budget: Seen) -> None:
    assert one_budget.queue_legs == one_budget.book_contracts > 0


def test_the_worker_refreshed_while_the_entry_was_built_and_sent(one_budget: Seen) -> None:
    """Both started at the same instant; the worker's requests went out between the entry's."""
    assert one_budget.worker_requests_before_entry > 0
    assert one_budget.entry_sent_at is not None
    assert one_budget.entry_sent_at < one_budget.deadline


def test_the_same_scenario_on_two_budgets_hits_error_100(tmp_path: Path) -> None:
    seen = run(scenario(tmp_path, shared=False))

    assert seen.pacing_codes > 0


def test_brackets_need_a_message_budget_of_three() -> None:
    sim = simulation()
    paced = PacedBroker(sim.broker, TokenBucket(45.0, 2, sim.clock.now()), sim.clock)
    OrderEngine(paced, sim.clock, execution_config(style=ExitStyle.OCA))
    with pytest.raises(
        ValueError,
        match=r"execution.exits.style = 'bracket' sends 3 orders at once: expected a message "
        r"budget of at least 3 \(sync.snapshot_burst = 2\)",
    ):
        OrderEngine(paced, sim.clock, execution_config(style=ExitStyle.BRACKET))
