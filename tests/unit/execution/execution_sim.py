"""The real simulated exchange for the order engine's tests: SPY on 2023-09-14/15 in 5-minute
steps, an iron condor and a put spread on its 2023-10-27 expiry, and shortcuts."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

from v6.brokers import OrderSpec, Quote
from v6.brokers.pacing import PacedBroker, TokenBucket
from v6.brokers.sim import Simulation, open_simulation
from v6.clock import NEW_YORK
from v6.config.broker import BrokerConfig, SimConfig
from v6.config.execution import ExecutionConfig, ExitConfig, ExitStyle, PriceWalkConfig
from v6.domain import IntentKind, Leg, OptionContract, OrderIntent, Right
from v6.execution.order_engine import OrderEngine
from v6.execution.pricing import ComboMarket, combo_market
from v6.market.simulated import SimulatedMarket

T = TypeVar("T")
DAY = date(2023, 9, 14)
NEXT_DAY = date(2023, 9, 15)
EXPIRY = date(2023, 10, 27)
STEP_SECONDS = 300


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def simulation(
    *, seed: int = 1, cash: float = 100_000.0, data_dir: Path | None = None
) -> Simulation:
    sim = SimConfig(
        seed=seed,
        symbols=("SPY",),
        start_date=DAY,
        end_date=NEXT_DAY,
        bar_step_minutes=5,
        starting_cash=cash,
    )
    config = BrokerConfig(sim=sim)
    return open_simulation(SimulatedMarket(sim), config, data_dir=data_dir)


def execution_config(
    *,
    steps: int = 4,
    style: ExitStyle = ExitStyle.OCA,
    max_concession: float = 1.0,
) -> ExecutionConfig:
    """Steps one market step (5 minutes) apart, conceding 1/steps of the spread each."""
    walk = PriceWalkConfig(
        step_fraction=max_concession / steps,
        step_interval_seconds=STEP_SECONDS,
        max_concession_fraction=max_concession,
    )
    return ExecutionConfig(walk=walk, exits=ExitConfig(style=style))


async def connected(sim: Simulation, at: str = "10:00") -> None:
    """Connect and move to ``at`` New York time on the first day."""
    await sim.broker.connect()
    hour, minute = (int(part) for part in at.split(":"))
    await sim.clock.sleep_until(
        datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=NEW_YORK)
    )


def option(strike: int, right: Right) -> OptionContract:
    return OptionContract("SPY", EXPIRY, strike, right)


def condor_legs() -> tuple[Leg, ...]:
    return (
        Leg(option(435, Right.PUT), 1),
        Leg(option(440, Right.PUT), -1),
        Leg(option(459, Right.CALL), -1),
        Leg(option(464, Right.CALL), 1),
    )


def put_spread_legs() -> tuple[Leg, ...]:
    return (Leg(option(435, Right.PUT), 1), Leg(option(440, Right.PUT), -1))


async def market_of(sim: Simulation, legs: tuple[Leg, ...]) -> ComboMarket:
    quotes: tuple[Quote, ...] = await sim.broker.snapshot_quotes([leg.contract for leg in legs])
    found = combo_market((leg.quantity, quote) for leg, quote in zip(legs, quotes, strict=True))
    assert found is not None
    return found


def intent(
    legs: tuple[Leg, ...],
    limit: float,
    *,
    quantity: int = 1,
    strategy_id: str = "ic1",
    kind: IntentKind = IntentKind.OPEN,
) -> OrderIntent:
    return OrderIntent(strategy_id, kind, legs, quantity, limit)


def order_engine(
    sim: Simulation, config: ExecutionConfig | None = None, *, dry_run: bool = False
) -> OrderEngine:
    """An order engine on ``sim`` sending within the default message budget (45/s, burst 4)."""
    paced = PacedBroker(sim.broker, TokenBucket(45.0, 4, sim.clock.now()), sim.clock)
    return OrderEngine(paced, sim.clock, config or execution_config(), dry_run=dry_run)


async def started_engine(
    sim: Simulation, config: ExecutionConfig | None = None, *, dry_run: bool = False
) -> OrderEngine:
    engine = order_engine(sim, config, dry_run=dry_run)
    await engine.start()
    return engine


def exchange_orders(sim: Simulation) -> list[OrderSpec]:
    """Every order the exchange has received (working or done) this session."""
    return [order.spec for _, order in sorted(sim.exchange.state.orders.orders.items())]


async def wait_all(engine: OrderEngine, sim: Simulation, keys: list[str]) -> None:
    """Poll, a market step at a time, until every ticket in ``keys`` has its report."""
    while True:
        await engine.poll()
        if all(engine.report(key) is not None for key in keys):
            return
        assert not sim.clock.finished, f"the run ended before {keys} did"
        await sim.clock.sleep(STEP_SECONDS)
