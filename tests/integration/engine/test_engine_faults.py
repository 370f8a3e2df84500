"""The engine under injected faults (the simulated exchange's fault API) and in a stress window,
asserted from the Delta tables and the exchange's own positions.

* Rejections: once strategies are open, the exchange rejects the next orders; the breaker trips
  (a risk event), no entry goes out while it is open, exits still do.
* Bad quotes: every quote V6 receives is bad; nothing is sent on them.
* A connection loss mid-run: the run goes on, and the broker and the store still agree.
* Stress: 2020-02-15..2020-04-30 and 2008-09-01..2008-12-31 run clean - no strategy loses
  more than its max loss plus commissions, limits hold, no naked leg.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
from engine_runs import (
    Finished,
    Inject,
    assert_losses_within_max_loss,
    assert_no_naked_leg,
    config,
    frame,
    positions_of,
    run,
)

from v6.brokers.sim import BadQuoteKind
from v6.domain import StrategyStatus
from v6.engine import TradingEngine, build_engine
from v6.market.calendar import nyse_calendar
from v6.risk import RiskEvent
from v6.store import Store


def once_when(ready: Callable[[TradingEngine], bool], fault: Inject) -> Inject:
    """An ``on_cycle`` that injects ``fault`` after the first cycle where ``ready`` holds."""
    done: list[bool] = []

    def inject(engine: TradingEngine) -> None:
        if not done and ready(engine):
            fault(engine)
            done.append(True)

    return inject


def has_open(engine: TradingEngine) -> bool:
    return any(s.status is StrategyStatus.OPEN for s in engine.book.live.values())


def breaker_trips(store: Store) -> list[RiskEvent]:
    return [
        e
        for e in store.risk_events.since()
        if e.kind.value == "breaker_transition" and e.to_state == "open"
    ]


def submitted_after(store: Store, at: datetime, intent: str) -> pl.DataFrame:
    orders = frame(store, "orders")
    return orders.filter((pl.col("intent") == intent) & (pl.col("submitted_at") > at))


@pytest.fixture(scope="module")
def rejected(tmp_path_factory: pytest.TempPathFactory) -> Finished:
    def reject(engine: TradingEngine) -> None:
        sim = engine.parts.simulation
        assert sim is not None
        sim.exchange.faults.reject_next_orders(2)

    settings = config(date(2020, 2, 24), 5, slow_breaker=True)
    return run(settings, tmp_path_factory.mktemp("rejected"), once_when(has_open, reject))


def test_rejections_trip_the_breaker(rejected: Finished) -> None:
    assert breaker_trips(rejected.store) != []
    failures = [e for e in rejected.store.risk_events.since() if e.kind.value == "failure_recorded"]
    assert any("rejected" in e.reason for e in failures)


def test_no_entry_goes_out_while_the_breaker_is_open(rejected: Finished) -> None:
    tripped = breaker_trips(rejected.store)[0].at
    reopened = [
        e.at
        for e in rejected.store.risk_events.since(tripped)
        if e.kind.value == "breaker_transition" and e.to_state != "open"
    ]
    entries = submitted_after(rejected.store, tripped, "open")
    if reopened:
        entries = entries.filter(pl.col("submitted_at") < reopened[0])
    assert len(entries) == 0


def test_exits_still_go_out_after_the_breaker_trips(rejected: Finished) -> None:
    tripped = breaker_trips(rejected.store)[0].at
    exits = submitted_after(rejected.store, tripped, "close")
    assert len(exits.filter(pl.col("status") == "filled")) > 0


def test_rejections_leave_no_naked_leg(rejected: Finished) -> None:
    assert_no_naked_leg(rejected)


@pytest.mark.parametrize("kind", list(BadQuoteKind))
def test_nothing_is_sent_on_bad_quotes(kind: BadQuoteKind, tmp_path: Path) -> None:
    engine = build_engine(config(date(2020, 1, 2), 2), data_dir=tmp_path)
    sim = engine.parts.simulation
    assert sim is not None
    sim.exchange.faults.bad_quotes(10_000_000, kind)
    asyncio.run(engine.run())
    store = Store.from_config(engine.parts.config.storage)
    assert len(frame(store, "orders")) == 0
    assert asyncio.run(positions_of(sim.broker)) == ()


def test_a_connection_loss_mid_run_leaves_the_broker_and_the_store_in_agreement(
    tmp_path: Path,
) -> None:
    def lose_connection(engine: TradingEngine) -> None:
        sim = engine.parts.simulation
        assert sim is not None
        sim.exchange.faults.disconnect(3 * 3600.0)

    settings = config(date(2020, 1, 2), 6)
    finished = run(settings, tmp_path, once_when(has_open, lose_connection))
    assert finished.engine.stats.entries_sent > 0
    assert_no_naked_leg(finished)


STRESS_WINDOWS = {
    "covid-crash": (date(2020, 2, 15), date(2020, 4, 30)),
    "lehman-crash": (date(2008, 9, 1), date(2008, 12, 31)),
}


@pytest.fixture(scope="module", params=sorted(STRESS_WINDOWS))
def stress(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Finished:
    """The issue's stress windows, whole, on the engine tests' 30-minute market steps."""
    first, last = STRESS_WINDOWS[request.param]
    settings = config(first, len(nyse_calendar().sessions(first, last)))
    assert settings.broker.sim.end_date == nyse_calendar().sessions(first, last)[-1]
    return run(settings, tmp_path_factory.mktemp(request.param))


def test_the_stress_window_trades(stress: Finished) -> None:
    statuses = {s.status for s in stress.store.strategies.with_status(list(StrategyStatus))}
    assert StrategyStatus.CLOSED in statuses


def test_no_strategy_loses_more_than_its_max_loss_in_the_stress_window(stress: Finished) -> None:
    assert_losses_within_max_loss(stress.store)


def test_limits_hold_in_the_stress_window(stress: Finished) -> None:
    limits = stress.engine.parts.config.risk.portfolio
    assert len(stress.store.strategies.live()) <= limits.max_open_strategies
    breaches = [e for e in stress.store.risk_events.since() if e.kind.value == "limit_breached"]
    assert breaches == []


def test_no_naked_leg_in_the_stress_window(stress: Finished) -> None:
    assert_no_naked_leg(stress)
