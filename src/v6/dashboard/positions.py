"""Positions: live strategies and their legs with marks, Greeks, P&L, DTE and the current
decision, filtered by symbol, status and kind."""

from __future__ import annotations

from typing import Final

import polars as pl
import streamlit as st

from v6.dashboard import data, ui
from v6.dashboard.frames import Book, filter_book, in_exchange_time
from v6.domain import StrategyKind
from v6.store.repositories.strategies import LIVE_STATUSES

_MONEY: Final = "dollar"
STRATEGY_CONFIG: Final = {
    "strategy_id": st.column_config.TextColumn("Strategy", pinned=True),
    "kind": st.column_config.TextColumn("Kind"),
    "underlying": st.column_config.TextColumn("Symbol"),
    "status": st.column_config.TextColumn("Status"),
    "units": st.column_config.NumberColumn("Units", format="%d"),
    "dte": st.column_config.NumberColumn("DTE", format="%d"),
    "entry_credit": st.column_config.NumberColumn("Entry credit", format=_MONEY),
    "value": st.column_config.NumberColumn("Value", format=_MONEY),
    "pnl": st.column_config.NumberColumn("P&L", format=_MONEY),
    "pnl_of_max_profit": st.column_config.NumberColumn("P&L / max profit", format="percent"),
    "max_profit": st.column_config.NumberColumn("Max profit", format=_MONEY),
    "max_loss": st.column_config.NumberColumn("Max loss", format=_MONEY),
    "delta": st.column_config.NumberColumn("Δ (sh)", format="%+.1f"),
    "gamma": st.column_config.NumberColumn("Γ (sh/$)", format="%+.2f"),
    "theta": st.column_config.NumberColumn("Θ ($/day)", format="%+.2f"),
    "vega": st.column_config.NumberColumn("Vega ($/pt)", format="%+.2f"),
    "action": st.column_config.TextColumn("Decision"),
    "rule": st.column_config.TextColumn("Rule"),
    "reason": st.column_config.TextColumn("Reason", width="large"),
    "decided_at": st.column_config.DatetimeColumn("Decided", format="MMM D HH:mm"),
    "mark_time": st.column_config.DatetimeColumn("Marked", format="MMM D HH:mm:ss"),
    "managed": st.column_config.CheckboxColumn("Managed"),
    "opened_at": st.column_config.DatetimeColumn("Opened", format="MMM D HH:mm"),
}
LEG_CONFIG: Final = {
    "strategy_id": st.column_config.TextColumn("Strategy", pinned=True),
    "underlying": st.column_config.TextColumn("Symbol"),
    "expiry": st.column_config.DateColumn("Expiry"),
    "dte": st.column_config.NumberColumn("DTE", format="%d"),
    "right": st.column_config.TextColumn("C/P"),
    "strike": st.column_config.NumberColumn("Strike", format="%.2f"),
    "quantity": st.column_config.NumberColumn("Qty", format="%+d"),
    "bid": st.column_config.NumberColumn("Bid", format="%.2f"),
    "ask": st.column_config.NumberColumn("Ask", format="%.2f"),
    "mark": st.column_config.NumberColumn("Mark", format="%.3f"),
    "iv": st.column_config.NumberColumn("IV", format="percent"),
    "underlying_price": st.column_config.NumberColumn("Spot", format="%.2f"),
    "value": st.column_config.NumberColumn("Value", format=_MONEY),
    "pos_delta": st.column_config.NumberColumn("Δ (sh)", format="%+.1f"),
    "pos_gamma": st.column_config.NumberColumn("Γ (sh/$)", format="%+.2f"),
    "pos_theta": st.column_config.NumberColumn("Θ ($/day)", format="%+.2f"),
    "pos_vega": st.column_config.NumberColumn("Vega ($/pt)", format="%+.2f"),
    "mark_time": st.column_config.DatetimeColumn("Marked", format="MMM D HH:mm:ss"),
}


def render() -> None:
    st.title("Positions")

    @st.fragment(run_every=ui.run_every())
    def live() -> None:
        view = ui.view(data.book_view)
        if view.book.is_empty:
            ui.no_data("no open strategies in the strategies table.")
            ui.io_caption(view.io)
            return
        chosen = filter_book(view.book, *_filters(view.book))
        _summary(chosen, view)
        _tables(chosen)
        ui.io_caption(view.io)

    live()


def _filters(book: Book) -> tuple[list[str], list[str], list[str]]:
    symbols = sorted(book.strategies["underlying"].unique().to_list())
    choices = (
        ("Symbol", "underlying", symbols),
        ("Status", "status", [status.value for status in LIVE_STATUSES]),
        ("Strategy kind", "kind", [kind.value for kind in StrategyKind]),
    )
    picked = [
        column.multiselect(label, options, key=f"positions_{name}", placeholder="All")
        for column, (label, name, options) in zip(st.columns(3), choices, strict=True)
    ]
    return picked[0], picked[1], picked[2]


def _summary(book: Book, view: data.BookView) -> None:
    strategies = book.strategies
    cards = st.columns(6)
    cards[0].metric("Strategies", f"{strategies.height:,}")
    cards[1].metric("Legs", f"{book.legs.height:,}")
    cards[2].metric("Unrealized P&L", ui.money(_total(strategies, "pnl")))
    cards[3].metric("Net Δ (shares)", ui.signed(_total(strategies, "delta")))
    cards[4].metric("Net Θ ($/day)", ui.signed(_total(strategies, "theta"), 2))
    closing = strategies.filter(pl.col("action").is_in(["close", "roll", "reduce"])).height
    cards[5].metric("Exit decisions", f"{closing:,}")
    st.caption(
        f"Marks of {view.marks_day or '—'} · engine clock {ui.exchange_time(view.as_of)} · "
        "Greeks in position units: Δ and Γ in shares, Θ in $ per day, vega in $ per vol point."
    )


def _total(frame: pl.DataFrame, column: str) -> float | None:
    if frame.is_empty() or frame[column].null_count() == frame.height:
        return None
    return float(frame[column].sum())


def _tables(book: Book) -> None:
    st.subheader("Strategies")
    strategies = in_exchange_time(book.strategies, ["decided_at", "mark_time", "opened_at"])
    st.dataframe(
        strategies,
        column_config=STRATEGY_CONFIG,
        hide_index=True,
        width="stretch",
        height=_height(strategies.height),
        key="positions_strategies",
    )
    st.subheader("Legs")
    legs = in_exchange_time(book.legs, ["mark_time"]).drop("kind")
    st.dataframe(
        legs,
        column_config=LEG_CONFIG,
        hide_index=True,
        width="stretch",
        height=_height(legs.height),
        key="positions_legs",
    )


def _height(rows: int) -> int:
    """Show up to 15 rows without scrolling (35 px per row plus the header)."""
    return 38 + 35 * min(max(rows, 1), 15)


if __name__ == "__main__":
    render()
