"""The health endpoint: a small HTTP server in a daemon thread, so the engine's event loop is
never blocked by a probe (and a stuck loop does not silence /healthz).

* ``GET /healthz`` - 200 ``ok`` while the process is alive;
* ``GET /readyz`` - 200 ``ready`` when the broker is connected and the sync reported fresh
  marks recently (`HealthMonitor.readiness`), else 503 with the reasons, one per line;
* ``GET /metrics`` - the engine's metrics in Prometheus' text format (`EngineMetrics`).

Binds to ``health.host``/``health.port`` (127.0.0.1:8080 by default); port 0 picks a free
port (see `HealthServer.port`). `start` and `stop` return at once / within a tenth of a
second, so they can be called from async code.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Final, Self

from prometheus_client import CONTENT_TYPE_LATEST

from v6.config.health import HealthConfig
from v6.health.monitor import HealthMonitor

DEFAULT_MAX_SYNC_AGE_SECONDS: Final = 60.0
POLL_SECONDS: Final = 0.1
TEXT: Final = "text/plain; charset=utf-8"


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], monitor: HealthMonitor, max_sync_age: float
    ) -> None:
        super().__init__(address, _Handler)
        self.monitor = monitor
        self.max_sync_age = max_sync_age


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/healthz":
            self._send(200, TEXT, b"ok\n")
        elif path == "/readyz":
            readiness = self.server.monitor.readiness(self.server.max_sync_age)
            if readiness.ready:
                self._send(200, TEXT, b"ready\n")
            else:
                text = "not ready\n" + "".join(f"{reason}\n" for reason in readiness.reasons)
                self._send(503, TEXT, text.encode())
        elif path == "/metrics":
            self._send(200, CONTENT_TYPE_LATEST, self.server.monitor.metrics.render())
        else:
            self._send(404, TEXT, b"not found: try /healthz, /readyz or /metrics\n")

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Probes every few seconds would flood stderr; requests are not logged."""


class HealthServer:
    """Serves a monitor's health and metrics over HTTP (see the module docstring)."""

    def __init__(
        self,
        monitor: HealthMonitor,
        host: str = "127.0.0.1",
        port: int = 8080,
        max_sync_age_seconds: float = DEFAULT_MAX_SYNC_AGE_SECONDS,
    ) -> None:
        self._monitor = monitor
        self._address = (host, port)
        self._max_sync_age = max_sync_age_seconds
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @classmethod
    def from_config(cls, config: HealthConfig, monitor: HealthMonitor) -> HealthServer:
        return cls(monitor, config.host, config.port)

    @property
    def port(self) -> int:
        """The port listened on (the one picked when configured as 0)."""
        if self._server is None:
            raise RuntimeError("HealthServer.port: the server is not started")
        return int(self._server.server_address[1])

    def start(self) -> None:
        """Bind and serve in a daemon thread; raises OSError when the address is taken."""
        if self._server is not None:
            return
        self._server = _Server(self._address, self._monitor, self._max_sync_age)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            args=(POLL_SECONDS,),
            name="v6-health-http",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self._server, self._thread = None, None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()
