"""Health: the engine's heartbeats (`HealthMonitor`, one per component per cycle, kept in the
health table), checks that call a component healthy, degraded or down (`assess`), metrics
(`EngineMetrics`), the HTTP endpoint /healthz /readyz /metrics (`HealthServer`), and the
``v6 health`` command (`v6.health.cli`)."""

from v6.health.http import HealthServer
from v6.health.metrics import EngineMetrics
from v6.health.monitor import (
    ENGINE_COMPONENTS,
    Component,
    ComponentHealth,
    HealthMonitor,
    HealthReport,
    HealthState,
    HealthThresholds,
    Readiness,
    assess,
    check_component,
    format_message,
)

__all__ = [
    "ENGINE_COMPONENTS",
    "Component",
    "ComponentHealth",
    "EngineMetrics",
    "HealthMonitor",
    "HealthReport",
    "HealthServer",
    "HealthState",
    "HealthThresholds",
    "Readiness",
    "assess",
    "check_component",
    "format_message",
]
