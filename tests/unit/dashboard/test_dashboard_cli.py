"""``v6 dashboard``: loopback by default, a password beyond it, the streamlit command line."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from v6.config import V6Config
from v6.dashboard.args import DashboardArgs
from v6.dashboard.cli import (
    APP_PATH,
    DashboardRefusedError,
    check_exposure,
    dashboard,
    dashboard_settings,
    streamlit_command,
)

app = typer.Typer()
app.command()(dashboard)


def test_a_public_address_without_password_is_refused_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("V6_DASHBOARD_PASSWORD", raising=False)
    result = CliRunner().invoke(app, ["--data-dir", "/tmp/x", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "V6_DASHBOARD_PASSWORD" in result.output
    assert "0.0.0.0" in result.output


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_loopback_needs_no_password(host: str) -> None:
    check_exposure(dashboard_settings(V6Config(), host, None))


def test_a_password_allows_a_public_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("V6_DASHBOARD_PASSWORD", "s3cret")
    from v6.config import load_config

    check_exposure(dashboard_settings(load_config(None), "0.0.0.0", 9000))
    monkeypatch.delenv("V6_DASHBOARD_PASSWORD")
    with pytest.raises(DashboardRefusedError, match="needs a password"):
        check_exposure(dashboard_settings(load_config(None), "0.0.0.0", 9000))


def test_a_bad_port_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    result = CliRunner().invoke(app, ["--port", "70000"])
    assert result.exit_code == 2
    assert "port" in result.output


def test_the_streamlit_command_line_and_the_apps_arguments_round_trip(tmp_path: Path) -> None:
    args = DashboardArgs(str(tmp_path), tmp_path / "v6.toml")
    settings = dashboard_settings(V6Config(), None, 8765)
    command = streamlit_command(settings, args)
    assert command[1:5] == ["-m", "streamlit", "run", str(APP_PATH)]
    options = dict(zip(command[5:-5:2], command[6:-5:2], strict=True))
    assert options["--server.address"] == "127.0.0.1"
    assert options["--server.port"] == "8765"
    assert options["--server.headless"] == "true"
    separator = command.index("--")
    assert DashboardArgs.parse(command[separator + 1 :]) == args
