"""``v6 dashboard``: start the Streamlit app on the tables of a data location.

It runs ``python -m streamlit run <app.py>`` as a child process (headless, on the chosen
address and port) with the data location and configuration file after ``--``. Binding to an
address other than loopback needs ``V6_DASHBOARD_PASSWORD``; without it the command refuses
to start and says why.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Annotated, Final

import typer
from rich.console import Console

from v6.config import ConfigError, V6Config, load_config
from v6.config.dashboard import DashboardConfig
from v6.dashboard.args import DashboardArgs

APP_PATH: Final = Path(__file__).with_name("app.py")
EXIT_REFUSED: Final = 2

error_console = Console(stderr=True, soft_wrap=True)


class DashboardRefusedError(ValueError):
    """The dashboard must not start with these settings."""


def streamlit_command(settings: DashboardConfig, args: DashboardArgs) -> list[str]:
    """The command line that serves the app with ``settings`` on ``args``' data."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP_PATH),
        "--server.address",
        settings.host,
        "--server.port",
        str(settings.port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        "--client.toolbarMode",
        "viewer",
        "--",
        *args.to_argv(),
    ]


def check_exposure(settings: DashboardConfig) -> None:
    """Refuse a non-loopback address without a password (DashboardRefusedError says why)."""
    if settings.requires_password() and settings.password is None:
        raise DashboardRefusedError(
            f"--host {settings.host} is reachable from other machines, so the dashboard needs "
            "a password: set V6_DASHBOARD_PASSWORD, or bind to 127.0.0.1 (the default)"
        )


def dashboard_settings(config: V6Config, host: str | None, port: int | None) -> DashboardConfig:
    """The configuration's dashboard part with ``--host``/``--port`` applied (validated)."""
    changes = {name: value for name, value in (("host", host), ("port", port)) if value is not None}
    return DashboardConfig.model_validate({**config.dashboard.model_dump(), **changes})


def dashboard(
    data_dir: Annotated[
        str | None,
        typer.Option(
            "--data-dir",
            help="Data location (local directory or s3://bucket/prefix) whose tables to show. "
            "Default: storage.location of --config.",
        ),
    ] = None,
    host: Annotated[
        str | None,
        typer.Option(help="Address to listen on (default 127.0.0.1; others need a password)."),
    ] = None,
    port: Annotated[int | None, typer.Option(help="TCP port (default 8501).")] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="Configuration file (limits, refresh, storage).")
    ] = None,
) -> None:
    """Serve the monitoring dashboard (positions, portfolio, alerts, health) in a browser."""
    try:
        loaded = load_config(config)
        settings = dashboard_settings(loaded, host, port)
        check_exposure(settings)
    except ConfigError as error:
        for problem in error.problems:
            error_console.print(str(problem), markup=False, highlight=False)
        raise typer.Exit(EXIT_REFUSED) from None
    except (DashboardRefusedError, ValueError) as error:
        error_console.print(f"dashboard: {error}", markup=False, highlight=False)
        raise typer.Exit(EXIT_REFUSED) from None
    args = DashboardArgs(data_dir, config.resolve() if config is not None else None)
    error_console.print(f"V6 dashboard on http://{settings.host}:{settings.port}", highlight=False)
    completed = subprocess.run(streamlit_command(settings, args), check=False)
    raise typer.Exit(completed.returncode)
