"""The journaled state keeps the JSON of its frozen parts (order specs, executions) and its
text between records: what it writes must stay exactly what a full serialization writes."""

from __future__ import annotations

import json
import operator
from datetime import UTC, datetime
from typing import Any

from brokers_sim_fakes import put, single

from v6.brokers import ExecutionEvent, OrderStatus
from v6.brokers.sim import codec
from v6.brokers.sim.orders import SimOrder
from v6.brokers.sim.state import ExchangeState, execution_to_json
from v6.config.broker import SimConfig

NOW = datetime(2020, 3, 16, 14, 30, tzinfo=UTC)


def full_serialization(state: ExchangeState) -> dict[str, Any]:
    """``to_json`` with every spec and execution serialized afresh."""
    orders = [
        {**codec.order_to_json(order), "spec": codec.spec_to_json(order.spec)}
        for order in state.orders.orders.values()
    ]
    executions = [execution_to_json(execution) for execution in state.executions]
    return {**state.to_json(), "orders": orders, "executions": executions}


def text(data: dict[str, Any]) -> str:
    """Exact text: dict equality would not tell 0.0 from -0.0 or 1 from 1.0."""
    return json.dumps(data, sort_keys=True)


def written_text(state: ExchangeState) -> str:
    """What the journal writes, checked against a full serialization's compact text."""
    journaled = state.json_text()
    assert journaled == codec.compact_json(full_serialization(state))
    return journaled


def test_the_state_writes_what_a_full_serialization_writes_as_it_changes() -> None:
    state = ExchangeState.fresh(SimConfig(), NOW, NOW.date(), "SIM0001")
    order = SimOrder(1, single(put(390), 1, 2, 1.00), OrderStatus.SUBMITTED)
    state.orders.add(order)
    state.executions.append(
        ExecutionEvent(NOW, "sim.00000001", 1, put(390), 1, 1.0, commission=0.65)
    )
    written = [text(state.to_json())]
    journaled = [written_text(state)]

    order.spec = order.spec.changed(quantity=1, limit_price=-0.0)
    order.fill_value, order.filled = -0.0, 1
    written.append(text(state.to_json()))
    journaled.append(written_text(state))
    order.spec = order.spec.changed(limit_price=0.0)
    state.executions.append(
        ExecutionEvent(NOW, "sim.00000001", 1, put(390), 1, 1.0, commission=-0.0)
    )
    state.orders.add(SimOrder(2, single(put(385), 1, 1, 0.5), OrderStatus.SUBMITTED))
    state.outage_until = NOW
    written.append(text(state.to_json()))
    journaled.append(written_text(state))

    assert written[-1] == text(full_serialization(state))
    assert '"limit_price":-0.0' in journaled[1]
    assert '"fill_value":-0.0' in journaled[1]
    assert '"limit_price":-0.0' not in journaled[2]
    assert len(set(journaled)) == 3
    assert '"limit_price": -0.0' in written[1]
    assert '"limit_price": -0.0' not in written[2]
    assert '"commission": -0.0' in written[2]
    assert len(set(written)) == 3


def test_kept_json_is_kept_per_object_not_per_equal_value() -> None:
    calls: list[float] = []

    def encode(value: float) -> dict[str, Any]:
        calls.append(value)
        return {"value": value}

    kept = codec.KeptJson(encode, limit=2)
    zero, negative_zero, other = 0.0, -0.0, 2.5

    assert kept(zero) is kept(zero)
    assert text(kept(negative_zero)) == '{"value": -0.0}'
    assert kept.text(negative_zero) == '{"value":-0.0}'
    assert kept.text(zero) == '{"value":0.0}'
    assert kept(other) == {"value": 2.5}
    assert calls == [zero, negative_zero, other]


def test_kept_text_is_kept_while_every_field_is_the_very_same_object() -> None:
    order = SimOrder(1, single(put(390), 1, 2, 1.00), OrderStatus.SUBMITTED)
    calls: list[float] = []

    def encode(kept: SimOrder) -> dict[str, Any]:
        calls.append(kept.fill_value)
        return codec.order_to_json(kept)

    kept = codec.KeptText(encode, operator.attrgetter("fill_value", "filled", "status"))
    first = kept(order)
    assert kept(order) is first
    order.fill_value = -0.0
    assert '"fill_value":-0.0' in kept(order)
    order.fill_value = 0.0
    assert kept(order) == first
    order.status = OrderStatus.FILLED
    assert kept(order) == codec.compact_json(codec.order_to_json(order))
    assert len(calls) == 4
