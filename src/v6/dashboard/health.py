"""Health: broker connection, age of each component's last heartbeat, sync queue depth,
streaming lines in use, circuit-breaker and halt state, recent commands, and the host's CPU,
memory and disk.

Heartbeat messages carry numbers as ``name=value`` or ``name=used/limit``; this page reads
``depth`` and ``oldest_mark_s`` (the sync queue) and ``lines`` (streaming lines in use of the
budget) from whichever component reports them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import polars as pl
import psutil
import streamlit as st

from v6.dashboard import data, ui
from v6.dashboard.context import current
from v6.dashboard.frames import ControlState, heartbeat_metrics, in_exchange_time

# A newest heartbeat older than this on the wall clock: the engine is not running live.
STALE_AFTER_SECONDS: Final = 120.0
COMPONENT_CONFIG: Final = {
    "component": st.column_config.TextColumn("Component"),
    "status": st.column_config.TextColumn("Status"),
    "at": st.column_config.DatetimeColumn("Last heartbeat", format="YYYY-MM-DD HH:mm:ss"),
    "age": st.column_config.TextColumn("Age (engine clock)"),
    "message": st.column_config.TextColumn("Message", width="large"),
}
COMMAND_CONFIG: Final = {
    "kind": st.column_config.TextColumn("Command"),
    "status": st.column_config.TextColumn("Status"),
    "requested_at": st.column_config.DatetimeColumn("Requested", format="YYYY-MM-DD HH:mm:ss"),
    "requested_by": st.column_config.TextColumn("By"),
    "updated_at": st.column_config.DatetimeColumn("Updated", format="YYYY-MM-DD HH:mm:ss"),
    "result": st.column_config.TextColumn("Result", width="large"),
    "payload": st.column_config.TextColumn("Payload"),
}


def render() -> None:
    st.title("Health")

    @st.fragment(run_every=ui.run_every())
    def live() -> None:
        view = ui.view(data.health_view)
        _engine(view)
        _components(view)
        _host()
        _commands(view.commands)
        ui.io_caption(view.io)

    live()


def _engine(view: data.HealthView) -> None:
    control = view.control
    broker = view.heartbeats.filter(pl.col("component") == "broker")
    numbers = _numbers(view.heartbeats)
    cards = st.columns(5)
    cards[0].metric("Trading", control.trading.upper(), border=True)
    cards[1].metric("Circuit breaker", control.breaker.replace("_", " ").upper(), border=True)
    cards[2].metric("Broker", _broker_state(broker), border=True)
    depth = numbers.get("depth")
    cards[3].metric("Queue depth", "—" if depth is None else f"{depth[0]:,.0f}", border=True)
    cards[4].metric("Streaming lines", _lines(numbers.get("lines")), border=True)
    st.markdown(ui.TRADING_BADGES[control.trading])
    _explain(control)
    _clock(view.as_of, numbers.get("oldest_mark_s"))


def _broker_state(broker: pl.DataFrame) -> str:
    if broker.is_empty():
        return "NO HEARTBEAT"
    status = str(broker["status"][0])
    return "ONLINE" if status == "ok" else status.upper()


def _lines(lines: tuple[float, float | None] | None) -> str:
    if lines is None:
        return "—"
    used, budget = lines
    return f"{used:.0f}" if budget is None else f"{used:.0f} / {budget:.0f}"


def _numbers(heartbeats: pl.DataFrame) -> dict[str, tuple[float, float | None]]:
    found: dict[str, tuple[float, float | None]] = {}
    for message in heartbeats["message"].to_list():
        found.update(heartbeat_metrics(message))
    return found


def _explain(control: ControlState) -> None:
    if control.halted:
        st.error(
            f"Trading halted since {ui.exchange_time(control.halted_since)}: "
            f"{control.halt_reason}. Only closing orders and cancels pass.",
            icon=":material/pan_tool:",
        )
    if control.breaker != "closed":
        st.warning(
            f"Circuit breaker {control.breaker} since {ui.exchange_time(control.breaker_since)}: "
            f"{control.breaker_reason}",
            icon=":material/electrical_services:",
        )


def _clock(as_of: datetime | None, oldest_mark: tuple[float, float | None] | None) -> None:
    if as_of is None:
        ui.no_data("no heartbeats in the health table: is the engine running?")
        return
    behind = (datetime.now(UTC) - as_of).total_seconds()
    mark_age = "" if oldest_mark is None else f" · oldest mark {ui.age(oldest_mark[0])}"
    text = f"Engine clock {ui.exchange_time(as_of)} (newest heartbeat){mark_age}."
    if behind > STALE_AFTER_SECONDS:
        st.caption(
            f"{text} It is {ui.age(behind)} behind the wall clock: a simulated run, or the "
            "engine stopped."
        )
    else:
        st.caption(text)


def _components(view: data.HealthView) -> None:
    st.subheader("Components")
    beats = view.heartbeats
    if beats.is_empty():
        return
    assert view.as_of is not None
    table = in_exchange_time(
        beats.with_columns(
            age=pl.col("at").map_elements(
                lambda at: ui.age((view.as_of - at).total_seconds()), return_dtype=pl.String
            ),
        ),
        ["at"],
    ).select("component", "status", "at", "age", "message")
    st.dataframe(
        table, column_config=COMPONENT_CONFIG, hide_index=True, width="stretch", key="health_beats"
    )


def _host() -> None:
    st.subheader("Host")
    disk_path = _disk_path(current().location.root)
    memory = psutil.virtual_memory()
    disk = psutil.disk_usage(str(disk_path))
    cards = st.columns(3)
    cards[0].metric(
        "CPU",
        f"{psutil.cpu_percent(interval=None):.0f} %",
        f"{psutil.cpu_count()} cores",
        delta_color="off",
        delta_arrow="off",
        border=True,
    )
    cards[1].metric(
        "Memory",
        f"{memory.percent:.0f} %",
        f"{memory.available / 2**30:,.1f} GiB free",
        delta_color="off",
        delta_arrow="off",
        border=True,
    )
    cards[2].metric(
        f"Disk ({disk_path})",
        f"{disk.percent:.0f} %",
        f"{disk.free / 2**30:,.1f} GiB free",
        delta_color="off",
        delta_arrow="off",
        border=True,
    )


def _disk_path(root: str) -> Path:
    """The data directory (or its nearest existing parent); / for object storage."""
    if "://" in root:
        return Path("/")
    path = Path(root)
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _commands(commands: pl.DataFrame) -> None:
    st.subheader("Recent commands")
    if commands.is_empty():
        st.caption("No commands sent yet.")
        return
    shown = in_exchange_time(commands, ["requested_at", "updated_at"]).select(
        "kind", "status", "requested_at", "requested_by", "updated_at", "result", "payload"
    )
    st.dataframe(
        shown, column_config=COMMAND_CONFIG, hide_index=True, width="stretch", key="health_commands"
    )


if __name__ == "__main__":
    render()
