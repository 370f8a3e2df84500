"""Alerts for people: `AlertManager` raises them (stored, de-duplicated, acknowledged) and
sends them through notifiers (the log, apprise); `v6.alerts.catalog` says which fills,
rejects, rule triggers and reconciliation conflicts are worth one. Risk breaches and breaker
transitions come from `v6.risk.risk_alert` and are raised through the same manager by
`v6.risk.persistence.CycleRecorder`."""

from v6.alerts.catalog import (
    OrderUpdate,
    decision_alert,
    new_alert,
    order_alert,
    reconciliation_alert,
)
from v6.alerts.manager import MAX_ATTEMPTS, AlertManager, Delivery, NotifyReport
from v6.alerts.notifiers import (
    AppriseNotifier,
    LogNotifier,
    NotificationError,
    Notifier,
    SecretRedactor,
    notifiers_from_config,
)

__all__ = [
    "MAX_ATTEMPTS",
    "AlertManager",
    "AppriseNotifier",
    "Delivery",
    "LogNotifier",
    "NotificationError",
    "Notifier",
    "NotifyReport",
    "OrderUpdate",
    "SecretRedactor",
    "decision_alert",
    "new_alert",
    "notifiers_from_config",
    "order_alert",
    "reconciliation_alert",
]
