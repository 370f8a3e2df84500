"""The report's numbers on a week written through the real store (tests/unit/report/
report_book.py), against numbers worked out by hand or recomputed here with numpy from the
raw series: P&L, daily P&L, max drawdown, Sharpe ratio (T-bill risk-free), win rate, days in
trade, slippage, rule triggers, risk events and order counts."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from report_book import (
    COMMISSIONS,
    DAY_ENDS,
    DAYS_IN_TRADE,
    EQUITY,
    SLIPPAGE_CONTRACTS,
    SLIPPAGE_TOTAL,
    STRATEGY_PNL,
    write_book,
)

from v6.market.history import load_tbill_rate
from v6.report import PaperReport, build_report
from v6.report.metrics import equity_series, max_drawdown
from v6.store import Store, StoreLocation


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> PaperReport:
    location = StoreLocation(str(tmp_path_factory.mktemp("book") / "data"))
    write_book(Store(location, app_id="engine"))
    return build_report(Store(location))


def numpy_sharpe(risk_free_rate: bool = True) -> float:
    """Daily returns of the day-end equity minus the T-bill's accrual (or nothing),
    annualized by sqrt(252): recomputed from the raw series with numpy."""
    tbill = load_tbill_rate(date(2020, 1, 1), date(2020, 3, 31))
    rate_days = np.array(tbill["date"].to_list(), dtype="datetime64[D]")
    rates = tbill["rate"].to_numpy()
    days = sorted(DAY_ENDS)
    closes = np.array([DAY_ENDS[d] for d in days])
    previous = np.concatenate([[EQUITY[0][1]], closes[:-1]])
    starts = [days[0], *days[:-1]]
    returns = closes / previous - 1
    risk_free = []
    for start, day in zip(starts, days, strict=True):
        discount = rates[np.searchsorted(rate_days, np.datetime64(start), side="right") - 1]
        continuous = -math.log(1 - discount * 91 / 360) * 365 / 91 if risk_free_rate else 0.0
        risk_free.append(math.exp(continuous * (day - start).days / 365) - 1)
    excess = returns - np.array(risk_free)
    return float(excess.mean() / excess.std(ddof=1) * math.sqrt(252))


def test_total_and_daily_pnl_follow_the_day_end_equity(report: PaperReport) -> None:
    closes = list(DAY_ENDS.values())
    expected_daily = np.diff([EQUITY[0][1], *closes])

    assert report.pnl.total == pytest.approx(EQUITY[-1][1] - EQUITY[0][1])
    assert (report.pnl.start_equity, report.pnl.end_equity) == (100_000.0, 101_200.0)
    assert report.daily["date"].to_list() == list(DAY_ENDS)
    assert report.daily["pnl"].to_list() == pytest.approx(expected_daily.tolist())
    assert report.period.sessions == 6
    assert report.period.start == EQUITY[0][0]
    assert report.period.end == EQUITY[-1][0]


def test_max_drawdown_matches_a_running_peak_over_every_snapshot(report: PaperReport) -> None:
    values = np.array([value for _, value in EQUITY])
    peaks = np.maximum.accumulate(values)
    falls = peaks - values

    assert report.drawdown.amount == pytest.approx(falls.max())
    assert report.drawdown.fraction == pytest.approx((falls / peaks).max())
    assert report.drawdown.amount == pytest.approx(1_200.0)  # 100,900 -> 99,700
    assert report.drawdown.peak_at == EQUITY[7][0]
    assert report.drawdown.trough_at == EQUITY[10][0]


def test_sharpe_is_annualized_daily_excess_return_over_the_t_bill(report: PaperReport) -> None:
    assert report.sharpe == pytest.approx(numpy_sharpe(), rel=1e-12)
    assert report.sharpe != pytest.approx(numpy_sharpe(risk_free_rate=False), rel=1e-6)


def test_realized_pnl_win_rate_and_days_in_trade_of_the_closed_strategies(
    report: PaperReport,
) -> None:
    trades = report.trades
    pnls = list(STRATEGY_PNL.values())

    assert (trades.closed, trades.open, trades.cancelled) == (3, 1, 1)
    assert (trades.wins, trades.losses) == (2, 1)
    assert trades.win_rate == pytest.approx(2 / 3)
    assert trades.realized_pnl == pytest.approx(sum(pnls))
    assert report.pnl.realized == pytest.approx(-156.70)
    assert trades.average_pnl == pytest.approx(np.mean(pnls))
    assert trades.average_days_in_trade == pytest.approx(np.mean(list(DAYS_IN_TRADE.values())))
    assert report.pnl.commissions == pytest.approx(COMMISSIONS)
    assert report.pnl.unattributed_executions == 1
    assert report.pnl.unattributed_cash == pytest.approx(-28_501.0)


def test_slippage_uses_the_latest_fresh_mid_before_each_execution(report: PaperReport) -> None:
    slip = report.slippage
    assert (slip.option_executions, slip.with_mid) == (16, 6)
    assert slip.contracts == SLIPPAGE_CONTRACTS
    assert slip.total == pytest.approx(SLIPPAGE_TOTAL)
    assert slip.per_contract == pytest.approx(3.0)
    assert any("10 of 16 option executions had no snapshot quote" in n for n in report.notes)


def test_rule_triggers_risk_events_and_orders_are_counted(report: PaperReport) -> None:
    assert [(r.rule, r.triggered, r.decided, r.strategies) for r in report.rules] == [
        ("stop_loss", 2, 2, 1),
        ("delta_breach", 2, 0, 1),
        ("take_profit", 1, 1, 1),
        ("time_exit", 1, 0, 1),
        ("market_veto", 0, 1, 0),
    ]
    risk = report.risk
    assert risk.limit_breaches == {"delta": 1, "gamma": 2}
    assert (risk.breaker_trips, risk.trading_halts) == (1, 1)
    assert (risk.rejected_intents, risk.accepted_intents) == (2, 4)
    orders = report.orders
    assert (orders.sent, orders.filled, orders.rejected) == (9, 6, 1)
    assert (orders.cancelled, orders.working, orders.dry_run) == (1, 1, 1)


def test_the_json_holds_every_section(report: PaperReport) -> None:
    data = report.to_dict()
    assert data["status"] == "ok"
    assert data["max_drawdown"] == {
        "amount": pytest.approx(1200.0),
        "fraction": pytest.approx(1200 / 100_900),
        "peak_at": EQUITY[7][0],
        "trough_at": EQUITY[10][0],
    }
    assert '"peak_at": "2020-03-06T01:30:00+00:00"' in report.to_json()


def test_several_accounts_add_up_with_each_last_value_carried_forward() -> None:
    t0 = datetime(2020, 3, 2, 15, tzinfo=UTC)
    snapshots = pl.DataFrame(
        {
            "account": ["A", "B", "A", "B"],
            "at": [t0 + timedelta(minutes=5 * i) for i in range(4)],
            "net_liquidation": [100.0, 50.0, 90.0, 70.0],
        }
    )
    equity = equity_series(snapshots)
    assert equity["equity"].to_list() == [100.0, 150.0, 140.0, 160.0]
    assert max_drawdown(equity).amount == pytest.approx(10.0)
