"""The price walk on the real simulated exchange: fills walking toward the natural price, or
gives up at the floor without ever passing it or turning a credit into a debit."""

from __future__ import annotations

import pytest
from execution_sim import (
    condor_legs,
    connected,
    exchange_orders,
    execution_config,
    intent,
    market_of,
    option,
    run,
    simulation,
    started_engine,
)

from v6.brokers import OrderStatusEvent
from v6.domain import Leg, Right
from v6.execution.records import Outcome, RecordStatus
from v6.execution.tickets import OrderRequest


def test_a_condor_walks_from_the_mid_and_fills_inside_the_natural_price() -> None:
    sim = simulation()

    async def scenario() -> None:
        await connected(sim)
        engine = await started_engine(sim)
        market = await market_of(sim, condor_legs())
        report = await engine.run(OrderRequest(intent(condor_legs(), -1.00, quantity=2)))

        assert report.outcome is Outcome.FILLED
        assert report.filled == 2
        assert report.start_mid == market.mid
        assert report.avg_fill_price is not None
        assert market.mid - 0.01 <= report.avg_fill_price <= market.natural + 0.05
        fills = report.fills()
        assert sorted({f.contract for f in fills}, key=str) == sorted(
            {leg.contract for leg in condor_legs()}, key=str
        )
        for leg in condor_legs():
            assert sum(f.quantity for f in fills if f.contract == leg.contract) == 2 * leg.quantity
        assert all(f.commission > 0 for f in fills)
        assert [o.status for o in report.orders] == [RecordStatus.FILLED]
        assert report.orders[0].order_ref == "ic1:open:1"
        positions = {p.contract: p.quantity for p in await sim.broker.positions()}
        assert positions == {leg.contract: 2 * leg.quantity for leg in condor_legs()}

    run(scenario())


def test_the_walk_never_passes_the_floor_and_gives_up_there() -> None:
    sim = simulation()

    async def scenario() -> None:
        await connected(sim)
        engine = await started_engine(sim, execution_config(steps=3))
        market = await market_of(sim, condor_legs())
        floor = round(market.mid - 1.00, 2)
        events = sim.broker.events()
        report = await engine.run(OrderRequest(intent(condor_legs(), floor)))

        prices = [
            e.order.spec.limit_price for e in events.drain() if isinstance(e, OrderStatusEvent)
        ]
        assert prices
        assert all(price is not None and price <= floor for price in prices)
        assert report.outcome is Outcome.NOT_FILLED
        assert report.filled == 0
        assert "walk gave up after 3 steps" in (report.orders[0].message or "")
        assert len(exchange_orders(sim)) == 1
        assert await sim.broker.positions() == ()

    run(scenario())


def test_a_credit_never_walks_into_a_debit() -> None:
    # The 395/394 put spread: mid -0.02 (a credit), natural 0.00 - crossing would be no
    # credit at all; a careless limit of +1.00 must not let the walk get there.
    sim = simulation()
    legs = (Leg(option(395, Right.PUT), -1), Leg(option(394, Right.PUT), 1))

    async def scenario() -> None:
        await connected(sim)
        market = await market_of(sim, legs)
        assert (market.mid, market.natural) == pytest.approx((-0.02, 0.0))
        engine = await started_engine(sim, execution_config(steps=2))
        events = sim.broker.events()
        await engine.run(OrderRequest(intent(legs, 1.00, strategy_id="ps1")))
        prices = [
            e.order.spec.limit_price for e in events.drain() if isinstance(e, OrderStatusEvent)
        ]
        assert prices[0] == -0.02
        assert max(p for p in prices if p is not None) == -0.01

    run(scenario())
