"""The engine end to end on the simulated exchange (10 real sessions of January 2020, 30-minute
steps), asserted from the Delta tables and the exchange's own positions."""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from v6.brokers.sim import SimBroker
from v6.config import V6Config, load_config
from v6.domain import OptionContract, Position, StrategyStatus
from v6.engine import TradingEngine, build_engine, simulation_config
from v6.run_cli import RunSummary
from v6.store import Command, CommandStatus, Store, table_spec

CONFIG = Path(__file__).with_name("engine_run.toml")


@dataclass(frozen=True)
class Finished:
    engine: TradingEngine
    store: Store


def config(start: date, days: int) -> V6Config:
    return simulation_config(load_config(CONFIG), start, days, seed=7)


def run(settings: V6Config, data_dir: Path) -> Finished:
    engine = build_engine(settings, data_dir=data_dir)
    asyncio.run(engine.run())
    return Finished(engine, Store.from_config(engine.parts.config.storage))


def frame(store: Store, table: str) -> pl.DataFrame:
    result = pl.from_arrow(store.reader.read(table_spec(table)))
    assert isinstance(result, pl.DataFrame)
    return result


async def positions_of(broker: SimBroker) -> tuple[Position, ...]:
    await broker.connect()
    return await broker.positions()


@pytest.fixture(scope="module")
def normal(tmp_path_factory: pytest.TempPathFactory) -> Finished:
    return run(config(date(2020, 1, 2), 10), tmp_path_factory.mktemp("normal"))


def test_the_engine_trades_and_everything_is_in_the_tables(normal: Finished) -> None:
    store = normal.store
    strategies = store.strategies.with_status(list(StrategyStatus))
    statuses = {s.status for s in strategies}
    assert {StrategyStatus.OPEN, StrategyStatus.CLOSED} <= statuses
    assert all(s.opened_at is not None for s in strategies if s.status is StrategyStatus.CLOSED)
    summary = RunSummary.of(store)
    assert summary.closed >= 1
    assert summary.executions > 0
    assert summary.realized_pnl != 0
    assert len(frame(store, "account_snapshots")) >= normal.engine.stats.cycles
    assert len(frame(store, "decisions")) > 0
    beats = {h.component: h for h in store.health.latest()}
    assert set(beats) == {"broker", "sync", "queue", "decisions", "execution", "writer"}
    assert re.search(r"lines=\d+/10\b", beats["sync"].message)
    assert re.search(r"depth=\d+", beats["queue"].message)
    readiness = normal.engine.parts.health.readiness(max_sync_age_seconds=3600)
    assert readiness.ready, readiness


def test_no_strategy_loses_more_than_its_max_loss_plus_commissions(normal: Finished) -> None:
    store = normal.store
    fills = frame(store, "executions")
    orders = frame(store, "orders").select("order_id", "strategy_id").unique("order_id")
    flows = (
        fills.join(orders, on="order_id")
        .group_by("strategy_id")
        .agg(
            (-pl.col("quantity") * pl.col("price") * pl.col("multiplier")).sum().alias("premium"),
            pl.col("commission").sum().alias("commission"),
        )
    )
    closed = {s.strategy_id: s for s in store.strategies.with_status([StrategyStatus.CLOSED])}
    for row in flows.filter(pl.col("strategy_id").is_in(list(closed))).iter_rows(named=True):
        strategy = closed[row["strategy_id"]]
        loss = -(row["premium"] - row["commission"])
        assert loss <= strategy.max_loss * strategy.quantity + row["commission"] + 1e-6


def test_no_naked_leg_the_broker_and_the_store_agree(normal: Finished) -> None:
    """Every option the exchange holds belongs to a live strategy, unit for unit."""
    engine = normal.engine
    sim = engine.parts.simulation
    assert sim is not None
    held = asyncio.run(positions_of(sim.broker))
    broker = {p.contract: p.quantity for p in held if isinstance(p.contract, OptionContract)}
    expected: dict[OptionContract, int] = defaultdict(int)
    for strategy in normal.store.strategies.live():
        for leg in strategy.legs:
            expected[leg.contract] += leg.quantity * strategy.quantity
    assert {c: q for c, q in broker.items() if q} == {c: q for c, q in expected.items() if q}


def test_portfolio_limits_hold(normal: Finished) -> None:
    limits = normal.engine.parts.config.risk.portfolio
    assert len(normal.store.strategies.live()) <= limits.max_open_strategies
    breaches = [e for e in normal.store.risk_events.since() if e.kind.value == "limit_breached"]
    assert breaches == []


def test_commands_are_executed_and_marked_done(tmp_path: Path) -> None:
    settings = config(date(2020, 1, 2), 2)
    dashboard = Store.from_config(
        settings.storage.model_copy(update={"location": str(tmp_path)}), app_id="dashboard"
    )
    at = datetime(2020, 1, 2, 12, tzinfo=UTC)
    commands = [
        Command("c1", "halt", "dashboard", at, {"reason": "test"}),
        Command("c2", "force_sync", "dashboard", at),
        Command("c3", "launch_rockets", "dashboard", at),
    ]
    dashboard.commands.submit(commands)
    dashboard.flush()

    finished = run(settings, tmp_path)

    done = {c: finished.store.commands.get(c) for c in ("c1", "c2", "c3")}
    statuses = {c: None if command is None else command.status for c, command in done.items()}
    assert statuses == {
        "c1": CommandStatus.DONE,
        "c2": CommandStatus.DONE,
        "c3": CommandStatus.REJECTED,
    }
    assert finished.engine.stats.entries_sent == 0
    assert finished.engine.parts.gate.breaker_state.halted
