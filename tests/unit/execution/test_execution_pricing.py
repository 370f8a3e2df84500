"""The price walk, tick rounding and exit levels: pure rules, checked by example and as
properties over any market."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from v6.config.execution import PriceWalkConfig
from v6.execution.exits import ExitPlan
from v6.execution.pricing import ComboMarket, round_down, round_up, walk_price, walk_steps

QUARTERS = PriceWalkConfig(step_fraction=0.25, max_concession_fraction=1.0)


def market(mid: float, natural: float) -> ComboMarket:
    return ComboMarket(mid=mid, natural=natural, width=2 * abs(natural - mid))


def test_rounding_forgives_float_noise_and_otherwise_rounds_to_the_tick() -> None:
    assert round_down(1.13, 0.01) == 1.13
    assert round_down(0.1 + 0.2, 0.01) == 0.3
    assert round_down(-1.665, 0.01) == -1.67
    assert round_up(-1.665, 0.01) == -1.66
    assert round_up(2.301, 0.05) == 2.35
    with pytest.raises(ValueError, match="tick"):
        round_up(1.0, 0.0)


def test_a_credit_walks_from_the_mid_toward_the_natural_price_in_quarters() -> None:
    credit = market(mid=-2.00, natural=-1.80)
    prices = [walk_price(credit, step, -1.00, QUARTERS) for step in range(walk_steps(QUARTERS) + 1)]
    assert prices == [-2.00, -1.95, -1.90, -1.85, -1.80]


def test_the_walk_stops_at_the_floor_the_concession_cap_and_the_natural_price() -> None:
    credit = market(mid=-2.00, natural=-1.80)
    assert walk_price(credit, 4, -1.90, QUARTERS) == -1.90
    half = PriceWalkConfig(step_fraction=0.25, max_concession_fraction=0.5)
    assert walk_steps(half) == 2
    assert walk_price(credit, 4, -1.00, half) == -1.90
    assert walk_price(credit, 9, -1.00, QUARTERS) == -1.80


def test_an_urgent_order_starts_at_the_natural_price_but_not_past_its_limit() -> None:
    debit = market(mid=1.00, natural=1.20)
    assert walk_price(debit, 0, 5.00, QUARTERS, urgent=True) == 1.20
    assert walk_price(debit, 0, 1.10, QUARTERS, urgent=True) == 1.10


def test_each_step_concedes_at_least_a_tick() -> None:
    tight = market(mid=-1.005, natural=-1.00)
    assert [walk_price(tight, step, 0.0, QUARTERS) for step in range(3)] == [-1.01, -1.0, -1.0]


def test_a_credit_is_never_walked_into_a_debit() -> None:
    thin = market(mid=-0.02, natural=0.01)
    assert [walk_price(thin, step, 1.00, QUARTERS) for step in range(5)][-1] == -0.01


prices = st.floats(min_value=-20, max_value=20, allow_nan=False).map(lambda p: round(p, 3))


@given(
    mid=prices,
    spread=st.floats(min_value=0, max_value=3),
    limit=prices,
    step=st.integers(min_value=0, max_value=10),
    urgent=st.booleans(),
)
def test_no_price_passes_the_natural_the_limit_or_zero_for_a_credit(
    mid: float, spread: float, limit: float, step: int, urgent: bool
) -> None:
    walked = market(mid, mid + spread)
    price = walk_price(walked, step, limit, QUARTERS, urgent=urgent)
    assert price <= walked.natural + 1e-9
    assert price <= limit + 1e-9
    if mid < 0:
        assert price <= -0.01 + 1e-9
    assert math.isclose(price * 100, round(price * 100), abs_tol=1e-6)


@given(mid=prices, spread=st.floats(min_value=0, max_value=3), limit=prices)
def test_the_walk_only_concedes(mid: float, spread: float, limit: float) -> None:
    walked = market(mid, mid + spread)
    ladder = [walk_price(walked, step, limit, QUARTERS) for step in range(6)]
    assert ladder == sorted(ladder)


def test_exits_of_a_credit_take_profit_at_half_and_stop_at_three_times_the_credit() -> None:
    plan = ExitPlan(profit_fraction=0.5, loss_multiple=2.0)
    assert plan.closing_prices(-1.50, 0.01) == (0.75, 4.50)
    assert plan.closing_prices(-1.50, 0.01, max_close_cost=4.0) == (0.75, 3.99)


def test_exits_of_a_debit_sell_at_a_gain_and_stop_when_value_falls() -> None:
    plan = ExitPlan(profit_fraction=0.5, loss_multiple=0.5)
    assert plan.closing_prices(2.00, 0.01) == (-3.00, -1.00)
    with pytest.raises(ValueError, match="multiple < 1"):
        ExitPlan(0.5, 2.0).closing_prices(2.00, 0.01)


@pytest.mark.parametrize(
    ("profit", "loss", "match"),
    [(0.0, 2.0, "profit_fraction"), (1.5, 2.0, "profit_fraction"), (0.5, 0.0, "loss_multiple")],
)
def test_an_exit_plan_refuses_impossible_levels(profit: float, loss: float, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ExitPlan(profit, loss)
