"""Every page and every action of the dashboard in Streamlit's AppTest, on the tables of a
short real simulation; shown values are checked against the store's own repositories."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from dashboard_data import WrittenBook
from streamlit.testing.v1 import AppTest

from v6.dashboard.actions import CONTROLS, CommandKind, Control
from v6.risk.events import RiskEventKind
from v6.store import CommandStatus, Store, StoreLocation, trade_date

OpenApp = Callable[..., AppTest]


def store_of(book: WrittenBook) -> Store:
    return Store(StoreLocation(str(book.data_dir)))


def metrics(app: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in app.metric}


def test_positions_show_every_live_strategy_with_marks_pnl_and_decision(
    book: WrittenBook, open_app: OpenApp
) -> None:
    app = open_app(book.data_dir)
    store = store_of(book)
    live = store.strategies.live()
    marks = store.snapshots.latest(trade_date(book.as_of))
    shown = app.dataframe[0].value.set_index("strategy_id")
    assert sorted(shown.index) == sorted(s.strategy_id for s in live)
    assert metrics(app)["Legs"] == str(sum(len(s.legs) for s in live))
    for strategy in live:
        assert strategy.entry_premium is not None
        value = sum(
            leg.quantity
            * strategy.quantity
            * marks[(strategy.strategy_id, leg.contract.occ_symbol)].mark
            * 100
            for leg in strategy.legs
        )
        pnl = strategy.entry_premium * strategy.quantity * 100 + value
        row = shown.loc[strategy.strategy_id]
        assert row["pnl"] == pytest.approx(pnl)
        assert row["action"] == store.decisions.for_strategy(strategy.strategy_id)[-1].action.value
    legs = app.dataframe[1].value
    assert len(legs) == book.legs
    assert legs["mark"].notna().all()


def test_positions_filter_by_symbol_status_and_kind(book: WrittenBook, open_app: OpenApp) -> None:
    app = open_app(book.data_dir)
    app.multiselect(key="positions_underlying").set_value(["SPY"]).run()
    shown = app.dataframe[0].value
    assert set(shown["underlying"]) == {"SPY"}
    assert set(app.dataframe[1].value["underlying"]) == {"SPY"}
    app.multiselect(key="positions_status").set_value(["closing"]).run()
    assert app.dataframe[0].value.empty
    app.multiselect(key="positions_status").set_value(["open"])
    app.multiselect(key="positions_kind").set_value(["iron_condor"]).run()
    assert len(app.dataframe[0].value) == len(shown)


def test_portfolio_shows_net_greeks_limits_and_charts(book: WrittenBook, open_app: OpenApp) -> None:
    app = open_app(book.data_dir, "portfolio.py")
    positions = open_app(book.data_dir).dataframe[0].value
    assert metrics(app)["Delta (shares)"] == f"{positions['delta'].sum():+,.1f}"
    assert metrics(app)["Vega ($ per vol point)"] == f"{positions['vega'].sum():+,.1f}"
    charts = app.get("plotly_chart")
    assert len(charts) == 5, "limits, heatmap, concentration, equity, P&L"
    app.selectbox(key="portfolio_greek").set_value("vega").run()
    assert not app.exception


def test_alerts_acknowledge_one_then_all(book: WrittenBook, open_app: OpenApp) -> None:
    store = store_of(book)
    active = store.alerts.unacknowledged()
    app = open_app(book.data_dir, "alerts.py")
    assert metrics(app)["Active"] == str(len(active))
    first = active[0]
    app.button(key=f"ack_{first.alert_id}").click().run()
    acknowledged = store.alerts.get(first.alert_id)
    assert acknowledged is not None
    assert acknowledged.acknowledged_at is not None
    assert metrics(app)["Active"] == str(len(active) - 1)
    app.button(key="alerts_ack_all").click().run()
    assert store.alerts.unacknowledged() == []
    assert metrics(app)["Active"] == "0"
    history = app.dataframe[0].value
    assert history["acknowledged_at"].notna().all()
    assert len(history) == len(book.alerts)


def test_alerts_severity_filter(book: WrittenBook, open_app: OpenApp) -> None:
    app = open_app(book.data_dir, "alerts.py")
    app.multiselect(key="alerts_severity").set_value(["critical"]).run()
    history = app.dataframe[0].value
    assert set(history["severity"]) == {"critical"}
    assert "alerts_ack_all" in [button.key for button in app.button]


def test_health_shows_breaker_heartbeats_queue_and_lines(
    book: WrittenBook, open_app: OpenApp
) -> None:
    app = open_app(book.data_dir, "health.py")
    events = store_of(book).risk_events.since()
    transitions = [e for e in events if e.kind is RiskEventKind.BREAKER_TRANSITION]
    assert book.breaker_tripped
    assert transitions[-1].to_state == "open"
    shown = metrics(app)
    assert shown["Circuit breaker"] == "OPEN"
    assert shown["Trading"] == "REDUCING"
    assert shown["Broker"] == "ONLINE"
    assert shown["Queue depth"] == "0"
    assert shown["Streaming lines"] == "0 / 10"
    assert {"CPU", "Memory"} <= set(shown)
    beats = app.dataframe[0].value
    assert sorted(beats["component"]) == sorted(h.component for h in store_of(book).health.latest())


@pytest.mark.parametrize(
    "control", [c for c in CONTROLS if c.confirm is None], ids=lambda c: c.kind.value
)
def test_controls_without_confirmation_write_a_pending_command(
    book: WrittenBook, open_app: OpenApp, control: Control
) -> None:
    kind = control.kind
    app = open_app(book.data_dir, "health.py")
    app.button(key=f"control_{kind.value}").click().run()
    pending = store_of(book).commands.pending()
    assert [(c.kind, c.requested_by, c.status) for c in pending] == [
        (kind.value, "dashboard", CommandStatus.PENDING)
    ]


@pytest.mark.parametrize("kind", [CommandKind.HALT, CommandKind.RESET_BREAKER])
def test_halt_and_reset_ask_for_confirmation(
    book: WrittenBook, open_app: OpenApp, kind: CommandKind
) -> None:
    app = open_app(book.data_dir)
    app.button(key=f"control_{kind.value}").click().run()
    assert store_of(book).commands.pending() == [], "nothing sent before confirming"
    app.button(key="control_cancel").click().run()
    assert store_of(book).commands.pending() == []
    app.button(key=f"control_{kind.value}").click().run()
    app.text_input(key="v6_confirm_reason").input("testing the controls")
    app.button(key="control_confirm").click().run()
    pending = store_of(book).commands.pending()
    assert [(c.kind, dict(c.payload)) for c in pending] == [
        (kind.value, {"reason": "testing the controls"})
    ]
    assert [b.key for b in app.button if b.key == "control_confirm"] == []


def test_pending_commands_show_in_the_sidebar(book: WrittenBook, open_app: OpenApp) -> None:
    app = open_app(book.data_dir)
    app.button(key="control_force_sync").click().run()
    assert any("Waiting for the engine: force_sync" in c.value for c in app.sidebar.caption)


@pytest.mark.parametrize("page", [None, "portfolio.py", "alerts.py", "health.py"])
def test_a_fresh_data_directory_shows_no_data_yet(
    tmp_path: Path, open_app: OpenApp, page: str | None
) -> None:
    app = open_app(tmp_path / "fresh", page)
    assert any(info.value.startswith("No data yet") for info in app.info)


def test_a_password_guards_every_page(
    book: WrittenBook, open_app: OpenApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("V6_DASHBOARD_PASSWORD", "correct horse")
    app = open_app(book.data_dir)
    assert app.metric.len == 0
    app.text_input(key="login_password").input("wrong")
    app.button[0].click().run()
    assert app.error[0].value == "Wrong password."
    assert app.metric.len == 0
    app.text_input(key="login_password").input("correct horse")
    app.button[0].click().run()
    assert metrics(app)["Strategies"] == str(len(book.strategies))
