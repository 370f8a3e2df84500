"""The report in the terminal: rich tables for the summary, the rule counts and the risk
events."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from v6.report.report import NO_TRADES, PaperReport

DASH: Final = "-"


def money(value: float | None) -> str:
    return DASH if value is None else f"{value:,.2f}"


def percent(value: float | None, digits: int = 1) -> str:
    return DASH if value is None else f"{value:.{digits}%}"


def number(value: float | None, digits: int = 2) -> str:
    return DASH if value is None else f"{value:.{digits}f}"


def stamp(value: datetime | None) -> str:
    return DASH if value is None else f"{value:%Y-%m-%d %H:%M} UTC"


def summary_rows(report: PaperReport) -> list[tuple[str, str]]:
    """The headline numbers as (label, text) rows; the HTML report shows the same."""
    pnl, trades, slip, dd = report.pnl, report.trades, report.slippage, report.drawdown
    period = report.period
    return [
        ("Period", f"{stamp(period.start)} to {stamp(period.end)} ({period.sessions} sessions)"),
        ("Total P&L (equity change)", money(pnl.total)),
        ("Equity start / end", f"{money(pnl.start_equity)} / {money(pnl.end_equity)}"),
        ("Realized P&L (closed strategies)", money(pnl.realized)),
        ("Commissions", money(pnl.commissions)),
        ("Max drawdown", f"{money(dd.amount)} ({percent(dd.fraction, 2)} of peak)"),
        ("Drawdown peak / trough", f"{stamp(dd.peak_at)} / {stamp(dd.trough_at)}"),
        ("Sharpe ratio (annualized)", number(report.sharpe)),
        ("Closed trades (wins / losses)", f"{trades.closed} ({trades.wins} / {trades.losses})"),
        ("Win rate", percent(trades.win_rate)),
        ("Average P&L per trade", money(trades.average_pnl)),
        ("Average days in trade", number(trades.average_days_in_trade, 1)),
        ("Open / cancelled strategies", f"{trades.open} / {trades.cancelled}"),
        (
            "Orders sent / filled / rejected",
            f"{report.orders.sent} / {report.orders.filled} / {report.orders.rejected}",
        ),
        (
            "Slippage vs mid (total, per contract)",
            f"{money(slip.total)}, {money(slip.per_contract)} "
            f"({slip.with_mid} of {slip.option_executions} executions)",
        ),
        (
            "Breaker trips / limit breaches / halts",
            f"{report.risk.breaker_trips} / {sum(report.risk.limit_breaches.values())} / "
            f"{report.risk.trading_halts}",
        ),
    ]


def render(report: PaperReport) -> RenderableType:
    if not report.has_trades:
        return Text(NO_TRADES)
    parts: list[RenderableType] = [_summary(report)]
    if report.rules:
        parts.append(_rules(report))
    if report.risk.limit_breaches:
        parts.append(_breaches(report))
    parts.extend(Text(f"note: {note}", style="dim") for note in report.notes)
    return Group(*parts)


def print_report(report: PaperReport, console: Console) -> None:
    console.print(render(report))


def _summary(report: PaperReport) -> Table:
    table = Table(title="Paper-trading report", show_header=False)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for label, value in summary_rows(report):
        table.add_row(label, value)
    return table


def _rules(report: PaperReport) -> Table:
    table = Table(title="Rule triggers")
    for name in ("rule", "triggered", "decided", "strategies"):
        table.add_column(name, justify="left" if name == "rule" else "right")
    for rule in report.rules:
        table.add_row(Text(rule.rule), str(rule.triggered), str(rule.decided), str(rule.strategies))
    return table


def _breaches(report: PaperReport) -> Table:
    table = Table(title="Risk-limit breaches")
    table.add_column("limit")
    table.add_column("breaches", justify="right")
    for limit, count in report.risk.limit_breaches.items():
        table.add_row(Text(limit), str(count))
    return table
