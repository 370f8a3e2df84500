"""Speed of `v6 run`: the whole engine trading a simulated window, against the market and the
exchange stepping the same window alone.

Run: ``.venv/bin/python benchmarks/bench_run.py [--days 252] [--from 2019-01-02]``

The engine runs SPY, QQQ and IWM at 5-minute market steps with the default configuration
(the default strategy templates; no configuration file, environment overrides aside), its
tables and exchange journal in a temporary directory, exactly as ``v6 run`` does. Printed:
wall time, simulated-to-real time ratios (of calendar time and of market hours), where the
engine's time went (per cycle stage), and the peer: the same market and exchange (journal
included) stepping the same window with no engine (no subscriptions, no orders), which is the
floor the engine stands on. With fewer than 252 sessions the year is extrapolated linearly
from the window's rate, and says so.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from v6.brokers.sim import open_simulation
from v6.config import V6Config, load_config
from v6.engine import RunStats, build_engine, simulation_config
from v6.market.simulated import SimulatedMarket

YEAR_SESSIONS = 252
STEP_MINUTES = 5
SESSION_HOURS = 6.5
TARGET_YEAR_SECONDS = 120.0


@dataclass(frozen=True, slots=True)
class Timed:
    wall: float
    simulated: float
    """Simulated calendar seconds from the first to the last step."""


def settings(start: date, days: int, seed: int) -> V6Config:
    config = simulation_config(load_config(None), start, days, seed)
    sim = config.broker.sim.model_copy(update={"bar_step_minutes": STEP_MINUTES})
    return config.model_copy(update={"broker": config.broker.model_copy(update={"sim": sim})})


def run_engine(config: V6Config, data_dir: Path) -> tuple[Timed, RunStats]:
    engine = build_engine(config, data_dir=data_dir)
    started = time.perf_counter()
    stats = asyncio.run(engine.run())
    wall = time.perf_counter() - started
    first, last = stats.first_cycle_at, stats.last_cycle_at
    simulated = 0.0 if first is None or last is None else (last - first).total_seconds()
    return Timed(wall, simulated), stats


async def step_alone(config: V6Config, data_dir: Path) -> Timed:
    sim = open_simulation(SimulatedMarket(config.broker.sim), config.broker, data_dir=data_dir)
    await sim.broker.connect()
    first = sim.clock.now()
    started = time.perf_counter()
    while not sim.clock.finished:
        await sim.clock.sleep(STEP_MINUTES * 60.0)
    wall = time.perf_counter() - started
    simulated = (sim.clock.now() - first).total_seconds()
    await sim.broker.disconnect()
    return Timed(wall, simulated)


def ratio(timed: Timed) -> str:
    return f"{timed.simulated / timed.wall:,.0f}x" if timed.wall > 0 else "n/a"


def report(days: int, engine: Timed, stats: RunStats, peer: Timed) -> None:
    market_seconds = days * SESSION_HOURS * 3600.0
    print(f"window: {days} sessions, {STEP_MINUTES}-minute steps, SPY/QQQ/IWM, default templates")
    print(
        f"engine: {engine.wall:.1f} s wall, {stats.cycles} cycles, {stats.entries_sent} "
        f"entries sent, {stats.exits_sent} exits sent, {stats.reports} order reports"
    )
    print(f"  simulated / real (calendar time):  {ratio(engine)}")
    print(f"  simulated / real (market hours):   {market_seconds / engine.wall:,.0f}x")
    total = sum(stats.stage_seconds.values()) or 1.0
    print("  where the time went (wall seconds per stage):")
    for stage, seconds in sorted(stats.stage_seconds.items(), key=lambda kv: -kv[1]):
        print(f"    {stage:<10} {seconds:8.2f} s  {seconds / total:5.0%}")
    print(f"peer (market + exchange stepping alone): {peer.wall:.2f} s wall, {ratio(peer)}")
    print(f"  engine / peer wall time: {engine.wall / peer.wall:,.1f}x")
    year = engine.wall * YEAR_SESSIONS / days
    extrapolated = "" if days == YEAR_SESSIONS else " (extrapolated linearly from the window)"
    verdict = "meets" if year <= TARGET_YEAR_SECONDS else "misses"
    print(
        f"one year ({YEAR_SESSIONS} sessions): {year:.0f} s{extrapolated}; "
        f"{verdict} the {TARGET_YEAR_SECONDS:.0f} s target"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=YEAR_SESSIONS, help="Sessions to run.")
    parser.add_argument("--from", dest="start", type=date.fromisoformat, default=date(2019, 1, 2))
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    config = settings(args.start, args.days, args.seed)
    with tempfile.TemporaryDirectory() as engine_dir, tempfile.TemporaryDirectory() as peer_dir:
        engine, stats = run_engine(config, Path(engine_dir))
        peer = asyncio.run(step_alone(config, Path(peer_dir)))
    report(args.days, engine, stats, peer)


if __name__ == "__main__":
    main()
