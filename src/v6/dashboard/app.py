"""The dashboard's Streamlit script: login, sidebar (refresh, engine state, controls) and the
four pages. Started by ``v6 dashboard`` (see `v6.dashboard.cli`)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

import streamlit as st

from v6.config import ConfigError
from v6.dashboard import actions, auth, data, ui
from v6.dashboard.args import DashboardArgumentError
from v6.dashboard.context import DashboardContext, current

HERE: Final = Path(__file__).resolve().parent
PAGES: Final = (
    ("positions.py", "Positions", ":material/view_list:"),
    ("portfolio.py", "Portfolio", ":material/monitoring:"),
    ("alerts.py", "Alerts", ":material/notifications:"),
    ("health.py", "Health", ":material/health_and_safety:"),
)


def main() -> None:
    st.set_page_config(page_title="V6", page_icon=":material/candlestick_chart:", layout="wide")
    try:
        context = current()
    except (ConfigError, DashboardArgumentError) as error:
        st.error(f"The dashboard cannot start: {error}", icon=":material/error:")
        st.stop()
    if not auth.require_login(context.config.dashboard.password):
        st.stop()
    pages = [
        st.Page(HERE / name, title=title, icon=icon, default=index == 0)
        for index, (name, title, icon) in enumerate(PAGES)
    ]
    page = st.navigation(pages)
    with st.sidebar:
        _sidebar(context)
    page.run()


def _sidebar(context: DashboardContext) -> None:
    st.markdown("### V6 · autonomous options")
    st.caption(f"Data: `{context.root}`")
    ui.refresh_seconds()
    st.selectbox(
        "Auto-refresh",
        list(ui.REFRESH_CHOICES),
        format_func=ui.REFRESH_CHOICES.__getitem__,
        key=ui.REFRESH_KEY,
    )
    _engine_state()
    st.markdown("#### Engine controls")
    actions.render_controls(context)
    if context.config.dashboard.password is not None:
        st.button("Log out", on_click=auth.logout, key="logout", icon=":material/logout:")


@st.fragment(run_every=ui.run_every())
def _engine_state() -> None:
    view = ui.view(data.health_view)
    control = view.control
    st.markdown(ui.TRADING_BADGES[control.trading])
    st.caption(f"Circuit breaker {control.breaker.replace('_', ' ')}")
    pending = view.commands.filter(view.commands["status"] == "pending")
    if pending.height:
        st.caption("Waiting for the engine: " + ", ".join(pending["kind"].to_list()))
    st.caption(f"Engine clock {ui.exchange_time(view.as_of)}")


main()
