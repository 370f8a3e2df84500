"""What the engine's integration tests share: the trading configuration, a finished run, table
frames and the end-of-run checks (no naked leg, no loss beyond max loss)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from v6.brokers.sim import SimBroker
from v6.config import V6Config, load_config
from v6.domain import OptionContract, Position, StrategyStatus
from v6.engine import TradingEngine, build_engine, simulation_config
from v6.store import Store, table_spec

CONFIG = Path(__file__).with_name("engine_run.toml")
Inject = Callable[[TradingEngine], None]


@dataclass(frozen=True)
class Finished:
    engine: TradingEngine
    store: Store


def config(start: date, days: int, *, slow_breaker: bool = False) -> V6Config:
    """The engine tests' configuration; ``slow_breaker``: two failures within a day trip the
    breaker (cycles are 30 simulated minutes apart; a rejected take-profit/stop pair is two
    failures) and it stays open for a day."""
    settings = simulation_config(load_config(CONFIG), start, days, seed=7)
    if not slow_breaker:
        return settings
    breaker = settings.risk.circuit_breaker.model_copy(
        update={"failure_threshold": 2, "cooldown_seconds": 86_400.0, "window_seconds": 86_400.0}
    )
    risk = settings.risk.model_copy(update={"circuit_breaker": breaker})
    return settings.model_copy(update={"risk": risk})


def run(settings: V6Config, data_dir: Path, inject: Inject | None = None) -> Finished:
    engine = build_engine(settings, data_dir=data_dir)
    asyncio.run(engine.run(on_cycle=inject))
    return Finished(engine, Store.from_config(engine.parts.config.storage))


def frame(store: Store, table: str) -> pl.DataFrame:
    result = pl.from_arrow(store.reader.read(table_spec(table)))
    assert isinstance(result, pl.DataFrame)
    return result


async def positions_of(broker: SimBroker) -> tuple[Position, ...]:
    await broker.connect()
    return await broker.positions()


def assert_no_naked_leg(finished: Finished) -> None:
    """Every option the exchange holds belongs to a live strategy, unit for unit."""
    sim = finished.engine.parts.simulation
    assert sim is not None
    held = asyncio.run(positions_of(sim.broker))
    broker = {p.contract: p.quantity for p in held if isinstance(p.contract, OptionContract)}
    expected: dict[OptionContract, int] = defaultdict(int)
    for strategy in finished.store.strategies.live():
        for leg in strategy.legs:
            expected[leg.contract] += leg.quantity * strategy.quantity
    differences = {
        contract.occ_symbol: (broker.get(contract, 0), expected.get(contract, 0))
        for contract in broker.keys() | expected.keys()
        if broker.get(contract, 0) != expected.get(contract, 0)
    }
    assert differences == {}, f"(held at the broker, held by live strategies): {differences}"


def assert_losses_within_max_loss(store: Store) -> None:
    """No closed strategy lost more than its max loss plus its commissions."""
    orders = frame(store, "orders").select("order_id", "strategy_id").unique("order_id")
    flows = (
        frame(store, "executions")
        .join(orders, on="order_id")
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
