"""Fault injection: outages (1100/1102), rejections, partial fills, stale and bad quotes -
on demand through the API and at random through the configuration."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pytest
from brokers_sim_fakes import PinnedQuote, events_of, of_kind, open_fake, put, run, single, step

from v6.brokers import (
    ConnectFailedError,
    ConnectionEvent,
    ConnectionLostError,
    ErrorEvent,
    ExecutionEvent,
    OrderStatus,
    Quote,
    QuoteEvent,
)
from v6.brokers.sim import BadQuoteKind, Faults
from v6.config.broker import FaultInjectionConfig


def test_an_outage_holds_order_events_until_connectivity_returns() -> None:
    sim, _ = open_fake()

    async def scenario() -> None:
        broker = sim.broker
        await broker.connect()
        stream = broker.events()
        await broker.subscribe_quotes(put(395))
        order = await broker.place_order(single(put(390), 1, 1, 1.10))
        stream.drain()
        broker.faults.disconnect(45 * 60)
        lost = stream.drain()
        assert isinstance(lost[0], ConnectionEvent)
        assert not lost[0].connected
        assert [e.code for e in of_kind(lost, ErrorEvent)] == [1100, 2103]
        assert not broker.is_connected
        with pytest.raises(ConnectionLostError) as error:
            await broker.place_order(single(put(390), 1, 1, 1.10))
        assert error.value.code == 1100
        await step(sim)
        assert stream.drain() == [], "the fill happened but is not reported yet"
        await step(sim)
        events = stream.drain()
        codes = [e.code for e in of_kind(events, ErrorEvent)]
        assert codes[:2] == [1102, 2104]
        restored = of_kind(events, ConnectionEvent)[0]
        fills = of_kind(events, ExecutionEvent)
        assert [f.order_id for f in fills] == [order.order_id]
        assert events.index(restored) < events.index(fills[0])
        assert fills[0].time < restored.time
        assert broker.is_connected
        assert len(of_kind(events, QuoteEvent)) == 1, "only the quote after the restore"

    run(scenario())


def test_connect_retries_with_backoff_until_the_exchange_is_back() -> None:
    sim, _ = open_fake()

    async def scenario() -> None:
        broker = sim.broker
        start = sim.clock.now()
        broker.faults.disconnect(10)
        await broker.connect()
        assert broker.is_connected
        assert sim.clock.now() - start == timedelta(seconds=2 + 4 + 8)

    run(scenario())


def test_connect_gives_up_with_502_after_the_configured_retries() -> None:
    sim, _ = open_fake()

    async def scenario() -> None:
        sim.broker.faults.disconnect(3600)
        with pytest.raises(ConnectFailedError) as error:
            await sim.broker.connect()
        assert error.value.code == 502

    run(scenario())


def test_disconnect_drops_events_and_lines_until_reconnected() -> None:
    sim, _ = open_fake()

    async def scenario() -> None:
        broker = sim.broker
        await broker.connect()
        stream = broker.events()
        await broker.subscribe_quotes(put(390))
        await broker.disconnect()
        await step(sim)
        events = stream.drain()
        assert [type(e) for e in events] == [QuoteEvent, ConnectionEvent]
        await broker.connect()
        await step(sim)
        assert events_of(stream, QuoteEvent) == []

    run(scenario())


def test_the_next_k_orders_are_rejected_on_demand() -> None:
    sim, _ = open_fake()

    async def scenario() -> None:
        broker = sim.broker
        await broker.connect()
        stream = broker.events()
        broker.faults.reject_next_orders(2)
        states = [await broker.place_order(single(put(390), 1, 1, 0.50)) for _ in range(3)]
        assert [s.status for s in states] == [
            OrderStatus.INACTIVE,
            OrderStatus.INACTIVE,
            OrderStatus.SUBMITTED,
        ]
        errors = events_of(stream, ErrorEvent)
        assert [(e.code, e.req_id) for e in errors] == [(201, 1), (201, 2)]
        assert "reason" in errors[0].message

    run(scenario())


def test_forced_partial_fills_leave_the_rest_working() -> None:
    sim, _ = open_fake()

    async def scenario() -> None:
        broker = sim.broker
        await broker.connect()
        broker.faults.partial_fills(1)
        order = await broker.place_order(single(put(390), 1, 4, 1.10))
        await step(sim)
        assert [o.filled for o in await broker.open_orders()] == [2]
        await step(sim)
        fills = [e.quantity for e in await broker.executions() if e.order_id == order.order_id]
        assert fills == [2, 2]

    run(scenario())


def test_stale_quotes_repeat_the_previous_quote() -> None:
    sim, market = open_fake()

    async def scenario() -> None:
        broker = sim.broker
        await broker.connect()
        stream = broker.events()
        await broker.subscribe_quotes(put(390))
        broker.faults.stale_quotes(1)
        market.spots["SPY"] = 380.0
        await step(sim, 2)
        quotes = [e.quote for e in events_of(stream, QuoteEvent)]
        assert quotes[1] == quotes[0], "stale: same prices, same time stamp"
        assert quotes[2].time > quotes[0].time
        assert quotes[2].bid == pytest.approx(10.95)

    run(scenario())


@pytest.mark.parametrize("kind", list(BadQuoteKind))
def test_bad_quotes_on_demand(kind: BadQuoteKind) -> None:
    sim, _ = open_fake()

    async def scenario() -> None:
        broker = sim.broker
        await broker.connect()
        broker.faults.bad_quotes(1, kind)
        bad, good = (await broker.snapshot_quotes([put(390)]))[0], None
        await sim.clock.sleep(1)
        good = (await broker.snapshot_quotes([put(390)]))[0]
        assert not bad.is_valid
        assert good.is_valid
        checks = {
            BadQuoteKind.NAN: math.isnan(bad.bid),
            BadQuoteKind.ZERO: bad.bid == bad.ask == 0.0,
            BadQuoteKind.NEGATIVE: bad.bid < 0,
            BadQuoteKind.CROSSED: bad.bid > bad.ask,
        }
        assert checks[kind]

    run(scenario())


def test_configured_rates_inject_faults_at_random() -> None:
    faults = FaultInjectionConfig(reject_rate=1.0, bad_quote_rate=1.0, disconnect_rate=1.0)
    sim, _ = open_fake(faults=faults)

    async def scenario() -> None:
        broker = sim.broker
        await broker.connect()
        stream = broker.events()
        state = await broker.place_order(single(put(390), 1, 1, 0.50))
        assert state.status is OrderStatus.INACTIVE
        assert not (await broker.snapshot_quotes([put(390)]))[0].is_valid
        await step(sim)
        assert 1100 in [e.code for e in events_of(stream, ErrorEvent)]

    run(scenario())


def test_random_partial_fills_and_stale_quotes() -> None:
    faults = FaultInjectionConfig(partial_fill_rate=1.0, stale_quote_rate=1.0)
    sim, market = open_fake(faults=faults)
    market.overrides[put(390)] = PinnedQuote(0.95, 1.05)

    async def scenario() -> None:
        broker = sim.broker
        await broker.connect()
        await broker.place_order(single(put(390), 1, 8, 1.10))
        first = (await broker.snapshot_quotes([put(395)]))[0]
        market.spots["SPY"] = 380.0
        await step(sim)
        assert [o.filled for o in await broker.open_orders()] == [4]
        assert (await broker.snapshot_quotes([put(395)]))[0] == first

    run(scenario())


def test_fault_requests_are_checked() -> None:
    sim, _ = open_fake()
    with pytest.raises(ValueError, match="count"):
        sim.broker.faults.reject_next_orders(-1)
    with pytest.raises(ValueError, match="seconds"):
        sim.broker.faults.disconnect(0)


def test_a_stale_quote_repeats_one_delivered_clean_by_a_snapshot() -> None:
    sim, market = open_fake()

    async def scenario() -> None:
        broker = sim.broker
        await broker.connect()
        first = (await broker.snapshot_quotes([put(390), put(395)]))[1]
        market.spots["SPY"] = 380.0
        await step(sim)
        broker.faults.stale_quotes(1)
        stale, fresh = await broker.snapshot_quotes([put(395), put(395)])
        assert stale == first
        assert fresh.time > first.time

    run(scenario())


def quote_faults(seed: int) -> Faults:
    config = FaultInjectionConfig(stale_quote_rate=0.3, bad_quote_rate=0.3)
    return Faults(config, np.random.default_rng(seed), np.random.default_rng(seed + 1))


def test_delivering_a_batch_is_delivering_each_quote_in_turn() -> None:
    sim, market = open_fake()
    contracts = [put(strike) for strike in range(380, 420, 5)]
    batch, each = quote_faults(3), quote_faults(3)
    delivered: list[tuple[list[Quote], list[Quote]]] = []
    for spot in (400.0, 401.0, 402.0, 403.0):
        market.spots["SPY"] = spot
        quotes = sim.exchange.prices.quotes(contracts)
        delivered.append((batch.deliver_all(quotes), [each.deliver(q) for q in quotes]))
        run(step(sim))
    assert all(repr(by_batch) == repr(one_by_one) for by_batch, one_by_one in delivered)
    assert any(not q.is_valid for by_batch, _ in delivered for q in by_batch)
