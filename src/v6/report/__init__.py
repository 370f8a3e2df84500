"""The paper-trading validation report (``v6 report``): P&L, equity curve, drawdown, Sharpe,
win rate, days in trade, slippage, rule triggers and risk events, computed from the tables
(`build_report`), printed as rich tables or JSON, or written as HTML with Plotly charts."""

from v6.report.html import report_html, write_report_html
from v6.report.report import NO_TRADES, PaperReport, build_report, report_from

__all__ = [
    "NO_TRADES",
    "PaperReport",
    "build_report",
    "report_from",
    "report_html",
    "write_report_html",
]
