"""The `v6` command line: one typer app, every command real (nothing listed that does not work)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from v6 import __version__
from v6.brokers.sim.__main__ import app as sim_app
from v6.config import ConfigError, load_config
from v6.dashboard.cli import dashboard as dashboard_command
from v6.health.cli import health as health_command
from v6.report.cli import report as report_command
from v6.run_cli import run as run_command
from v6.store.cli import db_app

app = typer.Typer(
    name="v6",
    help="V6: autonomous defined-risk options trading for Interactive Brokers.",
    no_args_is_help=True,
    add_completion=False,
)
config_app = typer.Typer(help="Inspect and validate configuration files.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(sim_app, name="sim", help="The embedded simulated exchange.")
app.add_typer(db_app, name="db")
app.command("run")(run_command)
app.command("dashboard")(dashboard_command)
app.command("report")(report_command)
app.command("health")(health_command)

console = Console()
error_console = Console(stderr=True, soft_wrap=True)

EXIT_BAD_CONFIG = 2


@app.command()
def version() -> None:
    """Print the installed V6 version."""
    console.print(f"v6 {__version__}")


@config_app.command("check")
def config_check(
    path: Annotated[Path, typer.Argument(help="The TOML configuration file to validate.")],
) -> None:
    """Validate a configuration file (and V6_* environment overrides): OK, or every problem."""
    try:
        load_config(path)
    except ConfigError as error:
        for problem in error.problems:
            error_console.print(str(problem), markup=False, highlight=False)
        raise typer.Exit(EXIT_BAD_CONFIG) from None
    console.print("OK")


if __name__ == "__main__":
    app()
