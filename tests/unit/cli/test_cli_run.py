"""`v6 run` on the real clock, in process: the help states how real days map onto replayed
sessions, a closed real day announces the next open and waits for it, and a window or a health
port that cannot work is a clear usage error."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from v6.cli import app
from v6.clock import NEW_YORK, ReplayClock
from v6.run_cli import announce_sessions, console

REPO = Path(__file__).resolve().parents[3]
CONFIG = REPO / "config" / "sim.toml"
runner = CliRunner()


def new_york(*moment: int) -> datetime:
    return datetime(*moment, tzinfo=NEW_YORK).astimezone(UTC)  # type: ignore[misc]


class FakeWall:
    """A wall clock that jumps when slept on; halts the replay after ``sleeps`` sleeps."""

    def __init__(self, start: datetime, sleeps: int) -> None:
        self.now = start
        self.sleeps = sleeps
        self.clock: ReplayClock | None = None

    def __call__(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.sleeps -= 1
        if self.sleeps == 0 and self.clock is not None:
            self.clock.halt()


def announcements(start: datetime, sleeps: int) -> list[str]:
    wall = FakeWall(start, sleeps)
    wall.clock = ReplayClock(date(2020, 2, 3), wall=wall, real_sleep=wall.sleep)
    with console.capture() as captured:
        asyncio.run(announce_sessions(wall.clock))
    return captured.get().splitlines()


def test_on_thanksgiving_the_run_waits_for_fridays_open_and_says_so() -> None:
    lines = announcements(new_york(2026, 11, 26, 7, 0), sleeps=3)
    assert lines == [
        "Thu 2026-11-26 07:00 EST: market closed; the next session opens "
        "Fri 2026-11-27 09:30 EST (replaying 2020-02-03)",
        "Fri 2026-11-27 09:30 EST: session open until Fri 2026-11-27 13:00 EST "
        "(replaying 2020-02-03)",
        "Fri 2026-11-27 13:00 EST: market closed; the next session opens "
        "Mon 2026-11-30 09:30 EST (replaying 2020-02-04)",
    ]


def test_started_in_a_session_the_run_trades_at_once() -> None:
    lines = announcements(new_york(2026, 12, 1, 11, 0), sleeps=1)
    assert lines == [
        "Tue 2026-12-01 11:00 EST: session open until Tue 2026-12-01 16:00 EST "
        "(replaying 2020-02-03)"
    ]


def test_run_help_states_how_real_sessions_replay_history() -> None:
    result = runner.invoke(app, ["run", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for phrase in (
        "each real NYSE session replays one historical session",
        "waits for the next real open",
        "SIGTERM or SIGINT",
        "--health",
    ):
        assert phrase in text


def test_a_from_after_the_windows_end_is_a_usage_error(tmp_path: Path) -> None:
    args = ["run", "--from", "2025-01-02", "--data-dir", str(tmp_path), "--config", str(CONFIG)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "broker.sim.end_date 2024-12-31" in result.output


def test_a_taken_health_port_is_a_usage_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = ["run", "--data-dir", str(tmp_path), "--config", str(CONFIG)]
        result = runner.invoke(app, args, env={"V6_HEALTH__PORT": str(port)})
    assert result.exit_code == 2
    assert f"cannot serve health on 127.0.0.1:{port}" in result.output
