"""Heartbeats and health checks.

The engine calls `HealthMonitor.beat` once per cycle for each of its components (`Component`):
the heartbeat goes to the store's health table (one row per component, the latest), to the
metrics, and to the monitor's memory, from which the HTTP server answers /readyz.

A heartbeat's message carries a free-text note and numbers as ``name=value`` or
``name=used/limit`` (``"depth=12 oldest_mark_s=31.5"``, ``"lines=8/100"``); the dashboard's
Health page reads ``depth``, ``oldest_mark_s`` and ``lines`` from whichever component sends
them.

`assess` turns heartbeats into a verdict per component - healthy, degraded or down - from the
status the component reported and the age of its heartbeat: older than
``degraded_after_seconds`` is degraded, older than ``down_after_seconds`` is down, and an
expected component without a heartbeat is down. The worse of the two wins.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from v6.health.metrics import EngineMetrics
from v6.store import HealthStatus, Heartbeat, Store


class Component(StrEnum):
    """The engine's components that send heartbeats (the health table's ``component``)."""

    BROKER = "broker"
    SYNC = "sync"
    QUEUE = "queue"
    DECISIONS = "decisions"
    EXECUTION = "execution"
    WRITER = "writer"


ENGINE_COMPONENTS: Final = tuple(component.value for component in Component)
Number = float | tuple[float, float]
"""A heartbeat number: a value, or (used, limit)."""


class HealthState(StrEnum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    DOWN = "down"

    @property
    def rank(self) -> int:
        return _RANKS[self]


_RANKS: Final = {HealthState.HEALTHY: 0, HealthState.DEGRADED: 1, HealthState.DOWN: 2}
_FROM_STATUS: Final = {
    HealthStatus.OK: HealthState.HEALTHY,
    HealthStatus.DEGRADED: HealthState.DEGRADED,
    HealthStatus.DOWN: HealthState.DOWN,
}


@dataclass(frozen=True, slots=True)
class HealthThresholds:
    """Heartbeat ages (seconds) past which a component is degraded, then down."""

    degraded_after_seconds: float = 60.0
    down_after_seconds: float = 300.0

    def __post_init__(self) -> None:
        if not 0 < self.degraded_after_seconds <= self.down_after_seconds:
            raise ValueError(
                f"health thresholds degraded_after_seconds={self.degraded_after_seconds}, "
                f"down_after_seconds={self.down_after_seconds}: expected 0 < degraded <= down"
            )


@dataclass(frozen=True, slots=True)
class ComponentHealth:
    component: str
    state: HealthState
    reason: str
    heartbeat: Heartbeat | None = None
    age_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class HealthReport:
    components: tuple[ComponentHealth, ...]

    @property
    def state(self) -> HealthState:
        """The worst component's state (down when there is no component at all)."""
        if not self.components:
            return HealthState.DOWN
        return max((c.state for c in self.components), key=lambda state: state.rank)


def format_message(note: str | None, numbers: Mapping[str, Number]) -> str | None:
    """``note`` followed by ``name=value`` / ``name=used/limit`` terms; None when empty."""
    terms = [_term(name, value) for name, value in numbers.items()]
    text = " ".join([note, *terms] if note else terms)
    return text or None


def _term(name: str, value: Number) -> str:
    if not name.isidentifier():
        raise ValueError(f"heartbeat number {name!r}: expected a name of letters, digits and _")
    if isinstance(value, tuple):
        used, limit = value
        return f"{name}={used:g}/{limit:g}"
    return f"{name}={value:g}"


def check_component(
    component: str, heartbeat: Heartbeat | None, now: datetime, thresholds: HealthThresholds
) -> ComponentHealth:
    """One component's verdict at ``now`` (see the module docstring)."""
    if heartbeat is None:
        return ComponentHealth(component, HealthState.DOWN, "no heartbeat")
    age = max(0.0, (now - heartbeat.at).total_seconds())
    by_age, why_age = HealthState.HEALTHY, f"heartbeat {age:.0f} s ago"
    if age > thresholds.down_after_seconds:
        by_age = HealthState.DOWN
        why_age += f" (> {thresholds.down_after_seconds:g} s)"
    elif age > thresholds.degraded_after_seconds:
        by_age = HealthState.DEGRADED
        why_age += f" (> {thresholds.degraded_after_seconds:g} s)"
    by_status = _FROM_STATUS[heartbeat.status]
    state = max(by_age, by_status, key=lambda s: s.rank)
    reason = f"{heartbeat.status.value}; {why_age}"
    if heartbeat.message:
        reason += f"; {heartbeat.message}"
    return ComponentHealth(component, state, reason, heartbeat, age)


def assess(
    heartbeats: Iterable[Heartbeat],
    now: datetime,
    thresholds: HealthThresholds | None = None,
    expected: Sequence[str] = ENGINE_COMPONENTS,
) -> HealthReport:
    """The verdict for every expected component and every other one that sent a heartbeat,
    by component name."""
    limits = thresholds or HealthThresholds()
    latest = {beat.component: beat for beat in heartbeats}
    names = sorted({*expected, *latest})
    return HealthReport(
        tuple(check_component(name, latest.get(name), now, limits) for name in names)
    )


@dataclass(frozen=True, slots=True)
class Readiness:
    ready: bool
    reasons: tuple[str, ...]


def heartbeat(
    component: Component | str,
    at: datetime,
    status: HealthStatus = HealthStatus.OK,
    note: str | None = None,
    numbers: Mapping[str, Number] | None = None,
) -> Heartbeat:
    """A heartbeat of ``component`` at ``at`` (engine clock), its note and numbers formatted
    into the message."""
    return Heartbeat(str(component), status, at, format_message(note, numbers or {}))


class HealthMonitor:
    """Receives the engine's heartbeats (see the module docstring). ``monotonic`` is the wall
    clock /readyz measures the freshness of the sync heartbeat with (the engine clock may be
    simulated)."""

    def __init__(
        self,
        store: Store,
        metrics: EngineMetrics | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self.metrics = metrics or EngineMetrics()
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._latest: dict[str, tuple[Heartbeat, float]] = {}

    def beat(
        self,
        component: Component | str,
        at: datetime,
        status: HealthStatus = HealthStatus.OK,
        note: str | None = None,
        numbers: Mapping[str, Number] | None = None,
    ) -> Heartbeat:
        """Record ``component``'s heartbeat at ``at`` (engine clock): buffered for the health
        table (the engine's flush commits it), set in the metrics, kept for /readyz."""
        (recorded,) = self.record([heartbeat(component, at, status, note, numbers)])
        return recorded

    def record(self, heartbeats: Sequence[Heartbeat]) -> Sequence[Heartbeat]:
        """Record several components' heartbeats as `beat` does, in one write."""
        self._store.health.beat(heartbeats)
        for beat in heartbeats:
            self.metrics.record_heartbeat(beat.component, beat.status, beat.at)
        received = self._monotonic()
        with self._lock:
            self._latest.update((beat.component, (beat, received)) for beat in heartbeats)
        return heartbeats

    def latest(self) -> dict[str, Heartbeat]:
        """The latest heartbeat received of each component."""
        with self._lock:
            return {name: beat for name, (beat, _) in self._latest.items()}

    def readiness(self, max_sync_age_seconds: float) -> Readiness:
        """Ready when the broker reports connected (status ok) and the sync reported ok less
        than ``max_sync_age_seconds`` ago (wall clock)."""
        with self._lock:
            latest = dict(self._latest)
        reasons = [
            *_not_ok(Component.BROKER, latest.get(Component.BROKER)),
            *_not_ok(Component.SYNC, latest.get(Component.SYNC)),
        ]
        sync = latest.get(Component.SYNC)
        if sync is not None:
            age = self._monotonic() - sync[1]
            if age > max_sync_age_seconds:
                reasons.append(
                    f"sync: last heartbeat {age:.0f} s ago (> {max_sync_age_seconds:g} s)"
                )
        return Readiness(not reasons, tuple(reasons))


def _not_ok(component: Component, latest: tuple[Heartbeat, float] | None) -> list[str]:
    if latest is None:
        return [f"{component.value}: no heartbeat yet"]
    beat = latest[0]
    if beat.status is HealthStatus.OK:
        return []
    detail = f" ({beat.message})" if beat.message else ""
    return [f"{component.value}: {beat.status.value}{detail}"]
