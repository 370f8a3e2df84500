"""Reconciliation on the simulated exchange, through `PositionSync`, into the Delta tables.

SPY, Thursday 2024-03-14 (open 516.97) to Monday 2024-03-18; options expire on Friday 03-15
(close 509.83). The book, each strategy set up for one case:

* ``calls-expire`` - a 545/550 bear call vertical expiring Friday: both legs expire;
* ``puts-assigned`` - a 530/475 bull put vertical expiring Friday: the 530 put is assigned
  (100 shares delivered), the 475 put expires;
* ``closed-outside`` - an April vertical closed on Thursday by an order placed outside V6;
* ``resized`` - an April vertical of 2 units, 3 at the broker;
* ``reshaped`` - an April vertical whose long leg the broker holds one more of;
* ``entering`` - a PENDING entry whose short leg has filled (execution's business);
* and a short April put nobody knows about: adopted.

Thursday's reconciliation (on request, after the outside order filled) and Monday's (the
periodic one) must produce exactly the expected events, alerts and strategy changes; a fresh
`PositionSync` on the same store, with the strategies read back from it (execution saved the
book when it opened it), finds nothing new.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from sync_books import open_at_exchange

from v6.brokers import OrderLeg, OrderSpec
from v6.brokers.sim import Simulation, open_simulation
from v6.config import V6Config
from v6.config.broker import BrokerConfig, SimConfig
from v6.domain import (
    Leg,
    OptionContract,
    Position,
    Right,
    Severity,
    StockContract,
    Strategy,
    StrategyKind,
    StrategyStatus,
)
from v6.market.simulated import SimulatedMarket
from v6.store import ReconciliationEvent, Store, StoreLocation, TableSpec
from v6.sync import ConflictKind, PositionSync, Reconciliation, is_unmanaged

SIM = SimConfig(symbols=("SPY",), start_date=date(2024, 3, 14), end_date=date(2024, 3, 19))
CONFIG = V6Config(broker=BrokerConfig(sim=SIM))
THURSDAY_OPEN = datetime(2024, 3, 14, 13, 30, tzinfo=UTC)
MONDAY = datetime(2024, 3, 18, 13, 45, tzinfo=UTC)
FRIDAY, APRIL = date(2024, 3, 15), date(2024, 4, 19)
UNKNOWN_PUT = OptionContract("SPY", APRIL, 440, Right.PUT)


def put(strike: int, expiry: date = APRIL) -> OptionContract:
    return OptionContract("SPY", expiry, strike, Right.PUT)


def call(strike: int, expiry: date = APRIL) -> OptionContract:
    return OptionContract("SPY", expiry, strike, Right.CALL)


def vertical(
    sid: str,
    short: OptionContract,
    long: OptionContract,
    units: int = 1,
    status: StrategyStatus = StrategyStatus.OPEN,
) -> Strategy:
    opened = None if status is StrategyStatus.PENDING else THURSDAY_OPEN
    premium = None if status is StrategyStatus.PENDING else 1.0
    return Strategy(
        sid,
        StrategyKind.VERTICAL,
        (Leg(short, -1), Leg(long, 1)),
        quantity=units,
        status=status,
        entry_premium=premium,
        opened_at=opened,
    )


BOOK = [
    vertical("calls-expire", call(545, FRIDAY), call(550, FRIDAY)),
    vertical("puts-assigned", put(530, FRIDAY), put(475, FRIDAY)),
    vertical("closed-outside", put(480), put(470)),
    vertical("resized", put(460), put(450), units=2),
    vertical("reshaped", call(560), call(570)),
]
ENTERING = vertical("entering", put(490), put(485), status=StrategyStatus.PENDING)


@dataclass(repr=False)
class Story:
    thursday: Reconciliation
    monday: Reconciliation
    strategies: dict[str, Strategy]
    restarted: Reconciliation | None
    stored_events: list[ReconciliationEvent] = field(default_factory=list)
    stored_again: list[ReconciliationEvent] = field(default_factory=list)
    alerts: dict[str, Severity] = field(default_factory=dict)
    positions: list[Position] = field(default_factory=list)
    at_broker: list[Position] = field(default_factory=list)
    table_reads: Counter[str] = field(default_factory=Counter)


def diverge(sim: Simulation) -> None:
    """What happens at the broker without V6: the extra units and the unknown put."""
    account = sim.exchange.state.account
    open_at_exchange(sim.exchange, [vertical("resized", put(460), put(450))])
    account.trade(call(570), 1, 0.5, 0.0)
    account.trade(UNKNOWN_PUT, -2, 1.25, 0.0)
    account.trade(put(490), -1, 2.0, 0.0)


async def close_outside(sim: Simulation) -> None:
    """Buy back the 480/470 put vertical from outside V6 (no order ref), at a marketable
    debit, and let the market fill it."""
    quotes = await sim.broker.snapshot_quotes([put(480), put(470)])
    debit = round(quotes[0].ask - quotes[1].bid + 0.50, 2)
    legs = (OrderLeg(put(480), 1), OrderLeg(put(470), -1))
    await sim.broker.place_order(OrderSpec(legs, 1, limit_price=debit))
    await sim.clock.sleep(15 * 60)


async def story(tmp: Path) -> Story:
    sim = open_simulation(SimulatedMarket(SIM), CONFIG.broker)
    assert sim.clock.now() == THURSDAY_OPEN
    open_at_exchange(sim.exchange, BOOK)
    await sim.broker.connect()
    store = Store(StoreLocation(str(tmp)), app_id="engine")
    store.strategies.save([*BOOK, ENTERING], THURSDAY_OPEN)
    reads = count_reads(store)
    sync = PositionSync.from_config(sim.broker, sim.clock, store, CONFIG)
    first = await sync.cycle([*BOOK, ENTERING])
    assert first.reconciliation is not None
    assert first.reconciliation.events == ()
    diverge(sim)
    await close_outside(sim)
    sync.request_reconciliation()
    thursday = await sync.cycle(first.strategies)
    await sim.clock.sleep_until(MONDAY)
    monday = await sync.cycle(thursday.strategies)
    store.flush()
    sync.close()
    sync_reads = Counter(reads)
    stored = store.reconciliation.since()
    restarted = PositionSync.from_config(sim.broker, sim.clock, store, CONFIG)
    again = await restarted.cycle(store.strategies.live())
    store.flush()
    alerts = {a.alert_id: a.severity for a in store.alerts.unacknowledged()}
    return Story(
        thursday=_outcome(thursday.reconciliation),
        monday=_outcome(monday.reconciliation),
        strategies={s.strategy_id: s for s in store.strategies.with_status(list(StrategyStatus))},
        restarted=again.reconciliation,
        stored_events=stored,
        stored_again=store.reconciliation.since(),
        alerts=alerts,
        positions=store.positions.current(),
        at_broker=[p for p in await sim.broker.positions() if not p.is_flat],
        table_reads=sync_reads,
    )


def count_reads(store: Store) -> Counter[str]:
    """Count the store's table reads, by table, from now on."""
    reads: Counter[str] = Counter()
    read = store.reader.read

    def counted(spec: TableSpec, **options: Any) -> pa.Table:
        reads[spec.name] += 1
        return read(spec, **options)

    store.reader.read = counted  # type: ignore[method-assign]
    return reads


def _outcome(reconciliation: Reconciliation | None) -> Reconciliation:
    assert reconciliation is not None
    return reconciliation


@pytest.fixture(scope="module")
def told(tmp_path_factory: pytest.TempPathFactory) -> Story:
    return asyncio.run(story(tmp_path_factory.mktemp("reconcile")))


def events_by_symbol(reconciliation: Reconciliation) -> dict[str, ReconciliationEvent]:
    return {e.symbol: e for e in reconciliation.events}


def test_a_position_closed_outside_v6_closes_its_strategy(told: Story) -> None:
    events = events_by_symbol(told.thursday)
    for contract in (put(480), put(470)):
        event = events[contract.occ_symbol]
        assert event.kind == ConflictKind.MISSING
        assert event.resolution == "closed_outside_v6; strategy closed-outside closed"
    assert told.strategies["closed-outside"].status is StrategyStatus.CLOSED


def test_an_unknown_position_is_adopted_unmanaged(told: Story) -> None:
    event = events_by_symbol(told.thursday)[UNKNOWN_PUT.occ_symbol]
    assert (event.kind, event.broker_quantity, event.store_quantity) == (
        ConflictKind.UNKNOWN,
        -2,
        0,
    )
    adopted = told.strategies["adopted-20240314-SPY240419P00440000"]
    assert is_unmanaged(adopted)
    assert (adopted.status, adopted.quantity, adopted.entry_premium) == (
        StrategyStatus.OPEN,
        2,
        1.25,
    )


def test_a_quantity_mismatch_goes_the_brokers_way(told: Story) -> None:
    events = events_by_symbol(told.thursday)
    assert {events[c.occ_symbol].kind for c in (put(460), put(450), call(570))} == {
        ConflictKind.MISMATCH
    }
    assert told.strategies["resized"].quantity == 3
    assert told.strategies["resized"].kind is StrategyKind.VERTICAL
    reshaped = told.strategies["reshaped"]
    assert is_unmanaged(reshaped)
    assert sorted((leg.contract.strike, leg.quantity) for leg in reshaped.legs) == [
        (560, -1),
        (570, 2),
    ]
    assert "flagged for review" in (events[call(570).occ_symbol].resolution or "")


def test_contracts_of_a_pending_entry_are_left_alone(told: Story) -> None:
    assert put(490).occ_symbol not in events_by_symbol(told.thursday)
    assert len(told.thursday.events) == 6


def test_expired_legs_close_their_strategy(told: Story) -> None:
    events = events_by_symbol(told.monday)
    for contract in (call(545, FRIDAY), call(550, FRIDAY), put(475, FRIDAY)):
        assert (events[contract.occ_symbol].resolution or "").startswith("expired")
    assert told.strategies["calls-expire"].status is StrategyStatus.CLOSED


def test_an_assignment_is_recognized_and_linked(told: Story) -> None:
    events = events_by_symbol(told.monday)
    assigned = events[put(530, FRIDAY).occ_symbol]
    assert (assigned.resolution or "").startswith("assigned")
    shares = events["SPY"]
    assert (shares.kind, shares.broker_quantity, shares.store_quantity) == (
        ConflictKind.ASSIGNMENT,
        100,
        0,
    )
    assert "linked to strategy puts-assigned" in (shares.resolution or "")
    assert told.strategies["puts-assigned"].status is StrategyStatus.CLOSED
    assert told.alerts[shares.event_id] is Severity.CRITICAL
    held = {p.contract: p.quantity for p in told.positions}
    assert held[StockContract("SPY")] == 100
    assert len(told.monday.events) == 5


def test_every_conflict_is_recorded_once_with_an_alert(told: Story) -> None:
    produced = [*told.thursday.events, *told.monday.events]
    assert sorted(e.event_id for e in told.stored_events) == sorted(e.event_id for e in produced)
    assert {e.event_id for e in produced} <= set(told.alerts)


def test_a_restart_finds_nothing_new(told: Story) -> None:
    assert told.restarted is not None
    assert told.restarted.events == ()
    assert told.restarted.changed == told.restarted.adopted == ()
    assert len(told.stored_again) == len(told.stored_events)


def test_the_positions_table_follows_the_broker(told: Story) -> None:
    def by_symbol(positions: list[Position]) -> list[Position]:
        return sorted(positions, key=lambda p: str(p.contract))

    assert by_symbol(told.positions) == by_symbol(told.at_broker)


def test_reconciliations_read_the_positions_table_once(told: Story) -> None:
    assert told.table_reads["positions"] == 1
