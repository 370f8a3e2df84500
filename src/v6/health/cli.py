"""``v6 health``: every component's status from the health table, with an exit code for
scripts and monitors (mounted by ``v6.cli``: ``app.command("health")(health)``).

Exit codes follow the Nagios plugin convention: 0 healthy, 1 degraded, 2 down (or no
heartbeats at all), 3 unknown (bad options or an unreadable data location).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Final, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from v6.cli_options import ConfigPath, DataDir, store_location
from v6.health.monitor import HealthReport, HealthState, HealthThresholds, assess
from v6.store import Heartbeat, Store, StoreLocation

EXIT_CODES: Final = {HealthState.HEALTHY: 0, HealthState.DEGRADED: 1, HealthState.DOWN: 2}
EXIT_UNKNOWN: Final = 3
STYLES: Final = {
    HealthState.HEALTHY: "green",
    HealthState.DEGRADED: "yellow",
    HealthState.DOWN: "red",
}

console = Console()
error_console = Console(stderr=True, soft_wrap=True)


def health(
    data_dir: DataDir = None,
    config: ConfigPath = None,
    degraded_after: Annotated[
        float, typer.Option(help="A heartbeat older than this many seconds is degraded.")
    ] = 60.0,
    down_after: Annotated[
        float, typer.Option(help="A heartbeat older than this many seconds is down.")
    ] = 300.0,
    engine_clock: Annotated[
        bool,
        typer.Option(
            "--engine-clock",
            help="Measure ages from the newest heartbeat instead of the wall clock (for a "
            "simulated run, whose clock is not today's).",
        ),
    ] = False,
) -> None:
    """Print each engine component's health; exit 0 healthy, 1 degraded, 2 down."""
    try:
        thresholds = HealthThresholds(degraded_after, down_after)
    except ValueError as error:
        _unknown(str(error))
    heartbeats = Store(_location(data_dir, config)).health.latest()
    now = _now(heartbeats, engine_clock)
    report = assess(heartbeats, now, thresholds)
    console.print(_table(report, now))
    if not heartbeats:
        console.print("no heartbeats in the health table: is the engine running?")
    console.print(f"overall: {report.state.value}", style=STYLES[report.state])
    raise typer.Exit(EXIT_CODES[report.state])


def _location(data_dir: str | None, config: Path | None) -> StoreLocation:
    try:
        return store_location(data_dir, config)
    except ValueError as error:
        _unknown(str(error))


def _now(heartbeats: list[Heartbeat], engine_clock: bool) -> datetime:
    if engine_clock and heartbeats:
        return max(beat.at for beat in heartbeats)
    return datetime.now(UTC)


def _table(report: HealthReport, now: datetime) -> Table:
    table = Table(title=f"V6 health at {now:%Y-%m-%d %H:%M:%S} UTC")
    for name in ("component", "state", "last heartbeat (UTC)", "details"):
        table.add_column(name)
    for component in report.components:
        beat = component.heartbeat
        table.add_row(
            Text(component.component),
            Text(component.state.value, style=STYLES[component.state]),
            "-" if beat is None else f"{beat.at:%Y-%m-%d %H:%M:%S}",
            Text(component.reason),
        )
    return table


def _unknown(message: str) -> NoReturn:
    error_console.print(f"health: {message}", markup=False, highlight=False)
    raise typer.Exit(EXIT_UNKNOWN)
