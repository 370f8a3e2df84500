"""``v6 report``: the paper-trading validation report from the tables (mounted by ``v6.cli``:
``app.command("report")(report)``). A data location with no trades prints "no trades yet" and
exits 0."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Final, NoReturn

import typer
from rich.console import Console

from v6.cli_options import ConfigPath, DataDir, store_location
from v6.report.html import write_report_html
from v6.report.render import print_report
from v6.report.report import build_report
from v6.store import Store, StoreLocation

EXIT_BAD_INPUT: Final = 2

console = Console()
error_console = Console(stderr=True, soft_wrap=True)


def report(
    data_dir: DataDir = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON instead of tables.")
    ] = False,
    html: Annotated[
        Path | None,
        typer.Option(
            "--html",
            help="Also write a self-contained HTML report with charts to this file.",
            dir_okay=False,
        ),
    ] = None,
    config: ConfigPath = None,
) -> None:
    """Paper-trading report: P&L, equity curve, drawdown, Sharpe, win rate, slippage, rule
    triggers, risk-limit breaches and breaker trips."""
    built = build_report(Store(_location(data_dir, config)))
    if as_json:
        typer.echo(built.to_json())
    else:
        print_report(built, console)
    if html is not None:
        try:
            write_report_html(built, html)
        except OSError as error:
            _fail(f"--html {html}: {error.strerror or error}")
        if not as_json:
            console.print(f"HTML report written to {html}", soft_wrap=True, markup=False)


def _location(data_dir: str | None, config: Path | None) -> StoreLocation:
    try:
        return store_location(data_dir, config)
    except ValueError as error:
        _fail(str(error))


def _fail(message: str) -> NoReturn:
    error_console.print(f"report: {message}", markup=False, highlight=False)
    raise typer.Exit(EXIT_BAD_INPUT)
