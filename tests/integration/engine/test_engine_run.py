"""The engine end to end on the simulated exchange (10 real sessions of January 2020, 30-minute
steps), asserted from the Delta tables and the exchange's own positions."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from engine_runs import (
    Finished,
    assert_losses_within_max_loss,
    assert_no_naked_leg,
    config,
    frame,
    run,
)

import v6.engine as engine_module
from v6.domain import StrategyStatus
from v6.engine import build_engine
from v6.health.monitor import Component
from v6.run_cli import RunSummary
from v6.store import Command, CommandStatus, Heartbeat, Store


@pytest.fixture(scope="module")
def normal(tmp_path_factory: pytest.TempPathFactory) -> Finished:
    return run(config(date(2020, 1, 2), 10), tmp_path_factory.mktemp("normal"))


def test_the_engine_trades_and_everything_is_in_the_tables(normal: Finished) -> None:
    store = normal.store
    strategies = store.strategies.with_status(list(StrategyStatus))
    statuses = {s.status for s in strategies}
    assert {StrategyStatus.OPEN, StrategyStatus.CLOSED} <= statuses
    assert all(s.opened_at is not None for s in strategies if s.status is StrategyStatus.CLOSED)
    summary = RunSummary.of(store)
    assert summary.closed >= 1
    assert summary.executions > 0
    assert summary.realized_pnl != 0
    assert len(frame(store, "account_snapshots")) >= normal.engine.stats.cycles
    assert len(frame(store, "decisions")) > 0
    beats = {h.component: h for h in store.health.latest()}
    assert set(beats) == {"broker", "sync", "queue", "decisions", "execution", "writer"}
    assert re.search(r"lines=\d+/10\b", beats["sync"].message)
    assert re.search(r"depth=\d+", beats["queue"].message)
    readiness = normal.engine.parts.health.readiness(max_sync_age_seconds=3600)
    assert readiness.ready, readiness


def test_no_strategy_loses_more_than_its_max_loss_plus_commissions(normal: Finished) -> None:
    assert_losses_within_max_loss(normal.store)


def test_no_naked_leg_the_broker_and_the_store_agree(normal: Finished) -> None:
    """Every option the exchange holds belongs to a live strategy, unit for unit."""
    assert_no_naked_leg(normal)


def test_portfolio_limits_hold(normal: Finished) -> None:
    limits = normal.engine.parts.config.risk.portfolio
    assert len(normal.store.strategies.live()) <= limits.max_open_strategies
    breaches = [e for e in normal.store.risk_events.since() if e.kind.value == "limit_breached"]
    assert breaches == []


def test_commands_are_executed_and_marked_done(tmp_path: Path) -> None:
    settings = config(date(2020, 1, 2), 2)
    dashboard = Store.from_config(
        settings.storage.model_copy(update={"location": str(tmp_path)}), app_id="dashboard"
    )
    at = datetime(2020, 1, 2, 12, tzinfo=UTC)
    commands = [
        Command("c1", "halt", "dashboard", at, {"reason": "test"}),
        Command("c2", "force_sync", "dashboard", at),
        Command("c3", "launch_rockets", "dashboard", at),
    ]
    dashboard.commands.submit(commands)
    dashboard.flush()

    finished = run(settings, tmp_path)

    done = {c: finished.store.commands.get(c) for c in ("c1", "c2", "c3")}
    statuses = {c: None if command is None else command.status for c, command in done.items()}
    assert statuses == {
        "c1": CommandStatus.DONE,
        "c2": CommandStatus.DONE,
        "c3": CommandStatus.REJECTED,
    }
    assert finished.engine.stats.entries_sent == 0
    assert finished.engine.parts.gate.breaker_state.halted


def test_heartbeats_go_on_while_the_engine_waits_in_real_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a clock that waits in real time (a 30-minute cycle in about a real second here), the
    components beat between cycles too, so /readyz sees the engine alive through a wait."""
    monkeypatch.setattr(engine_module, "WAIT_BEAT_SECONDS", 0.05)
    settings = config(date(2020, 1, 2), 1)
    paced = settings.engine.model_copy(update={"time_acceleration": 1800.0})
    engine = build_engine(settings.model_copy(update={"engine": paced}), data_dir=tmp_path)
    beats: list[str] = []
    record = engine.parts.health.record

    def counted(heartbeats: Sequence[Heartbeat]) -> Sequence[Heartbeat]:
        beats.extend(heartbeat.component for heartbeat in heartbeats)
        return record(heartbeats)

    monkeypatch.setattr(engine.parts.health, "record", counted)
    first_open = datetime(2020, 1, 2, 14, 30, tzinfo=UTC)
    asyncio.run(engine.run(until=first_open + 3 * engine.cycle_interval))

    cycles = engine.stats.cycles
    assert cycles >= 2
    assert beats.count(str(Component.SYNC)) >= cycles + 3
