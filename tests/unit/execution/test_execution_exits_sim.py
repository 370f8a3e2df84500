"""Resting exits on the real simulated exchange: the OCA pair after a fill, the bracket, and a
close that first takes the resting exits down."""

from __future__ import annotations

from execution_sim import (
    condor_legs,
    connected,
    exchange_orders,
    execution_config,
    intent,
    run,
    simulation,
    started_engine,
    wait_all,
)

from v6.brokers import OcaType, OrderLeg, OrderType
from v6.config.execution import ExitStyle
from v6.domain import IntentKind, Leg
from v6.execution.exits import ExitPlan
from v6.execution.records import OrderRole, Outcome, RecordStatus
from v6.execution.tickets import OrderRequest, max_close_cost

CONDOR_WIDTH = 5.0


def test_a_filled_entry_rests_an_oca_pair_and_when_one_fills_the_other_is_cancelled() -> None:
    sim = simulation()
    plan = ExitPlan(profit_fraction=0.01, loss_multiple=0.01)

    async def scenario() -> None:
        await connected(sim)
        engine = await started_engine(sim)
        entry = await engine.run(OrderRequest(intent(condor_legs(), -1.00), exits=plan))
        assert entry.outcome is Outcome.FILLED
        assert entry.avg_fill_price is not None
        take_profit, stop = entry.exits
        assert (take_profit.role, stop.role) == (OrderRole.TAKE_PROFIT, OrderRole.STOP)
        assert (take_profit.order_type, stop.order_type) == (OrderType.LIMIT, OrderType.STOP)
        assert take_profit.oca_group == stop.oca_group == "ic1:close:1:oca"
        assert take_profit.order_ref == stop.order_ref == "ic1:close:1"
        expected = plan.closing_prices(entry.avg_fill_price, 0.01, CONDOR_WIDTH)
        assert (take_profit.limit_price, stop.limit_price) == expected
        placed = exchange_orders(sim)[1:]
        assert [spec.oca_type for spec in placed] == [OcaType.REDUCE_WITH_BLOCK] * 2
        reversed_entry = tuple(
            OrderLeg(leg.contract, -leg.ratio) for leg in exchange_orders(sim)[0].legs
        )
        assert all(spec.legs == reversed_entry for spec in placed)

        keys = ["ic1:close:1/take_profit", "ic1:close:1/stop"]
        await wait_all(engine, sim, keys)
        outcomes = sorted(engine.report(key).outcome for key in keys)  # type: ignore[union-attr]
        assert outcomes == sorted([Outcome.FILLED, Outcome.NOT_FILLED])
        assert all(p.quantity == 0 for p in await sim.broker.positions())
        assert await sim.broker.open_orders() == ()

    run(scenario())


def test_the_stop_is_capped_below_the_most_a_condor_can_cost_to_close() -> None:
    legs = condor_legs()
    assert max_close_cost(legs) == CONDOR_WIDTH
    _, stop = ExitPlan(0.5, 2.0).closing_prices(-2.00, 0.01, max_close_cost(legs))
    assert stop == 4.99


def test_a_bracket_entry_holds_its_children_until_the_fill_and_a_close_cancels_them() -> None:
    sim = simulation()
    plan = ExitPlan(profit_fraction=0.5, loss_multiple=2.0)

    async def scenario() -> None:
        await connected(sim)
        engine = await started_engine(sim, execution_config(style=ExitStyle.BRACKET))
        entry = await engine.run(OrderRequest(intent(condor_legs(), -1.00, quantity=2), exits=plan))
        assert entry.outcome is Outcome.FILLED
        assert entry.avg_fill_price is not None
        _parent, *children = exchange_orders(sim)
        assert [c.order_type for c in children] == [OrderType.LIMIT, OrderType.STOP]
        working = {o.order_id: o for o in await sim.broker.open_orders()}
        assert len(working) == 2
        assert all(o.parent_id is not None and o.spec.quantity == 2 for o in working.values())
        take_profit, stop = plan.closing_prices(entry.avg_fill_price, 0.01, CONDOR_WIDTH)
        assert sorted(o.spec.trigger_price for o in working.values()) == [take_profit, stop]
        assert [r.role for r in entry.exits] == [OrderRole.TAKE_PROFIT, OrderRole.STOP]

        reverse = tuple(Leg(leg.contract, -leg.quantity) for leg in condor_legs())
        close = intent(reverse, 5.00, quantity=2, kind=IntentKind.CLOSE)
        closed = await engine.run(OrderRequest(close, urgent=True))
        assert closed.outcome is Outcome.FILLED
        assert closed.filled == 2
        for key in ("ic1:open:1/take_profit", "ic1:open:1/stop"):
            report = engine.report(key)
            assert report is not None
            assert report.outcome is Outcome.CANCELLED
            assert report.orders[0].status is RecordStatus.CANCELLED
        assert all(p.quantity == 0 for p in await sim.broker.positions())

    run(scenario())
