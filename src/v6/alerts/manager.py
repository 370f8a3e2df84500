"""`AlertManager`: the one place V6 raises alerts - stored in the alerts table, de-duplicated,
acknowledged, and sent to people through notifiers.

**De-duplication.** Alerts with the same ``dedup_key`` describe one condition. The first one
is stored (and notified); a repeat created less than ``alerts.dedup_window_seconds`` after the
last stored alert of that key is *suppressed*: not stored, not notified, only counted. The
first alert of the key stored after the window carries the count in its message
(``"... (repeated 41 times since 2020-03-16 14:30:00 UTC)"``), so a condition that persists
shows up once per window, with how often it occurred. Acknowledging does not reset the window:
a condition that keeps recurring is reported again only when the window has passed, so a
person who acknowledges it is not paged again on the next cycle. A window of 0 turns
de-duplication off.

**Replays.** An alert whose ``alert_id`` is already stored (the same cycle lived again after a
crash) is neither stored again nor notified, and never reverts an acknowledgement. After a
restart the window continues from the alerts in the table.

**Notifications.** Stored alerts at or above ``alerts.min_severity`` are queued for every
notifier; `notify_pending` sends them concurrently. A delivery that fails is logged and tried
again on the next call, up to `MAX_ATTEMPTS` times, then dropped with an error in the log; no
exception from a notifier ever reaches the caller. Call it after the store's flush, so people
hear only of alerts that are committed; the queue is memory only (an alert committed but not
yet notified when the process dies is not notified after the restart).

The manager never reads a clock: the caller passes the time of each alert and acknowledgement.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final

from v6.alerts.catalog import new_alert
from v6.alerts.notifiers import Notifier
from v6.config.alerts import AlertsConfig
from v6.domain import Alert, Severity
from v6.store import Store, table_spec
from v6.store.records import utc

log = logging.getLogger(__name__)

MAX_ATTEMPTS: Final = 3
"""Deliveries of one alert to one notifier before it is dropped."""
_ALERTS = table_spec("alerts")


@dataclass(frozen=True, slots=True)
class _Anchor:
    """The last stored alert of a dedup key: where its window starts."""

    alert_id: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Delivery:
    """One alert still to be sent by one notifier, and the attempts made so far."""

    alert: Alert
    notifier: Notifier
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class NotifyReport:
    """What one `AlertManager.notify_pending` call did."""

    sent: int = 0
    retrying: int = 0
    dropped: int = 0


class AlertManager:
    """Raises, de-duplicates, acknowledges and notifies alerts (see the module docstring)."""

    def __init__(
        self, store: Store, config: AlertsConfig, notifiers: Sequence[Notifier] = ()
    ) -> None:
        self._store = store
        self._window = timedelta(seconds=config.dedup_window_seconds)
        self._notified = config.notified_severity()
        self._notifiers = tuple(notifiers)
        self._anchors: dict[str, _Anchor] = {}
        self._repeats: Counter[str] = Counter()
        self._seeded = False
        self._pending: list[Delivery] = []

    @property
    def pending_notifications(self) -> int:
        return len(self._pending)

    def raise_alert(
        self, severity: Severity, source: str, message: str, dedup_key: str, at: datetime
    ) -> Alert | None:
        """Raise an alert at ``at``: the alert stored, or None when it was suppressed as a
        repeat or is a replay. (``raise`` is a Python keyword, hence the name.)"""
        return self._admit(new_alert(severity, source, message, dedup_key, at))

    def raise_alerts(self, alerts: Iterable[Alert | None]) -> tuple[Alert, ...]:
        """Raise alerts built elsewhere (`v6.risk.risk_alert`, `v6.alerts.catalog`); Nones
        are skipped. Returns those stored, in order."""
        admitted = (self._admit(alert) for alert in alerts if alert is not None)
        return tuple(alert for alert in admitted if alert is not None)

    def repeats(self, dedup_key: str) -> int:
        """Repeats of ``dedup_key`` suppressed since its last stored alert."""
        return self._repeats[dedup_key]

    def acknowledge(self, alert_id: str, at: datetime) -> Alert | None:
        """Acknowledge one alert at ``at`` (or its creation time, if later) and save it.
        Returns it, or None when there is no such alert or it was acknowledged already (an
        acknowledgement is never moved)."""
        found = self._store.alerts.get(alert_id)
        if found is None or found.is_acknowledged:
            return None
        return self._save_acknowledged([found], at)[0]

    def acknowledge_all(self, at: datetime) -> list[Alert]:
        """Acknowledge every alert nobody acknowledged yet; returns them."""
        return self._save_acknowledged(self._store.alerts.unacknowledged(), at)

    async def notify_pending(self) -> NotifyReport:
        """Send every queued notification (concurrently); never raises for a notifier."""
        taken, self._pending = self._pending, []
        if not taken:
            return NotifyReport()
        delivered = await asyncio.gather(*(self._deliver(d) for d in taken))
        failed = (d for d, ok in zip(taken, delivered, strict=True) if not ok)
        retry = [replace(d, attempts=d.attempts + 1) for d in failed]
        kept = [d for d in retry if d.attempts < MAX_ATTEMPTS]
        for dropped in (d for d in retry if d.attempts >= MAX_ATTEMPTS):
            log.error(
                "alert %s: %s gave up after %d attempts",
                dropped.alert.alert_id,
                dropped.notifier.name,
                dropped.attempts,
            )
        self._pending = kept + self._pending
        return NotifyReport(sum(delivered), len(kept), len(retry) - len(kept))

    def _admit(self, alert: Alert) -> Alert | None:
        self._seed(alert.created_at)
        key = alert.dedup_key
        anchor = self._anchors.get(key)
        if anchor is not None and anchor.alert_id == alert.alert_id:
            return None
        if anchor is not None and alert.created_at < anchor.created_at + self._window:
            self._repeats[key] += 1
            log.debug("alert %s suppressed: repeat %d in its window", key, self._repeats[key])
            return None
        stored = self._store.alerts.save_new([self._with_repeats(alert, anchor)])
        if not stored:
            return None
        self._anchors[key] = _Anchor(stored[0].alert_id, stored[0].created_at)
        del self._repeats[key]
        self._queue(stored[0])
        return stored[0]

    def _with_repeats(self, alert: Alert, anchor: _Anchor | None) -> Alert:
        count = self._repeats[alert.dedup_key]
        if count == 0 or anchor is None:
            return alert
        since = anchor.created_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        times = "time" if count == 1 else "times"
        return replace(alert, message=f"{alert.message} (repeated {count} {times} since {since})")

    def _seed(self, at: datetime) -> None:
        """Start the windows from the alerts stored in the window before the first alert
        this manager sees (a restart continues them)."""
        if self._seeded:
            return
        self._seeded = True
        if self._window <= timedelta(0):
            return
        since = utc(at, "alert time") - self._window
        rows = self._store.reader.read(
            _ALERTS,
            columns=["dedup_key", "alert_id", "created_at"],
            filters=[("created_at", ">=", since)],
        ).to_pylist()
        for row in sorted(rows, key=lambda r: (r["created_at"], r["alert_id"])):
            self._anchors[row["dedup_key"]] = _Anchor(row["alert_id"], row["created_at"])

    def _queue(self, alert: Alert) -> None:
        if alert.severity < self._notified:
            return
        self._pending.extend(Delivery(alert, notifier) for notifier in self._notifiers)

    async def _deliver(self, delivery: Delivery) -> bool:
        try:
            await delivery.notifier.send(delivery.alert)
        except Exception as error:  # a notifier must never stop the trading loop
            log.warning(
                "alert %s: %s failed (attempt %d of %d): %s",
                delivery.alert.alert_id,
                delivery.notifier.name,
                delivery.attempts + 1,
                MAX_ATTEMPTS,
                error,
            )
            return False
        return True

    def _save_acknowledged(self, alerts: list[Alert], at: datetime) -> list[Alert]:
        acknowledged = [alert.acknowledge(max(utc(at, "at"), alert.created_at)) for alert in alerts]
        self._store.alerts.save(acknowledged)
        return acknowledged
