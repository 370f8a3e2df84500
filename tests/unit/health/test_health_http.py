"""The health endpoint on 127.0.0.1: /healthz, /readyz following the heartbeats, and /metrics
parsed back with prometheus_client's own parser."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from v6.health import Component, HealthMonitor, HealthServer
from v6.store import HealthStatus, Store, StoreLocation

NOW = datetime(2020, 3, 16, 15, 0, tzinfo=UTC)
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture
def monitor(tmp_path: Path) -> HealthMonitor:
    return HealthMonitor(Store(StoreLocation(str(tmp_path / "data")), app_id="engine"))


@pytest.fixture
def base(monitor: HealthMonitor) -> Iterator[str]:
    with HealthServer(monitor, "127.0.0.1", 0, max_sync_age_seconds=60) as server:
        yield f"http://127.0.0.1:{server.port}"


def get(url: str) -> tuple[int, str, str]:
    try:
        with DIRECT.open(url, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_healthz_answers_while_the_process_lives(base: str) -> None:
    assert get(f"{base}/healthz")[::2] == (200, "ok\n")
    assert get(f"{base}/nowhere")[0] == 404


def test_readyz_follows_the_broker_and_the_sync(base: str, monitor: HealthMonitor) -> None:
    status, _, text = get(f"{base}/readyz")
    assert status == 503
    assert text == "not ready\nbroker: no heartbeat yet\nsync: no heartbeat yet\n"

    monitor.beat(Component.BROKER, NOW, note="connected")
    monitor.beat(Component.SYNC, NOW)
    assert get(f"{base}/readyz")[::2] == (200, "ready\n")

    monitor.beat(Component.BROKER, NOW, HealthStatus.DOWN, "connection lost")
    assert get(f"{base}/readyz")[::2] == (503, "not ready\nbroker: down (connection lost)\n")


def test_metrics_expose_the_engine_numbers(base: str, monitor: HealthMonitor) -> None:
    metrics = monitor.metrics
    metrics.observe_cycle(0.2)
    metrics.observe_cycle(0.04)
    metrics.set_sync(7, 9, line_budget=100, oldest_mark_age_seconds=31.5)
    metrics.count_orders(sent=3, filled=2)
    metrics.count_orders(sent=1, rejected=1)
    metrics.set_breaker("open")
    metrics.set_trading("reducing")
    monitor.beat(Component.QUEUE, NOW, HealthStatus.DEGRADED)

    status, content_type, text = get(f"{base}/metrics")
    found = samples(text)

    assert status == 200
    assert content_type.startswith("text/plain; version=")
    assert found[("v6_cycle_duration_seconds_count", ())] == 2
    assert found[("v6_cycle_duration_seconds_sum", ())] == pytest.approx(0.24)
    assert found[("v6_cycle_duration_seconds_bucket", (("le", "0.05"),))] == 1
    assert found[("v6_sync_queue_depth", ())] == 7
    assert found[("v6_streaming_lines", ())] == 9
    assert found[("v6_streaming_lines_budget", ())] == 100
    assert found[("v6_mark_age_seconds", ())] == 31.5
    orders = {event: found[("v6_orders_total", (("event", event),))] for event in
              ("sent", "filled", "rejected")}  # fmt: skip
    assert orders == {"sent": 4, "filled": 2, "rejected": 1}
    breaker = {labels[0][1]: value for (name, labels), value in found.items()
               if name == "v6_circuit_breaker_state"}  # fmt: skip
    assert breaker == {"closed": 0, "open": 1, "half_open": 0}
    assert found[("v6_trading_state", (("v6_trading_state", "reducing"),))] == 1
    assert found[("v6_component_status", (("component", "queue"),))] == 1
    assert found[("v6_heartbeat_timestamp_seconds", (("component", "queue"),))] == NOW.timestamp()


def test_bad_metric_input_is_refused(monitor: HealthMonitor) -> None:
    expected = r"set_breaker\('tripped'\): expected one of \['closed', 'open', 'half_open'\]"
    with pytest.raises(ValueError, match=expected):
        monitor.metrics.set_breaker("tripped")
    with pytest.raises(ValueError, match=r"count_orders\(sent=-1\): expected a count >= 0"):
        monitor.metrics.count_orders(sent=-1)


def test_the_server_stops_and_frees_its_port(monitor: HealthMonitor) -> None:
    server = HealthServer(monitor, "127.0.0.1", 0)
    server.start()
    port = server.port
    server.stop()
    with pytest.raises(urllib.error.URLError):
        DIRECT.open(f"http://127.0.0.1:{port}/healthz", timeout=2)
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.port
