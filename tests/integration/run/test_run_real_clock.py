"""`v6 run` on the real clock, as systemd runs it: a real subprocess on the simulated exchange,
its real clock accelerated (``V6_ENGINE__TIME_ACCELERATION``) so that a session passes in a
fraction of a second and the longest closed stretch (a four-day holiday weekend) in a few.

Whatever the real day the test runs on (a weekday, a weekend, Thanksgiving), the run waits
for the next real open, replays ``--from`` on it, serves /healthz and /readyz on 127.0.0.1
meanwhile, and on SIGTERM or SIGINT ends the cycle in progress, flushes the store and exits 0.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

REPO = Path(__file__).resolve().parents[3]
CONFIG = REPO / "config" / "sim.toml"
START = date(2020, 2, 3)
START_CLOSE = datetime(2020, 2, 3, 21, 0, tzinfo=UTC)
ACCELERATION = 100_000
"""Real seconds per wall second: a 6.5-hour session in 0.23 s, 96 closed hours in 3.5 s."""
TIMEOUT_SECONDS = 180.0
"""A hang guard, not a speed check (importing v6 alone takes seconds on a loaded machine)."""
COMPONENTS = {"broker", "sync", "queue", "decisions", "execution", "writer"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RealClockRun:
    """`v6 run` without --days in a subprocess, its output collected line by line."""

    def __init__(self, data_dir: Path, port: int) -> None:
        env = os.environ | {
            "V6_ENGINE__TIME_ACCELERATION": str(ACCELERATION),
            "V6_HEALTH__PORT": str(port),
        }
        args = ["run", "--from", START.isoformat(), "--data-dir", str(data_dir)]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "v6.cli", *args, "--config", str(CONFIG)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.port = port

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, text: str, after: int = 0) -> int:
        """The index of the first line from ``after`` on that contains ``text``."""
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            for index, line in enumerate(self.lines[after:], start=after):
                if text in line:
                    return index
            assert self.process.poll() is None, f"the run ended:\n{self.output}"
            time.sleep(0.05)
        raise AssertionError(f"no line with {text!r} in {TIMEOUT_SECONDS} s:\n{self.output}")

    def get(self, path: str) -> tuple[int, str]:
        url = f"http://127.0.0.1:{self.port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return int(response.status), response.read().decode()
        except urllib.error.HTTPError as error:
            return int(error.code), error.read().decode()

    def stop(self, number: signal.Signals) -> int:
        self.process.send_signal(number)
        code = self.process.wait(TIMEOUT_SECONDS)
        self._reader.join(TIMEOUT_SECONDS)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@dataclass(frozen=True)
class Outcome:
    """What a run that served health, replayed a whole session and was signalled did."""

    signal: signal.Signals
    code: int
    output: str
    healthz: tuple[int, str]
    readyz: tuple[int, str]
    data_dir: Path

    def table(self, name: str) -> pl.DataFrame:
        return pl.read_delta(str(self.data_dir / "tables" / name))

    @property
    def cycles(self) -> int:
        found = re.search(r"cycles \(this process\)\D*(\d+)", self.output)
        assert found is not None, self.output
        return int(found.group(1))


@pytest.fixture(scope="module", params=[signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def outcome(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    data_dir = tmp_path_factory.mktemp("real-clock")
    run = RealClockRun(data_dir, free_port())
    try:
        run.wait_for_line("Health: http://127.0.0.1")
        healthz = run.get("/healthz")
        opened = run.wait_for_line("session open until")
        closed = run.wait_for_line("market closed; the next session opens", after=opened)
        readyz = run.get("/readyz")
        # The close is announced on real time, maybe before the engine's own cycle at the
        # close: stopping once the next session opens leaves the closed stretch's cycles in.
        run.wait_for_line("session open until", after=closed)
        code = run.stop(request.param)
    finally:
        run.kill()
    return Outcome(request.param, code, run.output, healthz, readyz, data_dir)


def test_the_run_exits_0_on_the_signal(outcome: Outcome) -> None:
    assert outcome.code == 0, outcome.output
    assert f"{outcome.signal.name}: stopping after the cycle in progress" in outcome.output


def test_healthz_answers_on_loopback(outcome: Outcome) -> None:
    assert outcome.healthz == (200, "ok\n")


def test_readyz_answers_with_the_readiness(outcome: Outcome) -> None:
    status, body = outcome.readyz
    assert (status, body) == (200, "ready\n") or (status == 503 and body.startswith("not ready\n"))


def test_the_first_session_replays_from(outcome: Outcome) -> None:
    assert f"(replaying {START.isoformat()})" in outcome.output


def test_every_component_heartbeat_lands_in_the_health_table(outcome: Outcome) -> None:
    health = outcome.table("health")
    assert set(health["component"]) == COMPONENTS
    assert health["at"].min() >= START_CLOSE, "heartbeats go on after the replayed session"


def test_the_store_is_flushed_at_the_stop(outcome: Outcome) -> None:
    snapshots = outcome.table("account_snapshots")
    assert len(snapshots) == outcome.cycles, "one account snapshot per cycle, the last included"
    assert snapshots["at"].max() == outcome.table("health")["at"].max()
