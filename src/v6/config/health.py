"""Health endpoint configuration."""

from __future__ import annotations

from pydantic import Field

from v6.config._base import ConfigPart


class HealthConfig(ConfigPart):
    """The HTTP server that answers /healthz, /readyz and /metrics."""

    host: str = Field(default="127.0.0.1", min_length=1, description="Address to listen on.")
    port: int = Field(default=8080, ge=1, le=65535, description="TCP port to listen on.")
