"""Plotly figures of the Portfolio page (pure: frames in, figures out)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import plotly.graph_objects as go
import polars as pl

from v6.dashboard.frames import EXCHANGE_TIME_ZONE, GREEK_LABELS

GREEN: Final = "#2e9e5b"
AMBER: Final = "#e0a100"
RED: Final = "#d64545"
BLUE: Final = "#3b75c4"
GREY: Final = "#8a8f98"
_MARGIN: Final = {"l": 10, "r": 10, "t": 40, "b": 10}
_WEEKENDS: Final = [
    {"bounds": ["sat", "mon"]},
]
"""Hide weekends on time axes. (Plotly's hour-pattern breaks that would hide the nights too
made the first draw of the Portfolio page over a second slower with a month of marks.)"""


def utilisation_color(share: float) -> str:
    """Green within 75 % of a limit, amber up to it, red beyond it."""
    if share > 1.0:
        return RED
    return AMBER if share > 0.75 else GREEN


def limits_figure(values: dict[str, float], limits: dict[str, float]) -> go.Figure:
    """Net Greeks as a share of their limits, one horizontal bar each, with the limit line."""
    names = list(values)
    shares = [abs(values[n]) / limits[n] if limits[n] > 0 else 0.0 for n in names]
    labels = [f"{values[n]:+,.1f} of ±{limits[n]:,.0f}" for n in names]
    figure = go.Figure(
        go.Bar(
            x=[share * 100 for share in shares],
            y=[GREEK_LABELS[n] for n in names],
            orientation="h",
            marker_color=[utilisation_color(share) for share in shares],
            text=labels,
            textposition="auto",
            hovertemplate="%{y}: %{x:.0f}% of the limit<extra></extra>",
        )
    )
    figure.add_vline(x=100, line_dash="dash", line_color=RED, annotation_text="limit")
    figure.update_layout(
        title="Net Greeks against their limits",
        xaxis_title="% of limit (absolute value)",
        xaxis_range=[0, max(110.0, *(s * 105 for s in shares))],
        yaxis_autorange="reversed",
        height=260,
        margin=_MARGIN,
    )
    return figure


def heatmap_figure(grid: pl.DataFrame, greek: str) -> go.Figure:
    """Position ``greek`` by underlying (rows) and expiry (columns), zero-centred."""
    expiries = [name for name in grid.columns if name != "underlying"]
    values = grid.select(expiries).to_numpy()
    figure = go.Figure(
        go.Heatmap(
            z=values,
            x=expiries,
            y=grid["underlying"].to_list(),
            colorscale="RdBu",
            zmid=0,
            text=[[_cell(v) for v in row] for row in values],
            texttemplate="%{text}",
            hovertemplate="%{y} %{x}: %{z:,.2f}<extra></extra>",
            colorbar={"title": {"text": GREEK_LABELS[greek]}},
        )
    )
    figure.update_layout(
        title=f"{GREEK_LABELS[greek]} by symbol and expiry",
        xaxis={"type": "category", "title": "expiry"},
        height=120 + 60 * max(grid.height, 1),
        margin=_MARGIN,
    )
    return figure


def _cell(value: float) -> str:
    return "" if value != value else f"{value:,.1f}"  # NaN: an empty cell


def equity_figure(snapshots: pl.DataFrame) -> go.Figure:
    """Net liquidation over time, one line per account."""
    figure = go.Figure()
    for account, rows in _by_account(snapshots):
        figure.add_trace(
            go.Scatter(
                x=_times(rows),
                y=rows["net_liquidation"].to_list(),
                mode="lines",
                name=account,
                line={"color": BLUE, "width": 2},
                hovertemplate="%{x}<br>$%{y:,.2f}<extra>" + account + "</extra>",
            )
        )
    return _time_layout(figure, "Equity curve (net liquidation)", "$")


def pnl_figure(snapshots: pl.DataFrame) -> go.Figure:
    """Realized, unrealized and total P&L over time (all accounts summed)."""
    summed = (
        snapshots.group_by("at")
        .agg(pl.col("realized_pnl").sum(), pl.col("unrealized_pnl").sum())
        .sort("at")
        .with_columns(total=pl.col("realized_pnl") + pl.col("unrealized_pnl"))
    )
    figure = go.Figure()
    styles = (
        ("total", BLUE, "solid"),
        ("unrealized_pnl", AMBER, "dot"),
        ("realized_pnl", GREEN, "dash"),
    )
    for column, color, dash in styles:
        figure.add_trace(
            go.Scatter(
                x=_times(summed),
                y=summed[column].to_list(),
                mode="lines",
                name=column.replace("_pnl", "").replace("_", " "),
                line={"color": color, "dash": dash},
                hovertemplate="%{x}<br>$%{y:,.2f}<extra></extra>",
            )
        )
    figure.add_hline(y=0, line_color=GREY, line_width=1)
    return _time_layout(figure, "P&L over time", "$")


def concentration_figure(shares: pl.DataFrame, limit: float) -> go.Figure:
    """Each underlying's share of the book's maximum loss, with the concentration limit."""
    figure = go.Figure(
        go.Bar(
            x=shares["underlying"].to_list(),
            y=[share * 100 for share in shares["share"].to_list()],
            marker_color=[utilisation_color(s / limit if limit else 0) for s in shares["share"]],
            text=[
                f"{share:.0%} · {count} strategies"
                for share, count in zip(shares["share"], shares["strategies"], strict=True)
            ],
            textposition="auto",
            hovertemplate="%{x}: %{y:.1f}% of max loss<extra></extra>",
        )
    )
    figure.add_hline(
        y=limit * 100, line_dash="dash", line_color=RED, annotation_text=f"limit {limit:.0%}"
    )
    figure.update_layout(
        title="Concentration: share of the book's maximum loss",
        yaxis_title="% of max loss",
        yaxis_range=[0, 100],
        height=320,
        margin=_MARGIN,
    )
    return figure


def _by_account(snapshots: pl.DataFrame) -> Sequence[tuple[str, pl.DataFrame]]:
    return [
        (str(key[0]), rows)
        for key, rows in snapshots.sort("at").group_by("account", maintain_order=True)
    ]


def _times(frame: pl.DataFrame) -> list[object]:
    """Times in New York without the zone, so the session breaks apply to exchange hours."""
    local = frame["at"].dt.convert_time_zone(EXCHANGE_TIME_ZONE).dt.replace_time_zone(None)
    return local.to_list()


def _time_layout(figure: go.Figure, title: str, unit: str) -> go.Figure:
    figure.update_xaxes(rangebreaks=_WEEKENDS, title="New York time")
    figure.update_layout(
        title=title,
        yaxis_tickprefix=unit,
        yaxis_tickformat=",.0f",
        hovermode="x unified",
        legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.02, "yanchor": "bottom"},
        height=340,
        margin=_MARGIN,
    )
    return figure
