"""Dashboard configuration: where the Streamlit app listens and who may see it."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import Field, SecretStr

from v6.config._base import ConfigPart, FromEnvironmentOnly

LOOPBACK_NAMES = frozenset({"localhost", "ip6-localhost"})


def is_loopback(host: str) -> bool:
    """True when `host` names this machine only (so nobody else can reach a server on it)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class DashboardConfig(ConfigPart):
    """The read-only dashboard.

    Listening beyond loopback needs a password: `v6 dashboard` refuses to start when
    `requires_password()` is true and no password is set. The engine does not need the
    password, so loading the configuration does not insist on it.
    """

    host: str = Field(
        default="127.0.0.1",
        min_length=1,
        description="Address to listen on; anything but loopback requires a password.",
    )
    port: int = Field(default=8501, ge=1, le=65535, description="TCP port to listen on.")
    refresh_seconds: Literal[0, 5, 30, 60] = Field(
        default=5, description="Auto-refresh period of the pages: 5, 30 or 60 s; 0 = off."
    )
    password: Annotated[SecretStr | None, FromEnvironmentOnly(alias="V6_DASHBOARD_PASSWORD")] = (
        Field(default=None, description="Login password (environment only).")
    )

    def requires_password(self) -> bool:
        """True when the dashboard listens beyond loopback, so it must not start without one."""
        return not is_loopback(self.host)
