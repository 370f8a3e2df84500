"""The simulated account: IB's commission schedule, Reg-T margin, average cost and P&L.

Expected figures are worked by hand from the published rules (cited in ``fees`` and
``margin``), not taken from the code.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from brokers_sim_fakes import PinnedQuote, open_fake, put, run, single

from v6.brokers import OrderLeg, OrderSpec
from v6.brokers.sim.account import Account
from v6.brokers.sim.fees import commission_due, option_commission, order_commission
from v6.brokers.sim.margin import expiry_max_loss, naked_requirement, requirement
from v6.domain import OptionContract, Right, StockContract

EXPIRY = date(2020, 3, 20)
LATER = date(2020, 4, 17)
NOW = datetime(2020, 3, 16, 15, 0, tzinfo=UTC)


def opt(strike: float, right: Right, expiry: date = EXPIRY, symbol: str = "SPY") -> OptionContract:
    return OptionContract(symbol, expiry, strike, right)


@pytest.mark.parametrize(("contracts", "expected"), [(1, 1.00), (2, 1.30), (3, 1.95), (10, 6.50)])
def test_options_pay_65_cents_a_contract_with_a_dollar_minimum(
    contracts: int, expected: float
) -> None:
    assert option_commission(contracts) == pytest.approx(expected)


def test_the_order_minimum_is_paid_once_across_partial_fills() -> None:
    first = commission_due(option_commission(1), 0.0)
    second = commission_due(option_commission(2), first)
    assert (first, second) == (pytest.approx(1.00), pytest.approx(0.30))


@pytest.mark.parametrize(
    ("shares", "value", "expected"),
    [(100, 40_000.0, 1.00), (1_000, 400_000.0, 5.00), (10, 50.0, 0.50)],
)
def test_stock_commission_minimum_and_one_percent_cap(
    shares: int, value: float, expected: float
) -> None:
    assert order_commission(0, shares, value) == pytest.approx(expected)


def test_vertical_and_condor_risk_only_the_wider_wing() -> None:
    spread = [(opt(445, Right.PUT), -2), (opt(440, Right.PUT), 2)]
    assert expiry_max_loss(spread) == 1_000.0
    condor = [*spread[:1], *spread[1:], (opt(475, Right.CALL), -2), (opt(485, Right.CALL), 2)]
    assert expiry_max_loss(condor) == 2_000.0
    assert expiry_max_loss([(opt(440, Right.PUT), 1), (opt(480, Right.CALL), 1)]) == 0.0
    assert expiry_max_loss([(opt(480, Right.CALL), 1), (opt(485, Right.CALL), -2)]) == float("inf")


@pytest.mark.parametrize(
    ("contract", "spot", "mark", "expected"),
    [
        # 1.00 + max(20% x 400 - 10 OTM, 10% x 390 strike) = 71 per share
        (opt(390, Right.PUT), 400.0, 1.00, 7_100.0),
        # deep OTM: the 10% floor of the strike: 0.05 + 30
        (opt(300, Right.PUT), 400.0, 0.05, 3_005.0),
        # call: 2.00 + max(80 - 10, 10% x 400) = 72
        (opt(410, Right.CALL), 400.0, 2.00, 7_200.0),
        # broad-based index: 15%: 10 + max(600 - 100, 390) = 510
        (opt(3900, Right.PUT, symbol="SPX"), 4_000.0, 10.0, 51_000.0),
    ],
)
def test_naked_short_options_follow_the_cboe_formula(
    contract: OptionContract, spot: float, mark: float, expected: float
) -> None:
    assert naked_requirement(contract, -1, spot, mark) == pytest.approx(expected)
    assert naked_requirement(contract, 1, spot, mark) == 0.0


def test_account_requirement_takes_the_cheaper_of_spread_and_naked() -> None:
    short, long_ = opt(390, Right.PUT), opt(385, Right.PUT)
    prices = {short: 1.0, long_: 0.7}
    spread = requirement({short: -1, long_: 1}, {"SPY": 400.0}, prices.__getitem__)
    naked = requirement({short: -1}, {"SPY": 400.0}, prices.__getitem__)
    assert spread.initial == spread.maintenance == 500.0
    assert naked.maintenance == pytest.approx(7_100.0)


def test_calendars_margin_the_near_short_as_naked() -> None:
    near, far = opt(390, Right.PUT), opt(390, Right.PUT, LATER)
    prices = {near: 1.0, far: 3.0}
    assert requirement(
        {near: -1, far: 1}, {"SPY": 400.0}, prices.__getitem__
    ).maintenance == pytest.approx(7_100.0)


def test_stock_reg_t_margins() -> None:
    spy = StockContract("SPY")
    long_ = requirement({spy: 100}, {"SPY": 400.0}, lambda c: 400.0)
    short = requirement({spy: -100}, {"SPY": 400.0}, lambda c: 400.0)
    assert (long_.initial, long_.maintenance) == (20_000.0, 10_000.0)
    assert (short.initial, short.maintenance) == (20_000.0, 12_000.0)


def test_average_cost_realized_pnl_and_flips() -> None:
    account = Account("A", 10_000.0)
    contract = opt(390, Right.PUT)
    account.trade(contract, -2, 1.50, 1.30)
    assert (account.quantity(contract), account.holdings[contract].avg_cost) == (-2, 150.0)
    closed = account.trade(contract, 1, 1.00, 1.00)
    assert closed.realized_gross == pytest.approx(50.0)
    flipped = account.trade(contract, 3, 0.80, 1.95)
    assert flipped.realized_gross == pytest.approx(70.0)
    assert (account.quantity(contract), account.holdings[contract].avg_cost) == (2, 80.0)
    assert account.realized_pnl == pytest.approx(120.0 - 1.30 - 1.00 - 1.95)
    assert account.cash == pytest.approx(10_000 + 300 - 100 - 240 - 4.25)


def test_net_liquidation_is_starting_cash_plus_realized_plus_unrealized() -> None:
    account = Account("A", 50_000.0)
    put_, spy = opt(390, Right.PUT), StockContract("SPY")
    account.trade(put_, -3, 2.00, 1.95)
    account.trade(spy, 100, 401.0, 1.00)
    account.trade(put_, 1, 2.40, 1.00)
    prices = {put_: 1.10, spy: 405.0}
    values = account.values(NOW, {"SPY": 404.0}, prices.__getitem__)
    assert values.net_liquidation - 50_000 == pytest.approx(
        values.realized_pnl + values.unrealized_pnl
    )
    assert values.equity_with_loan == pytest.approx(account.cash + 100 * 405.0)
    assert values.net_liquidation == pytest.approx(values.equity_with_loan - 2 * 110.0)
    assert values.available_funds == pytest.approx(values.equity_with_loan - values.initial_margin)


def test_a_credit_spread_uses_width_times_multiplier_less_the_credit() -> None:
    sim, market = open_fake()
    short, long_ = put(395), put(390)
    market.overrides[short] = PinnedQuote(2.00, 2.10)
    market.overrides[long_] = PinnedQuote(1.00, 1.10)
    spread = OrderSpec((OrderLeg(short, -1), OrderLeg(long_, 1)), 1, limit_price=-1.00)

    async def scenario() -> None:
        await sim.broker.connect()
        what_if = await sim.broker.what_if(spread)
        assert what_if.initial_margin_change == pytest.approx(500.0)
        assert what_if.commission == pytest.approx(1.30)
        assert what_if.buying_power_effect == pytest.approx(500 - 100 + 1.30)
        single_what_if = await sim.broker.what_if(single(long_, 1, 1, 1.10))
        assert single_what_if.initial_margin_change == 0.0

    run(scenario())
