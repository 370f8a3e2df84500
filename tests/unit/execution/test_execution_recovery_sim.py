"""Recovery on the real simulated exchange: a restarted engine never sends an order twice,
and legs left out of ratio (a lone leg) are completed or flattened."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from execution_sim import (
    condor_legs,
    connected,
    exchange_orders,
    execution_config,
    intent,
    market_of,
    option,
    put_spread_legs,
    run,
    simulation,
    started_engine,
)

from v6.brokers import ExecutionEvent, OrderLeg, OrderSpec, OrderStatusEvent
from v6.brokers.sim import Simulation
from v6.domain import IntentKind, Leg, Right
from v6.execution.exits import ExitPlan
from v6.execution.legging import RepairKind, leg_imbalance
from v6.execution.records import OrderRole, Outcome
from v6.execution.tickets import OrderRequest


def restarted(sim: Simulation, data_dir: Path) -> Simulation:
    """The exchange killed and reopened from its journal (the engine starts afresh)."""
    sim.exchange.close()
    return simulation(data_dir=data_dir)


def test_a_restart_takes_over_the_working_order_instead_of_sending_it_again(
    tmp_path: Path,
) -> None:
    first = simulation(data_dir=tmp_path)

    async def before_the_crash() -> OrderRequest:
        await connected(first)
        engine = await started_engine(first, execution_config(steps=2))
        market = await market_of(first, condor_legs())
        request = OrderRequest(intent(condor_legs(), round(market.mid - 1, 2)))
        await engine.submit(request)
        await engine.poll()
        return request

    request = run(before_the_crash())
    second = restarted(first, tmp_path)

    async def after_the_restart() -> None:
        await second.broker.connect()
        engine = await started_engine(second, execution_config(steps=2))
        assert engine.working() == ("ic1:open:1",)
        assert engine.next_attempt("ic1", IntentKind.OPEN) == 2
        report = await engine.run(request)
        assert len(exchange_orders(second)) == 1, "the same order_ref is never sent twice"
        assert report.outcome is Outcome.NOT_FILLED
        assert "adopted from the broker at start" in (report.orders[0].message or "")

    run(after_the_restart())


def test_an_engine_finds_the_order_another_placed_under_the_same_ref() -> None:
    sim = simulation()

    async def scenario() -> None:
        await connected(sim)
        late = await started_engine(sim, execution_config(steps=1))
        first = await started_engine(sim, execution_config(steps=1))
        market = await market_of(sim, condor_legs())
        request = OrderRequest(intent(condor_legs(), round(market.mid - 1, 2)))
        await first.submit(request)
        key = await late.submit(request)
        assert len(exchange_orders(sim)) == 1
        report = await late.wait(key)
        assert "found working at the broker: not sent again" in (report.orders[0].message or "")

    run(scenario())


def test_a_restart_reports_a_filled_order_from_its_executions(tmp_path: Path) -> None:
    first = simulation(data_dir=tmp_path)
    request = OrderRequest(intent(condor_legs(), -1.00, quantity=2))
    with_exits = dataclasses.replace(request, exits=ExitPlan(0.5, 2.0))

    async def before_the_crash() -> float:
        await connected(first)
        engine = await started_engine(first)
        filled = await engine.run(request)
        assert filled.outcome is Outcome.FILLED
        assert filled.avg_fill_price is not None
        return filled.avg_fill_price

    first_fill = run(before_the_crash())
    second = restarted(first, tmp_path)

    async def after_the_restart() -> None:
        await second.broker.connect()
        positions = await second.broker.positions()
        engine = await started_engine(second)
        report = await engine.run(with_exits)
        assert report.outcome is Outcome.FILLED
        assert report.filled == 2
        assert report.avg_fill_price == pytest.approx(first_fill)
        assert "already traded" in report.message
        assert [spec.order_ref for spec in exchange_orders(second)] == [
            "ic1:open:1",
            "ic1:close:1",
            "ic1:close:1",
        ], "nothing sent twice; the exits the crash left out are placed"
        assert [(e.role, e.quantity) for e in report.exits] == [
            (OrderRole.TAKE_PROFIT, 2),
            (OrderRole.STOP, 2),
        ]
        assert await second.broker.positions() == positions

    run(after_the_restart())


async def leg_in(sim: Simulation, legs: tuple[Leg, ...], rejected: int) -> None:
    """Send each leg alone (as a crashed legging attempt would have), the ``rejected``-th
    one rejected by the exchange, and wait for the fills."""
    for attempt, leg in enumerate(legs, start=1):
        if attempt == rejected:
            sim.broker.faults.reject_next_orders(1)
        quote = (await sim.broker.snapshot_quotes([leg.contract]))[0]
        price = quote.ask if leg.quantity > 0 else -quote.bid
        spec = OrderSpec(
            (OrderLeg(leg.contract, leg.quantity),),
            1,
            limit_price=price,
            order_ref=f"ps1:open:{attempt}",
        )
        await sim.broker.place_order(spec)
    await sim.clock.sleep(300)


def test_a_lone_short_leg_is_completed_with_its_protective_long() -> None:
    sim = simulation()
    legs = put_spread_legs()

    async def scenario() -> None:
        await connected(sim)
        await leg_in(sim, legs, rejected=1)
        engine = await started_engine(sim)
        held = await engine.held_by_strategy("ps1")
        assert held == {option(440, Right.PUT): -1}
        imbalance = leg_imbalance(legs, held)
        assert imbalance is not None
        assert imbalance.kind is RepairKind.COMPLETE
        sim.broker.faults.bad_quotes(1)
        key = await engine.repair("ps1", legs, held)
        assert key == "ps1:reduce:1"
        assert engine.working() == (key,), "no valid quote yet: the repair waits to go out"
        assert exchange_orders(sim)[-1].order_ref != key
        report = await engine.wait(key)
        assert (report.role, report.outcome) == (OrderRole.REPAIR, Outcome.FILLED)
        positions = {p.contract: p.quantity for p in await sim.broker.positions()}
        assert positions == {option(440, Right.PUT): -1, option(435, Right.PUT): 1}
        assert leg_imbalance(legs, await engine.held_by_strategy("ps1")) is None

    run(scenario())


def test_a_lone_long_leg_is_flattened_rather_than_completed_with_a_short() -> None:
    sim = simulation()
    legs = put_spread_legs()

    async def scenario() -> None:
        await connected(sim)
        await leg_in(sim, legs, rejected=2)
        engine = await started_engine(sim)
        held = await engine.held_by_strategy("ps1")
        assert held == {option(435, Right.PUT): 1}
        key = await engine.repair("ps1", legs, held)
        assert key is not None
        report = await engine.wait(key)
        assert report.outcome is Outcome.FILLED
        assert all(p.quantity == 0 for p in await sim.broker.positions())

    run(scenario())


def test_a_partially_filled_combo_holds_whole_units_and_needs_no_repair() -> None:
    sim = simulation()

    async def scenario() -> None:
        await connected(sim)
        engine = await started_engine(sim, execution_config(steps=1))
        events = sim.broker.events()
        sim.broker.faults.partial_fills(1)
        market = await market_of(sim, condor_legs())
        report = await engine.run(
            OrderRequest(intent(condor_legs(), market.natural, quantity=4), urgent=True)
        )
        fills = [
            e.order.filled
            for e in events.drain()
            if isinstance(e, OrderStatusEvent) and e.order.filled
        ]
        assert fills[0] == 2, "the forced partial fill"
        assert report.filled == 4
        assert report.legging is None
        held = await engine.held_by_strategy("ic1")
        assert leg_imbalance(condor_legs(), held) is None

    run(scenario())


def test_legs_reported_out_of_ratio_are_repaired_when_the_order_ends() -> None:
    # IB reports a combo's executions leg by leg; here the short put of a put spread is
    # reported filled alone before the order is cancelled.
    sim = simulation()
    legs = put_spread_legs()

    async def scenario() -> None:
        await connected(sim)
        engine = await started_engine(sim, execution_config(steps=1))
        market = await market_of(sim, legs)
        key = await engine.submit(
            OrderRequest(intent(legs, round(market.mid - 1, 2), strategy_id="ps1"))
        )
        (order,) = await sim.broker.open_orders()
        short = option(440, Right.PUT)
        sim.exchange.emit(
            ExecutionEvent(
                sim.clock.now(), "ib.0001", order.order_id, short, -1, 1.0, order_ref=key
            )
        )
        report = await engine.wait(key)
        assert report.legging is not None
        assert report.legging.kind is RepairKind.COMPLETE
        assert report.legging.held == (0, -1)
        assert "repair ps1:reduce:1" in report.message
        repair = exchange_orders(sim)[-1]
        assert repair.order_ref == "ps1:reduce:1"
        assert repair.legs == (OrderLeg(option(435, Right.PUT), 1),)

    run(scenario())
