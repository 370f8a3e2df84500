"""``v6 health`` through typer's runner, mounted as the lead mounts it, on real health tables:
the exit code says healthy (0), degraded (1), down (2) or unknown (3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from v6.health import ENGINE_COMPONENTS, HealthMonitor
from v6.health.cli import health
from v6.store import HealthStatus, Store, StoreLocation

app = typer.Typer()
app.command("health")(health)


@app.callback()
def main() -> None:
    """The v6 app's stand-in: health is one of its commands."""


runner = CliRunner()
SIM_NOW = datetime(2020, 3, 16, 15, 0, tzinfo=UTC)


def write_beats(data: Path, at: datetime, degraded: str | None = None, skip: str = "") -> None:
    store = Store(StoreLocation(str(data)), app_id="engine")
    monitor = HealthMonitor(store)
    for name in ENGINE_COMPONENTS:
        if name == skip:
            continue
        status = HealthStatus.DEGRADED if name == degraded else HealthStatus.OK
        monitor.beat(name, at, status, numbers={"depth": 3} if name == "queue" else None)
    store.flush()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["health", *args])
    return result.exit_code, result.output


def test_all_components_fresh_is_healthy(tmp_path: Path) -> None:
    write_beats(tmp_path, datetime.now(UTC) - timedelta(seconds=5))
    code, output = run("--data-dir", str(tmp_path))
    assert code == 0, output
    assert "overall: healthy" in output
    assert "depth=3" in output


def test_a_degraded_component_exits_1(tmp_path: Path) -> None:
    write_beats(tmp_path, datetime.now(UTC), degraded="sync")
    code, output = run("--data-dir", str(tmp_path))
    assert code == 1
    assert "overall: degraded" in output


def test_a_simulated_run_is_judged_on_its_own_clock(tmp_path: Path) -> None:
    write_beats(tmp_path, SIM_NOW)
    assert run("--data-dir", str(tmp_path))[0] == 2
    assert run("--data-dir", str(tmp_path), "--engine-clock")[0] == 0


def test_a_missing_component_or_no_heartbeat_at_all_is_down(tmp_path: Path) -> None:
    write_beats(tmp_path / "partial", SIM_NOW, skip="writer")
    code, output = run("--data-dir", str(tmp_path / "partial"), "--engine-clock")
    assert code == 2
    assert "no heartbeat" in output

    code, output = run("--data-dir", str(tmp_path / "fresh"))
    assert code == 2
    assert "no heartbeats in the health table: is the engine running?" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--degraded-after", "600", "--down-after", "60"), "expected 0 < degraded <= down"),
        (("--config", "/nonexistent/v6.toml"), "v6.toml"),
    ],
)
def test_bad_options_are_unknown(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    result = runner.invoke(app, ["health", "--data-dir", str(tmp_path), *args])
    assert result.exit_code == 3
    assert message in result.output
