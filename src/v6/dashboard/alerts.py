"""Alerts: the active ones (acknowledge one or all) and the history, by severity."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

import polars as pl
import streamlit as st

from v6.dashboard import data, ui
from v6.dashboard.context import current
from v6.dashboard.frames import in_exchange_time

SEVERITIES: Final = ("critical", "warning", "info")
ICONS: Final = {
    "critical": ":material/error:",
    "warning": ":material/warning:",
    "info": ":material/info:",
}
COLORS: Final = {"critical": "red", "warning": "orange", "info": "blue"}
# Active alerts listed one by one with their own button; the rest are in the history.
# (Comments, not attribute docstrings: Streamlit writes a page's bare strings to the page.)
MAX_LISTED: Final = 50
HISTORY_CONFIG: Final = {
    "severity": st.column_config.TextColumn("Severity"),
    "created_at": st.column_config.DatetimeColumn("Raised", format="YYYY-MM-DD HH:mm:ss"),
    "source": st.column_config.TextColumn("Source"),
    "message": st.column_config.TextColumn("Message", width="large"),
    "acknowledged_at": st.column_config.DatetimeColumn("Acknowledged", format="YYYY-MM-DD HH:mm"),
    "alert_id": st.column_config.TextColumn("Alert id"),
}


def render() -> None:
    st.title("Alerts")

    @st.fragment(run_every=ui.run_every())
    def live() -> None:
        view = ui.view(data.alerts_view)
        alerts = view.alerts
        if alerts.is_empty():
            ui.no_data("no alerts have been raised.")
            ui.io_caption(view.io)
            return
        _counts(alerts)
        chosen = st.multiselect(
            "Severity", SEVERITIES, default=list(SEVERITIES), key="alerts_severity"
        )
        shown = alerts.filter(pl.col("severity").is_in(chosen))
        _active(shown.filter(pl.col("active")))
        _history(shown)
        ui.io_caption(view.io)

    live()


def _counts(alerts: pl.DataFrame) -> None:
    active = alerts.filter(pl.col("active"))
    cards = st.columns(4)
    cards[0].metric("Active", f"{active.height:,}", border=True)
    for card, severity in zip(cards[1:], SEVERITIES, strict=True):
        count = active.filter(pl.col("severity") == severity).height
        card.metric(f"Active {severity}", f"{count:,}", border=True)


def _active(active: pl.DataFrame) -> None:
    header, button = st.columns([4, 1], vertical_alignment="bottom")
    header.subheader(f"Active ({active.height})")
    if active.is_empty():
        st.success("Nothing to acknowledge.", icon=":material/done_all:")
        return
    button.button(
        f"Acknowledge all {active.height}",
        key="alerts_ack_all",
        icon=":material/done_all:",
        on_click=_acknowledge,
        args=(active["alert_id"].to_list(),),
    )
    for row in in_exchange_time(active.head(MAX_LISTED), ["created_at"]).iter_rows(named=True):
        _alert_row(row)
    if active.height > MAX_LISTED:
        st.caption(f"{active.height - MAX_LISTED} more active alerts are in the history below.")


def _alert_row(row: dict[str, object]) -> None:
    severity = str(row["severity"])
    with st.container(border=True):
        text, button = st.columns([6, 1], vertical_alignment="center")
        created = row["created_at"]
        when = created.strftime("%Y-%m-%d %H:%M:%S ET") if isinstance(created, datetime) else ""
        text.markdown(
            f":{COLORS.get(severity, 'gray')}-badge[{ICONS.get(severity, '')} {severity}] "
            f"**{row['source']}** · {when}"
        )
        text.text(str(row["message"]))
        button.button(
            "Acknowledge",
            key=f"ack_{row['alert_id']}",
            icon=":material/check:",
            on_click=_acknowledge,
            args=([str(row["alert_id"])],),
        )


def _acknowledge(alert_ids: list[str]) -> None:
    saved = data.acknowledge(current().access, alert_ids, datetime.now(UTC))
    st.toast(f"Acknowledged {len(saved)} alert(s).", icon=":material/check:")


def _history(alerts: pl.DataFrame) -> None:
    st.subheader(f"History ({alerts.height})")
    shown = in_exchange_time(alerts, ["created_at", "acknowledged_at"]).select(
        "severity", "created_at", "source", "message", "acknowledged_at", "alert_id"
    )
    st.dataframe(
        shown, column_config=HISTORY_CONFIG, hide_index=True, width="stretch", key="alerts_history"
    )


if __name__ == "__main__":
    render()
