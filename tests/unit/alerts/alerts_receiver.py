"""A tiny HTTP server on 127.0.0.1 that records what apprise's ``json://`` notifications
deliver (the alert tests' and the health tests' loopback peer)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    authorization: str | None
    payload: dict[str, object]


@dataclass
class Receiver:
    """Answers every POST with ``status`` and keeps what it received."""

    port: int = 0
    status: int = 200
    received: list[Received] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    receiver: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.receiver.received.append(
            Received(self.path, self.headers.get("Authorization"), json.loads(body))
        )
        self.send_response(self.receiver.status)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


@contextmanager
def serving() -> Iterator[Receiver]:
    found = Receiver()
    handler = type("Handler", (_Handler,), {"receiver": found})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    found.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield found
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
