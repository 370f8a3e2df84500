"""Pieces every page uses: the refresh choice, the views for this refresh, formatting."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Final, TypeVar
from zoneinfo import ZoneInfo

import streamlit as st

from v6.dashboard import data
from v6.dashboard.context import DashboardContext, current
from v6.dashboard.frames import EXCHANGE_TIME_ZONE

REFRESH_CHOICES: Final = {5: "5 s", 30: "30 s", 60: "60 s", 0: "off"}
REFRESH_KEY: Final = "v6_refresh_seconds"
TRADING_BADGES: Final = {
    "active": ":green-badge[:material/check_circle: trading active]",
    "reducing": ":orange-badge[:material/block: breaker open: exits only]",
    "halted": ":red-badge[:material/pan_tool: trading halted: exits only]",
}

V = TypeVar("V")
ViewLoader = Callable[[data.StoreAccess, str, int, int], V]


def refresh_seconds() -> int:
    """The auto-refresh period this session chose (the configuration's by default)."""
    if REFRESH_KEY not in st.session_state:
        st.session_state[REFRESH_KEY] = current().config.dashboard.refresh_seconds
    seconds: int = st.session_state[REFRESH_KEY]
    return seconds


def run_every() -> timedelta | None:
    """``run_every`` for the page fragments: None when auto-refresh is off."""
    seconds = refresh_seconds()
    return timedelta(seconds=seconds) if seconds else None


def view(loader: ViewLoader[V], context: DashboardContext | None = None) -> V:
    """``loader``'s view for this refresh bucket (read once per bucket for all sessions)."""
    ctx = context or current()
    seconds = refresh_seconds()
    return loader(ctx.access, ctx.root, seconds, data.refresh_bucket(seconds))


def exchange_time(at: datetime | None, pattern: str = "%Y-%m-%d %H:%M:%S") -> str:
    """``at`` in New York time, or an em dash when unknown."""
    if at is None:
        return "—"
    return at.astimezone(ZoneInfo(EXCHANGE_TIME_ZONE)).strftime(pattern) + " ET"


def money(value: float | None) -> str:
    if value is None:
        return "—"
    return f"-${-value:,.0f}" if value < 0 else f"${value:,.0f}"


def signed(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:+,.{digits}f}"


def age(seconds: float | None) -> str:
    """A duration as ``45 s``, ``12 min``, ``3.5 h`` or ``4.0 days``."""
    if seconds is None:
        return "—"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172_800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86_400:.1f} days"


def no_data(what: str) -> None:
    """The message a page shows instead of a table or chart when there is nothing yet."""
    st.info(f"No data yet: {what}", icon=":material/hourglass_empty:")


def io_caption(stats: data.ReadStats) -> None:
    st.caption(
        f"Delta I/O for this refresh: {stats.reads} reads, {stats.rows:,} rows, "
        f"{stats.seconds * 1000:.0f} ms"
    )
