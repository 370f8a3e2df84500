"""`EngineMetrics`: what /metrics exposes, in Prometheus' text format.

Each `EngineMetrics` has its own registry (not prometheus_client's global one), so several
engines - or tests - in one process never share counters. Names:

* ``v6_cycle_duration_seconds`` (histogram) - one engine cycle, wall time;
* ``v6_sync_queue_depth``, ``v6_streaming_lines``, ``v6_streaming_lines_budget``,
  ``v6_mark_age_seconds`` (oldest leg mark) - the sync layer;
* ``v6_orders_total{event="sent|filled|rejected"}`` - orders sent to the broker and their ends;
* ``v6_circuit_breaker_state{v6_circuit_breaker_state="closed|open|half_open"}`` and
  ``v6_trading_state{...="active|reducing|halted"}`` - enum gauges (1 for the current state);
* ``v6_component_status{component}`` (0 ok, 1 degraded, 2 down) and
  ``v6_heartbeat_timestamp_seconds{component}`` (engine clock, Unix seconds) - heartbeats.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Enum, Gauge, Histogram, generate_latest

from v6.risk import BreakerStatus, TradingState
from v6.store import HealthStatus

CYCLE_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
ORDER_EVENTS: Final = ("sent", "filled", "rejected")
STATUS_VALUES: Final = {HealthStatus.OK: 0.0, HealthStatus.DEGRADED: 1.0, HealthStatus.DOWN: 2.0}


class EngineMetrics:
    """The engine's gauges and counters (see the module docstring). Thread-safe: the engine
    sets them, the HTTP server's thread renders them."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self._cycle = Histogram(
            "v6_cycle_duration_seconds",
            "Duration of one engine cycle (wall time).",
            buckets=CYCLE_BUCKETS,
            registry=registry,
        )
        self._queue = Gauge("v6_sync_queue_depth", "Snapshot requests queued.", registry=registry)
        self._lines = Gauge(
            "v6_streaming_lines", "Streaming quote lines in use.", registry=registry
        )
        self._budget = Gauge(
            "v6_streaming_lines_budget", "Streaming quote lines allowed.", registry=registry
        )
        self._mark_age = Gauge(
            "v6_mark_age_seconds", "Age of the oldest leg mark (engine clock).", registry=registry
        )
        self._orders = Counter(
            "v6_orders",
            "Orders sent to the broker, filled, rejected.",
            ["event"],
            registry=registry,
        )
        self._breaker = Enum(
            "v6_circuit_breaker_state",
            "Circuit breaker state.",
            states=[status.value for status in BreakerStatus],
            registry=registry,
        )
        self._trading = Enum(
            "v6_trading_state",
            "What the risk gate lets through.",
            states=[state.value for state in TradingState],
            registry=registry,
        )
        self._status = Gauge(
            "v6_component_status",
            "Latest heartbeat status: 0 ok, 1 degraded, 2 down.",
            ["component"],
            registry=registry,
        )
        self._beat_time = Gauge(
            "v6_heartbeat_timestamp_seconds",
            "Time of the latest heartbeat (engine clock, Unix seconds).",
            ["component"],
            registry=registry,
        )
        for event in ORDER_EVENTS:
            self._orders.labels(event=event)
        self._by_component: dict[str, tuple[Gauge, Gauge]] = {}

    def observe_cycle(self, seconds: float) -> None:
        self._cycle.observe(seconds)

    def set_sync(
        self,
        queue_depth: int,
        streaming_lines: int,
        line_budget: int | None = None,
        oldest_mark_age_seconds: float | None = None,
    ) -> None:
        """The sync layer's numbers; an unknown mark age (no marks yet) is NaN."""
        self._queue.set(queue_depth)
        self._lines.set(streaming_lines)
        if line_budget is not None:
            self._budget.set(line_budget)
        age = float("nan") if oldest_mark_age_seconds is None else oldest_mark_age_seconds
        self._mark_age.set(age)

    def count_orders(self, sent: int = 0, filled: int = 0, rejected: int = 0) -> None:
        for event, count in zip(ORDER_EVENTS, (sent, filled, rejected), strict=True):
            if count < 0:
                raise ValueError(f"count_orders({event}={count}): expected a count >= 0")
            if count:
                self._orders.labels(event=event).inc(count)

    def set_breaker(self, status: BreakerStatus | str) -> None:
        self._breaker.state(_member(BreakerStatus, status, "set_breaker"))

    def set_trading(self, state: TradingState | str) -> None:
        self._trading.state(_member(TradingState, state, "set_trading"))

    def record_heartbeat(self, component: str, status: HealthStatus, at: datetime) -> None:
        status_gauge, time_gauge = self._component_gauges(component)
        status_gauge.set(STATUS_VALUES[status])
        time_gauge.set(at.timestamp())

    def _component_gauges(self, component: str) -> tuple[Gauge, Gauge]:
        """A component's status and heartbeat-time gauges, looked up by label once (the
        engine beats six components every cycle)."""
        found = self._by_component.get(component)
        if found is None:
            found = self._by_component[component] = (
                self._status.labels(component=component),
                self._beat_time.labels(component=component),
            )
        return found

    def render(self) -> bytes:
        """The exposition text of every metric."""
        return generate_latest(self.registry)


def _member(enum: type[BreakerStatus] | type[TradingState], value: str, where: str) -> str:
    values = [member.value for member in enum]
    if value not in values:
        raise ValueError(f"{where}({value!r}): expected one of {values}")
    return str(value)
