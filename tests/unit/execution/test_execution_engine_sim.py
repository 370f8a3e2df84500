"""The order engine's guards on the real simulated exchange: partial fills and replacing only
the remainder, rejections, bad quotes, the what-if check, dry run, and IB's informational
codes."""

from __future__ import annotations

import pytest
from execution_sim import (
    STEP_SECONDS,
    condor_legs,
    connected,
    exchange_orders,
    execution_config,
    intent,
    market_of,
    order_engine,
    run,
    simulation,
    started_engine,
    wait_all,
)

from v6.brokers import ConnectionLostError, ErrorEvent, OrderStatusEvent
from v6.brokers.sim import BadQuoteKind
from v6.config.execution import ExecutionConfig, MarginCheckConfig
from v6.execution.exits import ExitPlan
from v6.execution.pricing import round_down
from v6.execution.records import OrderRole, Outcome, RecordStatus
from v6.execution.tickets import OrderRequest


def test_a_partial_fill_is_replaced_by_an_order_for_the_remainder_only() -> None:
    sim = simulation()

    async def scenario() -> None:
        await connected(sim)
        engine = await started_engine(sim, execution_config(steps=12))
        events = sim.broker.events()
        sim.broker.faults.partial_fills(1)
        market = await market_of(sim, condor_legs())
        request = OrderRequest(
            intent(condor_legs(), market.mid, quantity=4), exits=ExitPlan(0.5, 2.0)
        )
        key = await engine.submit(request)
        filled = 0
        while filled == 0:
            await sim.clock.sleep(STEP_SECONDS)
            await engine.poll()
            working = [o for o in await sim.broker.open_orders() if o.spec.order_ref == key]
            assert working, "the first fill is forced to be partial: the order must still work"
            filled = working[0].filled
        assert 0 < filled < 4
        new_key = await engine.replace_remaining(key)
        assert new_key == "ic1:open:2"
        await wait_all(engine, sim, [key, new_key])

        old, new = engine.report(key), engine.report(new_key)
        assert old is not None
        assert new is not None
        entries = [s for s in exchange_orders(sim) if s.order_ref.startswith("ic1:open")]
        assert [(s.order_ref, s.quantity) for s in entries] == [
            ("ic1:open:1", 4),
            ("ic1:open:2", 4 - old.filled),
        ]
        assert old.outcome is Outcome.PARTIALLY_FILLED
        assert "remainder replaced by ic1:open:2" in (old.orders[0].message or "")
        assert new.outcome is Outcome.FILLED
        assert old.filled + new.filled == 4
        first_order = [
            e.order.spec.quantity
            for e in events.drain()
            if isinstance(e, OrderStatusEvent) and e.order.spec.order_ref == key
        ]
        assert set(first_order) == {4}, "walking changes the price only, never the units"
        positions = {p.contract: p.quantity for p in await sim.broker.positions()}
        assert positions == {leg.contract: 4 * leg.quantity for leg in condor_legs()}
        assert old.exits == ()
        assert [(e.role, e.quantity) for e in new.exits] == [
            (OrderRole.TAKE_PROFIT, 4),
            (OrderRole.STOP, 4),
        ], "the exits cover the units of both orders"

    run(scenario())


def test_a_rejected_order_is_reported_with_the_brokers_reason() -> None:
    sim = simulation()

    async def scenario() -> None:
        await connected(sim)
        engine = await started_engine(sim)
        sim.broker.faults.reject_next_orders(1)
        report = await engine.run(OrderRequest(intent(condor_legs(), -1.00)))
        assert report.outcome is Outcome.REJECTED
        assert report.orders[0].status is RecordStatus.REJECTED
        assert "[201 error]" in (report.orders[0].message or "")

    run(scenario())


def test_no_order_is_sent_on_a_bad_quote() -> None:
    sim = simulation()

    async def scenario() -> None:
        await connected(sim)
        engine = await started_engine(sim)
        sim.broker.faults.bad_quotes(4, BadQuoteKind.CROSSED)
        report = await engine.run(OrderRequest(intent(condor_legs(), -1.00)))
        assert report.outcome is Outcome.NO_QUOTE
        assert not report.sent
        assert exchange_orders(sim) == []

    run(scenario())


def test_the_what_if_check_blocks_an_entry_the_account_cannot_carry() -> None:
    sim = simulation(cash=100.0)

    async def scenario() -> None:
        await connected(sim)
        engine = await started_engine(sim)
        report = await engine.run(OrderRequest(intent(condor_legs(), -1.00)))
        assert report.outcome is Outcome.MARGIN_BLOCKED
        assert report.margin is not None
        assert not report.margin.passed
        assert report.margin.margin > 100.0
        assert exchange_orders(sim) == []

    run(scenario())


def test_the_what_if_check_blocks_an_entry_over_the_margin_fraction() -> None:
    sim = simulation()
    config = ExecutionConfig(margin=MarginCheckConfig(max_margin_fraction=0.001))

    async def scenario() -> None:
        await connected(sim)
        engine = await started_engine(sim, config)
        check = await engine.check_margin(intent(condor_legs(), -1.00))
        assert not check.passed
        assert check.margin > 0.001 * 100_000
        assert "above 0.1% of the available funds" in check.reason
        assert exchange_orders(sim) == []

    run(scenario())


def test_dry_run_records_the_order_and_sends_nothing() -> None:
    sim = simulation()

    async def scenario() -> None:
        await connected(sim)
        engine = await started_engine(sim, dry_run=True)
        market = await market_of(sim, condor_legs())
        report = await engine.run(OrderRequest(intent(condor_legs(), -1.00)))
        assert report.outcome is Outcome.DRY_RUN
        assert not report.sent
        (record,) = report.orders
        assert record.dry_run
        assert record.order_id == "dry-run:ic1:open:1"
        assert record.limit_price == round_down(market.mid, 0.01)
        assert engine.take_records() == (record,)
        assert exchange_orders(sim) == []
        assert await sim.broker.open_orders() == ()

    run(scenario())


def test_informational_codes_never_end_an_order() -> None:
    sim = simulation()

    async def scenario() -> None:
        await connected(sim)
        engine = await started_engine(sim, execution_config(steps=2))
        market = await market_of(sim, condor_legs())
        key = await engine.submit(OrderRequest(intent(condor_legs(), round(market.mid - 1, 2))))
        (order,) = await sim.broker.open_orders()
        now = sim.clock.now()
        for code, text in (
            (2104, "Market data farm connection is OK:usfarm"),
            (2158, "Sec-def data farm connection is OK:secdefnj"),
            (10349, "Order TIF was set to DAY based on order preset."),
            (399, "Order Message: Warning: your order will not be placed at the exchange"),
            (202, "Order Canceled - reason:"),
        ):
            sim.exchange.emit(ErrorEvent(now, code, text, order.order_id))
        await engine.poll()
        assert key in engine.working(), "only the order status ends an order"
        await sim.clock.sleep(STEP_SECONDS)
        await engine.poll()
        assert key in engine.working()
        report = await engine.wait(key)
        assert report.outcome is Outcome.NOT_FILLED
        message = report.orders[0].message or ""
        assert "[10349 info]" in message
        assert "[2104 info]" in message
        assert "walk gave up" in message

    run(scenario())


def test_a_request_that_meets_a_lost_connection_is_not_kept_and_can_be_sent_again() -> None:
    sim = simulation()

    async def scenario() -> None:
        await connected(sim)
        engine = await started_engine(sim)
        request = OrderRequest(intent(condor_legs(), -1.00))
        sim.broker.faults.disconnect(120)
        with pytest.raises(ConnectionLostError):
            await engine.submit(request)
        assert engine.working() == ()
        await sim.clock.sleep(180)
        report = await engine.run(request)
        assert report.outcome is Outcome.FILLED
        assert len(exchange_orders(sim)) == 1

    run(scenario())


def test_requests_need_a_started_engine() -> None:
    sim = simulation()
    engine = order_engine(sim)

    async def scenario() -> None:
        with pytest.raises(RuntimeError, match="start"):
            await engine.submit(OrderRequest(intent(condor_legs(), -1.00)))
        with pytest.raises(RuntimeError, match="start"):
            await engine.poll()

    run(scenario())


def test_a_walk_rides_out_a_lost_connection() -> None:
    sim = simulation()

    async def scenario() -> None:
        await connected(sim)
        engine = await started_engine(sim, execution_config(steps=3))
        market = await market_of(sim, condor_legs())
        key = await engine.submit(OrderRequest(intent(condor_legs(), round(market.mid - 1, 2))))
        sim.broker.faults.disconnect(2 * STEP_SECONDS)
        report = await engine.wait(key)
        assert report.outcome is Outcome.NOT_FILLED
        message = report.orders[0].message or ""
        assert "retrying after: [1100]" in message
        assert "walk gave up after 3 steps" in message
        assert len(exchange_orders(sim)) == 1

    run(scenario())
