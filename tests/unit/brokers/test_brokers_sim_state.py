"""The exchange state's content key: every change the journal must record changes the key,
and moving the clock fields alone does not (then only a clock record is written)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from datetime import UTC, datetime, timedelta

import pytest
from brokers_sim_fakes import put, single

from v6.brokers import ExecutionEvent, OrderStatus
from v6.brokers.sim.account import Holding
from v6.brokers.sim.faults import BadQuoteKind, FaultCounters
from v6.brokers.sim.orders import SimOrder
from v6.brokers.sim.state import ExchangeState
from v6.config.broker import SimConfig

NOW = datetime(2020, 3, 16, 14, 30, tzinfo=UTC)
CLOCK_FIELDS = {"time", "market_time"}


def fresh() -> ExchangeState:
    state = ExchangeState.fresh(SimConfig(), NOW, NOW.date(), "SIM0001")
    state.orders.add(SimOrder(1, single(put(390), 1, 2, 1.00), OrderStatus.SUBMITTED))
    state.account.holdings[put(395)] = Holding(-1, 120.0)
    return state


def execution(state: ExchangeState) -> None:
    state.executions.append(ExecutionEvent(NOW, "sim.00000001", 1, put(390), 1, 1.0))


def set_attribute(
    target: Callable[[ExchangeState], object], name: str, value: object
) -> Callable[[ExchangeState], None]:
    def mutate(state: ExchangeState) -> None:
        setattr(target(state), name, value)

    return mutate


def the_state(state: ExchangeState) -> ExchangeState:
    return state


def the_order(state: ExchangeState) -> SimOrder:
    return state.orders.orders[1]


TOP_LEVEL: dict[str, Callable[[ExchangeState], object]] = {
    "session_day": set_attribute(the_state, "session_day", NOW.date() + timedelta(days=1)),
    "finished": set_attribute(the_state, "finished", True),
    "next_order_id": lambda state: state.take_order_id(),
    "next_exec_id": lambda state: state.take_exec_id(),
    "account": lambda state: state.account.trade(put(390), 1, 1.0, 0.65),
    "orders": lambda state: state.orders.add(
        SimOrder(2, single(put(385), 1, 1, 0.5), OrderStatus.SUBMITTED)
    ),
    "fill_rng": lambda state: state.fill_rng.random(),
    "fault_rng": lambda state: state.fault_rng.random(),
    "quote_rng": lambda state: state.quote_rng.random(),
    "faults": set_attribute(lambda state: state.counters, "stale_quotes", 2),
    "outage_until": set_attribute(the_state, "outage_until", NOW + timedelta(minutes=1)),
    "executions": execution,
}

ORDER_VALUES: dict[str, object] = {
    "order_id": 9,
    "spec": single(put(390), 1, 3, 1.00),
    "status": OrderStatus.FILLED,
    "parent_id": 4,
    "filled": 1,
    "fill_value": 1.5,
    "commission": 0.65,
    "contracts_traded": 2,
    "shares_traded": 100,
    "stock_value_traded": 1.0,
    "triggered": True,
    "cancel_requested": True,
    "message": "x",
}

COUNTER_VALUES: dict[str, object] = {
    "reject_orders": 1,
    "partial_fills": 1,
    "stale_quotes": 1,
    "bad_quotes": 1,
    "bad_kind": BadQuoteKind.CROSSED,
}

ACCOUNT: dict[str, Callable[[ExchangeState], object]] = {
    "cash": set_attribute(lambda state: state.account, "cash", 1.0),
    "realized_pnl": set_attribute(lambda state: state.account, "realized_pnl", 1.0),
    "account_id": set_attribute(lambda state: state.account, "account_id", "SIM0002"),
    "quantity": set_attribute(lambda state: state.account.holdings[put(395)], "quantity", -2),
    "avg_cost": set_attribute(lambda state: state.account.holdings[put(395)], "avg_cost", 1.0),
    "dropped": lambda state: state.account.holdings.clear(),
}

MUTATIONS = {
    **{f"state.{name}": mutate for name, mutate in TOP_LEVEL.items()},
    **{f"order.{n}": set_attribute(the_order, n, v) for n, v in ORDER_VALUES.items()},
    **{
        f"counters.{n}": set_attribute(lambda state: state.counters, n, v)
        for n, v in COUNTER_VALUES.items()
    },
    **{f"account.{name}": mutate for name, mutate in ACCOUNT.items()},
}


def test_the_mutations_cover_every_journaled_field() -> None:
    assert set(TOP_LEVEL) == set(fresh().to_json()) - CLOCK_FIELDS
    assert set(ORDER_VALUES) == {f.name for f in fields(SimOrder)}
    assert set(COUNTER_VALUES) == {f.name for f in fields(FaultCounters)}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_every_journaled_change_changes_the_content_key(name: str) -> None:
    state = fresh()
    before_key, before_json = state.content_key(), state.to_json()
    MUTATIONS[name](state)
    assert state.to_json() != before_json
    assert state.content_key() != before_key


def test_moving_the_clock_fields_keeps_the_content_key() -> None:
    state = fresh()
    key, clock = state.content_key(), state.clock()
    state.time = state.market_time = NOW + timedelta(minutes=5)
    assert state.content_key() == key
    assert state.clock() != clock
    assert state.clock_json() == {
        "time": "2020-03-16T14:35:00+00:00",
        "market_time": "2020-03-16T14:35:00+00:00",
    }
    assert {k: state.to_json()[k] for k in CLOCK_FIELDS} == state.clock_json()
    moved = state.clock()
    state.time = NOW + timedelta(minutes=6)
    assert state.clock_json(since=moved) == {"time": "2020-03-16T14:36:00+00:00"}
    assert state.clock_json(since=state.clock()) == {}
