"""Alerts configuration: which alerts are sent where, and how often at most."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator

from v6.config._base import ConfigPart, FromEnvironmentOnly
from v6.domain.alerts import Severity

SeverityName = Literal["info", "warning", "critical"]


class AlertsConfig(ConfigPart):
    """Notifications through apprise; every alert is stored whatever these say."""

    min_severity: SeverityName = Field(
        default="warning", description="Least severe alert that is sent as a notification."
    )
    dedup_window_seconds: float = Field(
        default=300.0,
        ge=0,
        le=86_400,
        description="Repeats (same dedup key) within this window after the last stored alert "
        "are counted, not stored or sent; the next stored alert says how many.",
    )
    urls: Annotated[tuple[SecretStr, ...], FromEnvironmentOnly()] = Field(
        default=(),
        description="Apprise notification URLs (they embed tokens: environment only, "
        "comma-separated).",
    )

    @field_validator("urls")
    @classmethod
    def _apprise_urls(cls, urls: tuple[SecretStr, ...]) -> tuple[SecretStr, ...]:
        for url in urls:
            if "://" not in url.get_secret_value():
                raise ValueError("apprise URLs of the form scheme://... (e.g. tgram://token/chat)")
        return urls

    def notified_severity(self) -> Severity:
        """The least severe alert level that is sent as a notification."""
        return Severity[self.min_severity.upper()]
