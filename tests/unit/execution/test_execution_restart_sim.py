"""Crash recovery at engine start (v6.execution.restart) on the real simulated exchange: an
engine dropped without stop() after an order of its filled - its reports and the store's
buffered rows die with it, as with kill -9 - and a new engine built from the same data
directory."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from execution_sim import DAY, STEP_SECONDS, condor_legs, intent, market_of, run

from v6.brokers import ExecutionEvent, OrderState
from v6.brokers.sim import Simulation
from v6.clock import NEW_YORK
from v6.config import V6Config
from v6.domain import IntentKind, Strategy, StrategyKind, StrategyStatus
from v6.engine import TradingEngine, build_engine, simulation_config
from v6.execution.exits import ExitPlan
from v6.execution.recovery import COMPLETED, RECOVERED
from v6.execution.tickets import OrderRequest
from v6.execution.workflows import as_stored_order, closing_intent
from v6.store import OrderStatus as StoredStatus

SID = "ic.SPY.20230914T1000"
UNITS = 2


def settings() -> V6Config:
    config = simulation_config(V6Config(), DAY, 2, seed=1)
    sim = config.broker.sim.model_copy(update={"symbols": ("SPY",)})
    return config.model_copy(update={"broker": config.broker.model_copy(update={"sim": sim})})


async def started(data_dir: Path) -> TradingEngine:
    engine = build_engine(settings(), data_dir=data_dir)
    await engine.start()
    return engine


def simulation_of(engine: TradingEngine) -> Simulation:
    assert engine.parts.simulation is not None
    return engine.parts.simulation


def killed(engine: TradingEngine) -> None:
    """Drop ``engine`` as kill -9 would: nothing more reaches the journal or the store."""
    simulation_of(engine).exchange.close()


async def filled(engine: TradingEngine, ref: str) -> list[ExecutionEvent]:
    """Step the market, never polling the order engine, until ``ref`` has traded."""
    broker = simulation_of(engine).broker
    while not (traded := [e for e in await broker.executions() if e.order_ref == ref]):
        assert not engine.parts.clock.finished, f"{ref} never traded"
        await engine.parts.clock.sleep(STEP_SECONDS)
    return traded


async def enter_unreported(engine: TradingEngine) -> list[ExecutionEvent]:
    """Write a condor ahead (PENDING, an estimated premium), send its entry at the natural
    price with resting exits, and let it fill without its report."""
    parts = engine.parts
    await parts.clock.sleep_until(datetime(2023, 9, 14, 10, tzinfo=NEW_YORK))
    strategy = Strategy.propose(
        SID, StrategyKind.IRON_CONDOR, condor_legs(), as_of=DAY, quantity=UNITS, entry_premium=9.99
    )
    parts.store.strategies.save([strategy], parts.clock.now())
    parts.store.flush()
    market = await market_of(simulation_of(engine), condor_legs())
    order = intent(condor_legs(), market.natural, quantity=UNITS, strategy_id=SID)
    plan = ExitPlan.from_decisions(parts.config.decisions)
    await parts.orders.submit(OrderRequest(order, urgent=True, exits=plan))
    return await filled(engine, f"{SID}:open:1")


async def close_unreported(engine: TradingEngine) -> list[ExecutionEvent]:
    """Store the strategy CLOSING, send its close (its resting exits are cancelled first) and
    let it fill without its report."""
    parts = engine.parts
    strategy = engine.book.live[SID]
    parts.store.strategies.save(
        [strategy.transition_to(StrategyStatus.CLOSING, parts.clock.now())], parts.clock.now()
    )
    parts.store.flush()
    attempt = parts.orders.next_attempt(SID, IntentKind.CLOSE)
    request = OrderRequest(closing_intent(strategy), attempt, urgent=True)
    await parts.orders.submit(request)
    while request.ref not in sent(engine):
        assert not parts.clock.finished, f"{request.ref} was never sent"
        await parts.orders.poll()
        await parts.clock.sleep(STEP_SECONDS)
    return await filled(engine, request.ref)


def sent(engine: TradingEngine) -> list[str]:
    """The refs of every order the exchange received this session."""
    orders = simulation_of(engine).exchange.state.orders.orders.values()
    return [order.spec.order_ref for order in orders]


def net_price(executions: list[ExecutionEvent], units: int) -> float:
    return sum(e.quantity * e.price for e in executions) / units


async def orders_of(engine: TradingEngine) -> list[OrderState]:
    return [o for o in await engine.parts.broker.open_orders() if o.spec.order_ref.startswith(SID)]


def test_a_restart_records_opens_and_protects_an_entry_that_filled_unreported(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        first = await started(tmp_path)
        entry = await enter_unreported(first)
        killed(first)
        second = await started(tmp_path)
        store = second.parts.store
        order_id = str(entry[0].order_id)
        recorded = {f.exec_id: f.commission for f in store.executions.for_order(order_id)}
        assert recorded == {e.exec_id: e.commission for e in entry}
        assert all(commission for commission in recorded.values())
        row = store.orders.get(order_id)
        assert row is not None
        assert (row.status, row.filled_quantity) == (StoredStatus.FILLED, UNITS)
        assert RECOVERED in (row.message or "")
        (opened,) = store.strategies.live()
        assert (opened.status, opened.quantity) == (StrategyStatus.OPEN, UNITS)
        assert opened.entry_premium == pytest.approx(-net_price(entry, UNITS))
        exits = {
            (o.spec.order_ref, o.spec.order_type.value, o.spec.quantity)
            for o in await orders_of(second)
        }
        assert exits == {(f"{SID}:close:1", "LMT", UNITS), (f"{SID}:close:1", "STP", UNITS)}

    run(scenario())


def test_a_restart_closes_a_strategy_whose_close_filled_unreported_and_rests_nothing(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        first = await started(tmp_path)
        await enter_unreported(first)
        killed(first)
        second = await started(tmp_path)
        close = await close_unreported(second)
        killed(second)
        placed = sent(second)
        third = await started(tmp_path)
        store = third.parts.store
        assert [s.strategy_id for s in store.strategies.with_status([StrategyStatus.CLOSED])] == [
            SID
        ]
        row = store.orders.get(str(close[0].order_id))
        assert row is not None
        assert (row.intent, row.status) == (IntentKind.CLOSE, StoredStatus.FILLED)
        assert await orders_of(third) == []
        assert sent(third) == placed, "nothing sent"

    run(scenario())


def test_a_restart_ends_the_stored_order_that_was_cancelled_unheard(tmp_path: Path) -> None:
    """An entry working at twice the mid's credit is stored SUBMITTED, then cancelled at the
    broker (from TWS, say) while V6 is down: the broker's completed orders end its row."""

    async def scenario() -> None:
        first = await started(tmp_path)
        parts = first.parts
        await parts.clock.sleep_until(datetime(2023, 9, 14, 10, tzinfo=NEW_YORK))
        market = await market_of(simulation_of(first), condor_legs())
        assert market.is_credit
        request = OrderRequest(intent(condor_legs(), 2 * market.mid, strategy_id=SID))
        await parts.orders.submit(request)
        while not (working := await orders_of(first)):
            await parts.orders.poll()
            await parts.clock.sleep(STEP_SECONDS)
        await parts.orders.poll()
        parts.store.orders.save(as_stored_order(r) for r in parts.orders.take_records())
        parts.store.flush()
        (order,) = working
        assert parts.store.orders.get(str(order.order_id)) is not None
        await simulation_of(first).broker.cancel_order(order.order_id)
        await parts.clock.sleep(STEP_SECONDS)
        killed(first)
        second = await started(tmp_path)
        row = second.parts.store.orders.get(str(order.order_id))
        assert row is not None
        assert (row.status, row.filled_quantity) == (StoredStatus.CANCELLED, 0)
        assert COMPLETED in (row.message or "")
        assert second.parts.store.orders.working() == []

    run(scenario())
