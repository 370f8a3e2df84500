"""Legging protection: imbalances found and repaired without ever adding risk."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hypothesis import given
from hypothesis import strategies as st

from v6.brokers import ExecutionEvent
from v6.domain import Leg, OptionContract, Right
from v6.execution.legging import (
    RepairKind,
    as_order_legs,
    held_by_strategy,
    leg_imbalance,
    order_imbalance,
    repair_limit,
)
from v6.execution.pricing import ComboMarket

EXPIRY = date(2024, 2, 16)
LONG_PUT = OptionContract("SPY", EXPIRY, 480, Right.PUT)
SHORT_PUT = OptionContract("SPY", EXPIRY, 485, Right.PUT)
SHORT_CALL = OptionContract("SPY", EXPIRY, 510, Right.CALL)
LONG_CALL = OptionContract("SPY", EXPIRY, 515, Right.CALL)
CONDOR = (Leg(LONG_PUT, 1), Leg(SHORT_PUT, -1), Leg(SHORT_CALL, -1), Leg(LONG_CALL, 1))


def execution(contract: OptionContract, quantity: int, ref: str = "ic1:open:1") -> ExecutionEvent:
    return ExecutionEvent(
        datetime(2024, 1, 2, 15, tzinfo=UTC),
        f"e{contract.strike}{quantity}",
        1,
        contract,
        quantity,
        1.0,
        order_ref=ref,
    )


def test_whole_units_are_balanced() -> None:
    assert leg_imbalance(CONDOR, {}) is None
    held = {leg.contract: 3 * leg.quantity for leg in CONDOR}
    assert leg_imbalance(CONDOR, held) is None


def test_naked_shorts_get_their_protective_longs() -> None:
    found = leg_imbalance(CONDOR, {SHORT_PUT: -1, SHORT_CALL: -1})
    assert found is not None
    assert found.kind is RepairKind.COMPLETE
    assert set(found.trades) == {Leg(LONG_PUT, 1), Leg(LONG_CALL, 1)}
    assert found.units == 0


def test_a_half_filled_condor_is_flattened_not_completed_with_new_shorts() -> None:
    found = leg_imbalance(CONDOR, {LONG_PUT: 1, SHORT_PUT: -1})
    assert found is not None
    assert found.kind is RepairKind.FLATTEN
    assert set(found.trades) == {Leg(LONG_PUT, -1), Leg(SHORT_PUT, 1)}


def test_extra_units_beyond_the_whole_ones_are_closed() -> None:
    held = {leg.contract: 2 * leg.quantity for leg in CONDOR} | {SHORT_PUT: -3, LONG_PUT: 3}
    found = leg_imbalance(CONDOR, held)
    assert found is not None
    assert found.units == 2
    assert set(found.trades) == {Leg(LONG_PUT, -1), Leg(SHORT_PUT, 1)}
    assert "flatten" in found.describe()


def test_a_closing_order_out_of_ratio_is_finished_not_undone() -> None:
    closing = tuple(Leg(leg.contract, -leg.quantity) for leg in CONDOR)
    executions = [execution(SHORT_PUT, 1, "ic1:close:2"), execution(LONG_PUT, -1, "ic1:close:2")]
    found = order_imbalance(closing, 1, executions, closing=True)
    assert found is not None
    assert found.kind is RepairKind.FLATTEN
    assert set(found.trades) == {Leg(SHORT_CALL, 1), Leg(LONG_CALL, -1)}
    assert order_imbalance(closing, 1, executions[:0], closing=True) is None


def test_held_contracts_are_summed_per_strategy_from_its_order_refs() -> None:
    executions = [
        execution(SHORT_PUT, -2, "ic1:open:1"),
        execution(SHORT_PUT, 1, "ic1:close:1"),
        execution(SHORT_PUT, -5, "ic2:open:1"),
        execution(LONG_PUT, 7, "not-a-v6-ref"),
    ]
    assert held_by_strategy(executions, "ic1") == {SHORT_PUT: -1}


def test_repair_orders_are_in_lowest_terms_and_pay_through_the_natural_price() -> None:
    legs, units = as_order_legs((Leg(LONG_PUT, 2), Leg(LONG_CALL, 2)))
    assert (legs, units) == ((Leg(LONG_PUT, 1), Leg(LONG_CALL, 1)), 2)
    assert repair_limit(ComboMarket(mid=1.00, natural=1.10, width=0.20), 0.01) == 1.30
    assert repair_limit(ComboMarket(mid=-0.02, natural=-0.01, width=0.02), 0.01) == -0.01


holdings = st.lists(st.integers(min_value=-4, max_value=4), min_size=4, max_size=4)


@given(holdings)
def test_a_repair_always_leaves_whole_units_and_completing_only_buys(quantities: list[int]) -> None:
    held = {leg.contract: q for leg, q in zip(CONDOR, quantities, strict=True)}
    found = leg_imbalance(CONDOR, held)
    if found is None:
        return
    after = dict(held)
    for trade in found.trades:
        after[trade.contract] = after.get(trade.contract, 0) + trade.quantity
    assert leg_imbalance(CONDOR, after) is None
    if found.kind is RepairKind.COMPLETE:
        assert all(trade.quantity > 0 for trade in found.trades)
    else:
        shorts_after = sum(-q for c, q in after.items() if q < 0)
        shorts_before = sum(-q for c, q in held.items() if q < 0)
        assert shorts_after <= shorts_before
