from collections.abc import Callable
from datetime import date

import pytest

from v6.domain import Leg, OptionContract, Right


def make_leg(
    strike: float,
    right: Right,
    quantity: int,
    expiry: date = date(2024, 1, 19),
    underlying: str = "SPY",
    multiplier: int = 100,
) -> Leg:
    return Leg(OptionContract(underlying, expiry, strike, right, multiplier), quantity)


@pytest.fixture(scope="session")
def leg() -> Callable[..., Leg]:
    """Builds a leg: ``leg(450, Right.PUT, -1)``; expiry, underlying, multiplier optional."""
    return make_leg
