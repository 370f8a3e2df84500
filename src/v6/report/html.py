"""The report as one self-contained HTML file: the summary table and Plotly charts (equity
curve, drawdown, daily P&L, rule triggers). plotly.js is embedded once, inline, so the file
opens without a network (no CDN)."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Final

import plotly.graph_objects as go
import polars as pl

from v6.report.metrics import drawdown_series
from v6.report.render import summary_rows
from v6.report.report import NO_TRADES, PaperReport

GAIN: Final = "#2e7d32"
LOSS: Final = "#c62828"
PAGE: Final = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>V6 paper-trading report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; }}
table {{ border-collapse: collapse; margin-bottom: 2rem; }}
td {{ padding: 0.25rem 1rem; border-bottom: 1px solid #ddd; }}
td:last-child {{ text-align: right; font-variant-numeric: tabular-nums; }}
.note {{ color: #666; }}
</style>
</head>
<body>
<h1>V6 paper-trading report</h1>
{body}
</body>
</html>
"""


def report_html(report: PaperReport) -> str:
    """The whole page."""
    if not report.has_trades:
        return PAGE.format(body=f"<p>{NO_TRADES}</p>")
    rows = "".join(
        f"<tr><td>{escape(label)}</td><td>{escape(value)}</td></tr>"
        for label, value in summary_rows(report)
    )
    notes = "".join(f'<p class="note">{escape(note)}</p>' for note in report.notes)
    figures = [figure for figure in _figures(report) if figure is not None]
    charts = "".join(
        figure.to_html(full_html=False, include_plotlyjs=index == 0)
        for index, figure in enumerate(figures)
    )
    return PAGE.format(body=f"<table>{rows}</table>{notes}{charts}")


def write_report_html(report: PaperReport, path: Path) -> None:
    path.write_text(report_html(report), encoding="utf-8")


def _figures(report: PaperReport) -> list[go.Figure | None]:
    return [
        _equity(report.equity),
        _drawdown(report.equity),
        _daily(report.daily),
        _rules(report),
    ]


def _layout(figure: go.Figure, title: str, y_title: str) -> go.Figure:
    figure.update_layout(
        title=title, yaxis_title=y_title, height=380, margin={"l": 60, "r": 20, "t": 50, "b": 40}
    )
    return figure


def _equity(equity: pl.DataFrame) -> go.Figure | None:
    if equity.is_empty():
        return None
    line = go.Scatter(x=equity["at"].to_list(), y=equity["equity"].to_list(), mode="lines")
    return _layout(go.Figure(line), "Equity curve (net liquidation)", "equity")


def _drawdown(equity: pl.DataFrame) -> go.Figure | None:
    if equity.is_empty():
        return None
    series = drawdown_series(equity)
    area = go.Scatter(
        x=series["at"].to_list(),
        y=(-series["drawdown"]).to_list(),
        fill="tozeroy",
        mode="lines",
        line={"color": LOSS},
    )
    return _layout(go.Figure(area), "Drawdown from the running peak", "below peak")


def _daily(daily: pl.DataFrame) -> go.Figure | None:
    if daily.is_empty():
        return None
    pnl = daily["pnl"].to_list()
    bars = go.Bar(
        x=daily["date"].to_list(), y=pnl, marker_color=[GAIN if v >= 0 else LOSS for v in pnl]
    )
    figure = go.Figure(bars)
    figure.update_xaxes(type="category")  # sessions only: no gaps for weekends and holidays
    return _layout(figure, "Daily P&L", "P&L")


def _rules(report: PaperReport) -> go.Figure | None:
    if not report.rules:
        return None
    names = [rule.rule for rule in report.rules]
    figure = go.Figure(
        [
            go.Bar(name="triggered", x=names, y=[rule.triggered for rule in report.rules]),
            go.Bar(name="decided", x=names, y=[rule.decided for rule in report.rules]),
        ]
    )
    figure.update_layout(barmode="group")
    return _layout(figure, "Rule triggers", "evaluations")
