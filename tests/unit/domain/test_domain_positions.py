from datetime import date

import pytest

from v6.domain import InvalidPositionError, OptionContract, Position, Right, StockContract

PUT = OptionContract("SPY", date(2024, 1, 19), 450, Right.PUT)


def test_short_option_position_as_ib_reports_it() -> None:
    position = Position("DU123456", PUT, -2, avg_cost=150.0)
    assert position.avg_price == pytest.approx(1.5)
    assert not position.is_flat


def test_zero_quantity_is_a_closed_position() -> None:
    assert Position("DU123456", PUT, 0, avg_cost=0.0).is_flat


def test_stock_position_from_assignment() -> None:
    assert Position("DU123456", StockContract("SPY"), 100, 450.0).avg_price == 450.0


@pytest.mark.parametrize(
    ("account", "contract", "quantity", "avg_cost", "message"),
    [
        ("", PUT, 1, 1.0, r"Position.account = ''"),
        ("DU1", "SPY", 1, 1.0, r"Position.contract = 'SPY': expected an OptionContract"),
        ("DU1", PUT, 1.0, 1.0, r"Position.quantity = 1.0: expected an integer"),
        ("DU1", PUT, 1, -1.0, r"Position.avg_cost = -1.0: expected a finite number >= 0"),
        ("DU1", PUT, 1, float("nan"), r"Position.avg_cost = nan"),
    ],
)
def test_invalid_positions_are_rejected(
    account: str, contract: OptionContract, quantity: int, avg_cost: float, message: str
) -> None:
    with pytest.raises(InvalidPositionError, match=message):
        Position(account, contract, quantity, avg_cost)
