"""Alerts raised for people: severity, message, de-duplication and acknowledgement."""

from dataclasses import dataclass, replace
from datetime import datetime
from enum import IntEnum

from v6.domain._checks import (
    require_identifier,
    require_member,
    require_optional_utc,
    require_text,
    require_utc,
)
from v6.domain.errors import InvalidAlertError


class Severity(IntEnum):
    """Ordered: ``INFO < WARNING < CRITICAL``, so thresholds compare directly."""

    INFO = 1
    WARNING = 2
    CRITICAL = 3


@dataclass(frozen=True, slots=True)
class Alert:
    """``dedup_key`` groups repeats of the same condition (e.g. ``"breaker:tripped"``), so the
    alert manager can raise a condition once while it persists. Times are UTC."""

    alert_id: str
    severity: Severity
    source: str
    message: str
    dedup_key: str
    created_at: datetime
    acknowledged_at: datetime | None = None

    def __post_init__(self) -> None:
        require_identifier(self.alert_id, "Alert.alert_id", InvalidAlertError)
        require_member(self.severity, Severity, "Alert.severity", InvalidAlertError)
        require_text(self.source, "Alert.source", InvalidAlertError)
        require_text(self.message, "Alert.message", InvalidAlertError)
        require_text(self.dedup_key, "Alert.dedup_key", InvalidAlertError)
        created = require_utc(self.created_at, "Alert.created_at", InvalidAlertError)
        acked = require_optional_utc(
            self.acknowledged_at, "Alert.acknowledged_at", InvalidAlertError
        )
        if acked is not None and acked < created:
            raise InvalidAlertError(
                f"Alert.acknowledged_at = {acked.isoformat()}: expected on or after "
                f"created_at {created.isoformat()}"
            )
        object.__setattr__(self, "created_at", created)
        object.__setattr__(self, "acknowledged_at", acked)

    @property
    def is_acknowledged(self) -> bool:
        return self.acknowledged_at is not None

    def acknowledge(self, at: datetime) -> "Alert":
        """This alert acknowledged at ``at``; an alert already acknowledged keeps its first
        acknowledgement, so two people acknowledging at once is not an error."""
        if self.acknowledged_at is not None:
            return self
        return replace(self, acknowledged_at=at)
