"""`PaperReport`: the paper-trading validation report, built from the tables (see
`v6.report.metrics` for how each number is defined).

What the tables do not carry, and the report therefore cannot show, is listed in its
``notes``: the orders table keeps an order's latest limit, not the mid when it was sent, so
slippage is measured against the position snapshots' quotes, which exist only for legs the
sync layer already follows (an entry filled before its strategy's first sync has no mid).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Final

import polars as pl

from v6.report.data import ReportData, load_report_data
from v6.report.metrics import (
    MID_MAX_AGE,
    Drawdown,
    Slippage,
    TradeStats,
    attributed_fills,
    daily_equity,
    equity_series,
    max_drawdown,
    rule_counts,
    sharpe_ratio,
    slippage,
    strategy_results,
    trade_stats,
)
from v6.risk import RiskEvent, RiskEventKind
from v6.store import Store

NO_TRADES: Final = "no trades yet"
DRY_RUN_PREFIX: Final = "dry-run:"
RISK_FREE: Final = (
    "3-month T-bill (FRED DTB3) in force at the start of each day, continuously compounded "
    "ACT/365, accrued over the calendar days of the day's return"
)
WORKING: Final = ("pending_submit", "submitted", "partially_filled")


@dataclass(frozen=True, slots=True)
class Period:
    start: datetime | None
    end: datetime | None
    sessions: int


@dataclass(frozen=True, slots=True)
class Pnl:
    total: float | None
    """Change of equity over the period (None without account snapshots)."""
    realized: float
    """Sum of the closed strategies' results."""
    commissions: float
    start_equity: float | None
    end_equity: float | None
    unattributed_executions: int
    """Executions of orders V6 did not place (assignments, exercises): in equity only."""
    unattributed_cash: float


@dataclass(frozen=True, slots=True)
class OrderCounts:
    sent: int
    filled: int
    rejected: int
    cancelled: int
    working: int
    dry_run: int


@dataclass(frozen=True, slots=True)
class RiskCounts:
    limit_breaches: dict[str, int]
    breaker_trips: int
    trading_halts: int
    rejected_intents: int
    accepted_intents: int


@dataclass(frozen=True, slots=True)
class RuleCount:
    rule: str
    triggered: int
    decided: int
    strategies: int


@dataclass(frozen=True)
class PaperReport:
    period: Period
    pnl: Pnl
    drawdown: Drawdown
    sharpe: float | None
    trades: TradeStats
    slippage: Slippage
    rules: list[RuleCount]
    risk: RiskCounts
    orders: OrderCounts
    notes: list[str]
    equity: pl.DataFrame = field(repr=False)
    """``at``, ``equity``: every snapshot (for the charts)."""
    daily: pl.DataFrame = field(repr=False)
    """``date``, ``equity``, ``pnl``, ``ret``, ``start``, ``days`` per session date."""

    @property
    def has_trades(self) -> bool:
        return self.orders.sent > 0 or self.trades.closed + self.trades.open > 0

    def to_dict(self) -> dict[str, object]:
        """Everything but the equity points, JSON-ready (times ISO-8601 UTC)."""
        return {
            "status": "ok" if self.has_trades else NO_TRADES,
            "period": asdict(self.period),
            "pnl": asdict(self.pnl),
            "daily": [
                {"date": row["date"], "equity": row["equity"], "pnl": row["pnl"]}
                for row in self.daily.iter_rows(named=True)
            ],
            "max_drawdown": asdict(self.drawdown),
            "sharpe": {
                "annualized": self.sharpe,
                "days": self.daily.height,
                "risk_free": RISK_FREE,
            },
            "trades": asdict(self.trades),
            "slippage": {**asdict(self.slippage), "mid_max_age_seconds": MID_MAX_AGE.seconds},
            "rules": [asdict(rule) for rule in self.rules],
            "risk": asdict(self.risk),
            "orders": asdict(self.orders),
            "notes": self.notes,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=_json_value)


def _json_value(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def build_report(store: Store) -> PaperReport:
    return report_from(load_report_data(store))


def report_from(data: ReportData) -> PaperReport:
    equity = equity_series(data.accounts)
    daily = daily_equity(equity)
    fills = attributed_fills(data.executions, data.orders)
    results = strategy_results(data.strategies, fills)
    trades = trade_stats(results)
    slipped = slippage(fills, data.quotes)
    return PaperReport(
        period=_period(equity, data.executions, daily.height),
        pnl=_pnl(equity, fills, trades),
        drawdown=max_drawdown(equity),
        sharpe=sharpe_ratio(daily),
        trades=trades,
        slippage=slipped,
        rules=[RuleCount(**row) for row in rule_counts(data.decisions).iter_rows(named=True)],
        risk=_risk(data.risk_events),
        orders=_orders(data.orders),
        notes=_notes(data, trades, slipped),
        equity=equity,
        daily=daily,
    )


def _period(equity: pl.DataFrame, executions: pl.DataFrame, sessions: int) -> Period:
    times = equity["at"] if not equity.is_empty() else executions["time"]
    if times.is_empty():
        return Period(None, None, 0)
    return Period(times.min(), times.max(), sessions)  # type: ignore[arg-type]


def _pnl(equity: pl.DataFrame, fills: pl.DataFrame, trades: TradeStats) -> Pnl:
    values = equity["equity"]
    start, end = (values[0], values[-1]) if values.len() else (None, None)
    unattributed = fills.filter(pl.col("strategy_id").is_null())
    return Pnl(
        total=None if start is None else end - start,
        realized=trades.realized_pnl,
        commissions=float(fills["commission"].sum()),
        start_equity=start,
        end_equity=end,
        unattributed_executions=unattributed.height,
        unattributed_cash=float(unattributed["cash"].sum()),
    )


def _risk(events: list[RiskEvent]) -> RiskCounts:
    kinds = Counter(event.kind for event in events)
    breaches = Counter(
        event.limit or "unnamed" for event in events if event.kind is RiskEventKind.LIMIT_BREACHED
    )
    trips = sum(
        1
        for event in events
        if event.kind is RiskEventKind.BREAKER_TRANSITION and event.to_state == "open"
    )
    return RiskCounts(
        limit_breaches=dict(sorted(breaches.items())),
        breaker_trips=trips,
        trading_halts=kinds[RiskEventKind.TRADING_HALTED],
        rejected_intents=kinds[RiskEventKind.INTENT_REJECTED],
        accepted_intents=kinds[RiskEventKind.INTENT_ACCEPTED],
    )


def _orders(orders: pl.DataFrame) -> OrderCounts:
    dry = pl.col("order_id").str.starts_with(DRY_RUN_PREFIX)
    sent = orders.filter(~dry)
    statuses = Counter(sent["status"].to_list())
    return OrderCounts(
        sent=sent.height,
        filled=statuses["filled"],
        rejected=statuses["rejected"],
        cancelled=statuses["cancelled"],
        working=sum(statuses[status] for status in WORKING),
        dry_run=orders.height - sent.height,
    )


def _notes(data: ReportData, trades: TradeStats, slipped: Slippage) -> list[str]:
    notes = []
    if data.accounts.is_empty():
        notes.append("no account snapshots: no equity curve, daily P&L, drawdown or Sharpe ratio")
    accounts = data.accounts["account"].n_unique()
    if accounts > 1:
        notes.append(f"equity is the sum of {accounts} accounts")
    if trades.closed_without_executions:
        notes.append(
            f"{trades.closed_without_executions} closed strategies have no executions of their "
            "own (closed outside V6?): left out of win rate and realized P&L"
        )
    missing = slipped.option_executions - slipped.with_mid
    if missing:
        notes.append(
            f"{missing} of {slipped.option_executions} option executions had no snapshot quote "
            f"within {MID_MAX_AGE.seconds // 60} minutes before them (e.g. entries filled before "
            "the strategy's first sync): slippage covers the rest. The orders table does not "
            "record the mid when an order was sent"
        )
    return notes
