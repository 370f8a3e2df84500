"""Portfolio: net Greeks against the limits, Greeks by symbol and expiry, P&L and equity over
time, concentration by symbol. Exposure and limit checks are `v6.risk.limits`'."""

from __future__ import annotations

import polars as pl
import streamlit as st

from v6.config.risk import PortfolioLimits
from v6.dashboard import charts, data, ui
from v6.dashboard.context import current
from v6.dashboard.frames import GREEK_LABELS, GREEKS, concentration, greek_grid
from v6.domain import StrategyStatus
from v6.risk.limits import Exposure, LimitName, violations
from v6.table import ArrayTable


def render() -> None:
    st.title("Portfolio")

    @st.fragment(run_every=ui.run_every())
    def live() -> None:
        limits = current().config.risk.portfolio
        book = ui.view(data.book_view)
        account = ui.view(data.account_view)
        if book.book.is_empty:
            ui.no_data("no open strategies, so no Greeks or concentration to show.")
        else:
            _greeks(book, account, limits)
        _history(account)
        ui.io_caption(book.io + account.io)

    live()


def _greeks(book: data.BookView, account: data.AccountView, limits: PortfolioLimits) -> None:
    strategies = book.book.strategies.filter(pl.col("status") != StrategyStatus.PENDING.value)
    exposure = Exposure.of(ArrayTable.of_frame(strategies))
    values = {name: exposure.greek(LimitName(name)) for name in GREEKS}
    caps = {
        "delta": limits.max_abs_delta,
        "gamma": limits.max_abs_gamma,
        "theta": limits.max_abs_theta,
        "vega": limits.max_abs_vega,
    }
    cards = st.columns(4)
    for card, name in zip(cards, GREEKS, strict=True):
        card.metric(
            GREEK_LABELS[name],
            ui.signed(values[name]),
            f"limit ±{caps[name]:,.0f}",
            delta_color="off",
            delta_arrow="off",
            border=True,
        )
    _limit_status(exposure, limits, account)
    st.plotly_chart(charts.limits_figure(values, caps), key="portfolio_limits")
    left, right = st.columns([3, 2])
    with left:
        greek = st.selectbox(
            "Heatmap Greek", GREEKS, format_func=GREEK_LABELS.__getitem__, key="portfolio_greek"
        )
        grid = greek_grid(book.book.legs, greek)
        st.plotly_chart(charts.heatmap_figure(grid, greek), key="portfolio_heatmap")
    with right:
        shares = concentration(strategies)
        figure = charts.concentration_figure(shares, limits.max_symbol_concentration)
        st.plotly_chart(figure, key="portfolio_concentration")


def _limit_status(exposure: Exposure, limits: PortfolioLimits, account: data.AccountView) -> None:
    snapshots = account.snapshots.filter(pl.col("buying_power") > 0)
    if snapshots.is_empty():
        st.caption("No account snapshot with buying power left: buying-power use is not checked.")
        return
    buying_power = float(snapshots.sort("at")["buying_power"][-1])
    found = violations(exposure, limits, buying_power)
    if not found:
        st.success("The book is within every portfolio limit.", icon=":material/verified:")
    for violation in found:
        st.warning(f"Limit breached: {violation.reason}", icon=":material/warning:")


def _history(account: data.AccountView) -> None:
    if account.snapshots.is_empty():
        ui.no_data("no account snapshots, so no equity curve or P&L series.")
        return
    left, right = st.columns(2)
    with left:
        st.plotly_chart(charts.equity_figure(account.snapshots), key="portfolio_equity")
    with right:
        st.plotly_chart(charts.pnl_figure(account.snapshots), key="portfolio_pnl")


if __name__ == "__main__":
    render()
