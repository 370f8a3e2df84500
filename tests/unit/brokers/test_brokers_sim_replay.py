"""A paper session without an IB account: a historical day replayed at 1x on the wall clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from brokers_sim_fakes import MONDAY, FakeMarket, put, run, sim_config, single

from v6.brokers import OrderStatus
from v6.brokers.sim import SimBroker, SimExchange
from v6.clock import NEW_YORK, ReplayClock

TODAY = date(2026, 7, 15)


def test_the_replayed_day_follows_the_wall_clock_and_never_skips_time() -> None:
    wall = [datetime(2026, 7, 15, 14, 0, tzinfo=UTC)]  # 10:00 in New York

    async def let_time_pass(seconds: float) -> None:
        wall[0] += timedelta(seconds=seconds)

    config = sim_config()
    exchange = SimExchange(FakeMarket(), config.sim, dividends={})
    clock = ReplayClock(MONDAY, TODAY, wall=lambda: wall[0], real_sleep=let_time_pass)
    clock.attach(exchange)
    broker = SimBroker(exchange, clock, config)

    async def session() -> None:
        await broker.connect()
        assert exchange.now == datetime(2020, 3, 16, 10, 0, tzinfo=NEW_YORK)
        order = await broker.place_order(single(put(390), 1, 1, 1.10))
        await clock.sleep(60)
        assert (await broker.open_orders())[0].status is OrderStatus.SUBMITTED
        await clock.sleep(29 * 60)
        assert [e.order_id for e in await broker.executions()] == [order.order_id]
        await clock.sleep_until(datetime(2020, 3, 16, 16, 30, tzinfo=NEW_YORK))
        assert wall[0] == datetime(2026, 7, 15, 20, 30, tzinfo=UTC)
        assert exchange.now == clock.now() == datetime(2020, 3, 16, 16, 30, tzinfo=NEW_YORK)

    run(session())
