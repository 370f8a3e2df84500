"""Heartbeats into the real health table, the healthy/degraded/down verdicts by status and by
age, and readiness (broker connected, sync fresh on the wall clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from v6.health import (
    ENGINE_COMPONENTS,
    Component,
    HealthMonitor,
    HealthState,
    HealthThresholds,
    assess,
    format_message,
)
from v6.store import HealthStatus, Heartbeat, Store, StoreLocation

NOW = datetime(2020, 3, 16, 15, 0, tzinfo=UTC)


class Wall:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds


def beat(component: str, seconds_ago: float, status: HealthStatus = HealthStatus.OK) -> Heartbeat:
    return Heartbeat(component, status, NOW - timedelta(seconds=seconds_ago))


def test_heartbeats_land_in_the_health_table_one_row_per_component(tmp_path: Path) -> None:
    location = StoreLocation(str(tmp_path / "data"))
    store = Store(location, app_id="engine")
    monitor = HealthMonitor(store)
    monitor.beat(Component.QUEUE, NOW, numbers={"depth": 12, "oldest_mark_s": 31.5})
    monitor.beat(Component.SYNC, NOW, note="streaming", numbers={"lines": (8, 100)})
    store.flush()
    later = NOW + timedelta(seconds=5)
    monitor.beat(Component.QUEUE, later, HealthStatus.DEGRADED, "backlog", {"depth": 250})
    store.flush()

    assert Store(location).health.latest() == [
        Heartbeat("queue", HealthStatus.DEGRADED, later, "backlog depth=250"),
        Heartbeat("sync", HealthStatus.OK, NOW, "streaming lines=8/100"),
    ]
    assert set(monitor.latest()) == {"queue", "sync"}


def test_a_heartbeat_number_needs_a_plain_name() -> None:
    assert format_message(None, {}) is None
    with pytest.raises(ValueError, match=r"heartbeat number 'depth ='"):
        format_message(None, {"depth =": 1})


@pytest.mark.parametrize(
    ("seconds_ago", "status", "state"),
    [
        (10, HealthStatus.OK, HealthState.HEALTHY),
        (60, HealthStatus.OK, HealthState.HEALTHY),
        (61, HealthStatus.OK, HealthState.DEGRADED),
        (301, HealthStatus.OK, HealthState.DOWN),
        (10, HealthStatus.DEGRADED, HealthState.DEGRADED),
        (10, HealthStatus.DOWN, HealthState.DOWN),
        (120, HealthStatus.DOWN, HealthState.DOWN),
        (-30, HealthStatus.OK, HealthState.HEALTHY),
    ],
)
def test_a_component_is_judged_by_its_status_and_the_age_of_its_heartbeat(
    seconds_ago: float, status: HealthStatus, state: HealthState
) -> None:
    report = assess([beat("broker", seconds_ago, status)], NOW, expected=["broker"])
    [component] = report.components
    assert component.state is state
    assert report.state is state


def test_a_missing_component_is_down_and_the_worst_component_decides() -> None:
    beats = [beat(name, 5) for name in ENGINE_COMPONENTS if name != "writer"]
    beats.append(beat("dashboard", 90))
    report = assess(beats, NOW)

    states = {c.component: (c.state, c.reason) for c in report.components}
    assert states["writer"] == (HealthState.DOWN, "no heartbeat")
    assert states["dashboard"][0] is HealthState.DEGRADED
    assert states["dashboard"][1] == "ok; heartbeat 90 s ago (> 60 s)"
    assert report.state is HealthState.DOWN
    assert assess([], NOW, expected=[]).state is HealthState.DOWN


def test_thresholds_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="expected 0 < degraded <= down"):
        HealthThresholds(degraded_after_seconds=600, down_after_seconds=60)


def test_ready_when_the_broker_is_connected_and_the_sync_is_fresh(tmp_path: Path) -> None:
    wall = Wall()
    monitor = HealthMonitor(Store(StoreLocation(str(tmp_path)), app_id="engine"), monotonic=wall)
    assert monitor.readiness(60).reasons == ("broker: no heartbeat yet", "sync: no heartbeat yet")

    monitor.beat(Component.BROKER, NOW, HealthStatus.DOWN, "disconnected (IB 1100)")
    monitor.beat(Component.SYNC, NOW)
    assert monitor.readiness(60).reasons == ("broker: down (disconnected (IB 1100))",)

    monitor.beat(Component.BROKER, NOW, note="connected")
    assert monitor.readiness(60).ready

    wall.seconds += 61
    assert monitor.readiness(60).reasons == ("sync: last heartbeat 61 s ago (> 60 s)",)
