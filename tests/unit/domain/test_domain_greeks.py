import math
from functools import reduce

import pytest
from hypothesis import given
from hypothesis import strategies as st

from v6.domain import Greeks, InvalidGreeksError

values = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
greeks = st.builds(Greeks, values, values, values, values, values)


def as_tuple(g: Greeks) -> tuple[float, ...]:
    return (g.delta, g.gamma, g.theta, g.vega, g.rho)


def close(a: Greeks, b: Greeks) -> bool:
    return all(
        math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-6)
        for x, y in zip(as_tuple(a), as_tuple(b), strict=True)
    )


@given(greeks, greeks)
def test_addition_is_componentwise_and_commutative(a: Greeks, b: Greeks) -> None:
    total = a + b
    assert total == b + a
    assert as_tuple(total) == tuple(x + y for x, y in zip(as_tuple(a), as_tuple(b), strict=True))


@given(greeks, greeks)
def test_subtraction_undoes_addition(a: Greeks, b: Greeks) -> None:
    assert close((a + b) - b, a)
    assert close(a - a, Greeks.zero())


@given(st.lists(greeks, min_size=1, max_size=6))
def test_sum_equals_repeated_addition(items: list[Greeks]) -> None:
    assert sum(items) == reduce(lambda x, y: x + y, items)


def test_sum_of_empty_list_is_the_int_zero_so_start_from_zero_greeks() -> None:
    assert sum([], Greeks.zero()) == Greeks(0.0, 0.0, 0.0, 0.0, 0.0)


@given(greeks, st.integers(min_value=-50, max_value=50), st.sampled_from([1, 10, 100]))
def test_scaled_multiplies_every_greek_by_quantity_times_multiplier(
    g: Greeks, quantity: int, multiplier: int
) -> None:
    scaled = g.scaled(quantity, multiplier)
    assert scaled == g * (quantity * multiplier) == (quantity * multiplier) * g
    assert as_tuple(scaled) == tuple(x * (quantity * multiplier) for x in as_tuple(g))


@given(greeks, greeks, st.integers(min_value=-20, max_value=20))
def test_scaling_distributes_over_addition(a: Greeks, b: Greeks, k: int) -> None:
    assert close((a + b) * k, a * k + b * k)


def test_to_position_units_converts_textbook_units() -> None:
    per_share = Greeks(delta=0.5, gamma=0.02, theta=-7.3, vega=20.0, rho=5.0)
    position = per_share.to_position_units(quantity=-2, multiplier=100)
    assert position.delta == pytest.approx(-100.0)  # short 2 contracts of 0.5 delta
    assert position.gamma == pytest.approx(-4.0)
    assert position.theta == pytest.approx(4.0)  # -7.3/yr / 365 = -0.02/day/share, x -200
    assert position.vega == pytest.approx(-40.0)  # 20 per 1.00 vol = 0.20 per point, x -200
    assert position.rho == pytest.approx(-10.0)


def test_negation_and_default_rho() -> None:
    g = Greeks(1.0, 2.0, 3.0, 4.0)
    assert g.rho == 0.0
    assert -g == Greeks(-1.0, -2.0, -3.0, -4.0, 0.0)


def test_ints_are_stored_as_floats() -> None:
    assert isinstance(Greeks(1, 0, 0, 0).delta, float)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, "0.5", None, True])
def test_non_finite_or_non_numeric_values_are_rejected(bad: object) -> None:
    with pytest.raises(InvalidGreeksError, match=r"Greeks.theta = .*: expected a finite number"):
        Greeks(0.5, 0.01, bad, 0.2)  # type: ignore[arg-type]


def test_overflow_to_infinity_is_rejected() -> None:
    with pytest.raises(InvalidGreeksError):
        Greeks(1e308, 0.0, 0.0, 0.0) * 10.0


@pytest.mark.parametrize("other", [1, 0.5, "x", None])
def test_adding_anything_but_greeks_or_zero_is_a_type_error(other: object) -> None:
    with pytest.raises(TypeError):
        Greeks.zero() + other  # type: ignore[operator]
    if other != 0:
        with pytest.raises(TypeError):
            other + Greeks.zero()  # type: ignore[operator]
