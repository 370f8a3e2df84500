"""The alert manager on real Delta tables: de-duplication within the window (repeats counted,
not stored, named in the next alert), replays and restarts, acknowledgement of one and of all,
and the notification fan-out with failing notifiers that never reach the caller."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from v6.alerts import (
    MAX_ATTEMPTS,
    AlertManager,
    NotificationError,
    Notifier,
    NotifyReport,
    new_alert,
)
from v6.config.alerts import AlertsConfig, SeverityName
from v6.domain import Alert, Severity
from v6.store import TABLES, Store, StoreLocation

T0 = datetime(2020, 3, 16, 14, 30, tzinfo=UTC)
WINDOW = 300.0


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@dataclass
class Recording:
    """A notifier that keeps what it was sent; fails its first ``failures`` sends."""

    name: str = "recording"
    failures: int = 0
    sent: list[Alert] = field(default_factory=list)
    calls: int = 0

    async def send(self, alert: Alert) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise NotificationError(f"{self.name}: service unavailable")
        self.sent.append(alert)


class Broken:
    """A notifier with a bug: raises something that is not a NotificationError."""

    name = "broken"

    async def send(self, alert: Alert) -> None:
        raise KeyError(alert.alert_id)


class Engine:
    """An engine's store and alert manager (a new one is a restart)."""

    def __init__(
        self,
        location: StoreLocation,
        *notifiers: Notifier,
        window: float = WINDOW,
        least: SeverityName = "warning",
    ) -> None:
        self.store = Store(location, app_id="engine")
        config = AlertsConfig(dedup_window_seconds=window, min_severity=least)
        self.alerts = AlertManager(self.store, config, notifiers)


def stored(location: StoreLocation) -> list[Alert]:
    """Every alert in the table, oldest first (acknowledged ones included)."""
    store = Store(location)
    ids = store.reader.read(TABLES["alerts"], columns=["alert_id"]).column(0).to_pylist()
    found = [store.alerts.get(alert_id) for alert_id in ids]
    return sorted((a for a in found if a is not None), key=lambda a: (a.created_at, a.alert_id))


def breaker(alerts: AlertManager, seconds: float, message: str = "breaker open") -> Alert | None:
    return alerts.raise_alert(Severity.CRITICAL, "risk", message, "breaker:open", at(seconds))


def test_a_repeat_within_the_window_is_counted_not_stored_and_named_in_the_next_alert(
    location: StoreLocation,
) -> None:
    engine = Engine(location)
    alerts = engine.alerts
    first = breaker(alerts, 0)
    repeats = [breaker(alerts, seconds, f"breaker open #{seconds}") for seconds in (60, 120, 299)]
    assert alerts.repeats("breaker:open") == 3
    later = breaker(alerts, 300, "breaker open again")
    engine.store.flush()

    assert first is not None
    assert later is not None
    assert repeats == [None, None, None]
    assert later.message == "breaker open again (repeated 3 times since 2020-03-16 14:30:00 UTC)"
    assert alerts.repeats("breaker:open") == 0
    assert [a.alert_id for a in stored(location)] == [first.alert_id, later.alert_id]


def test_each_condition_has_its_own_window_and_a_zero_window_keeps_every_alert(
    location: StoreLocation,
) -> None:
    alerts = Engine(location).alerts
    kept = [
        alerts.raise_alert(Severity.WARNING, "risk", "gamma over", "limit:gamma", at(0)),
        alerts.raise_alert(Severity.WARNING, "risk", "delta over", "limit:delta", at(1)),
    ]
    every = Engine(location, window=0).alerts
    raised = [every.raise_alert(Severity.INFO, "x", f"m{i}", "same", at(10 + i)) for i in range(3)]

    assert all(alert is not None for alert in [*kept, *raised])
    assert every.repeats("same") == 0


def test_an_alert_id_is_derived_from_its_content() -> None:
    one = new_alert(Severity.WARNING, "risk engine", "gamma over", "limit:gamma", at(0))
    same = new_alert(Severity.WARNING, "risk engine", "gamma over", "limit:gamma", at(0))
    other = new_alert(Severity.WARNING, "risk engine", "gamma over", "limit:gamma", at(1))
    assert one == same
    assert one.alert_id != other.alert_id
    assert one.alert_id.startswith("risk-engine-")


def test_a_replay_adds_nothing_in_process_and_after_a_restart(location: StoreLocation) -> None:
    engine = Engine(location, Recording(), window=0)
    first = breaker(engine.alerts, 0)
    assert first is not None
    assert breaker(engine.alerts, 0) is None
    engine.store.flush()
    acknowledged = engine.alerts.acknowledge(first.alert_id, at(30))
    engine.store.flush()

    restarted = Engine(location, Recording(), window=0)
    assert breaker(restarted.alerts, 0) is None
    restarted.store.flush()

    assert acknowledged is not None
    assert stored(location) == [acknowledged]
    assert engine.alerts.pending_notifications == 1
    assert restarted.alerts.pending_notifications == 0


def test_after_a_restart_the_window_continues_from_the_table(location: StoreLocation) -> None:
    engine = Engine(location)
    breaker(engine.alerts, 0)
    engine.store.flush()

    restarted = Engine(location).alerts
    assert breaker(restarted, 100) is None
    assert restarted.repeats("breaker:open") == 1
    assert breaker(restarted, 400) is not None


def test_acknowledging_one_and_all_is_persisted_and_never_moved(location: StoreLocation) -> None:
    engine = Engine(location)
    alerts = engine.alerts
    one, two, three = (
        alerts.raise_alert(Severity.WARNING, "risk", f"m{i}", f"k{i}", at(i)) for i in range(3)
    )
    assert one is not None
    assert two is not None
    assert three is not None
    engine.store.flush()

    acknowledged = alerts.acknowledge(two.alert_id, at(-100))
    engine.store.flush()
    assert alerts.acknowledge(two.alert_id, at(500)) is None
    assert alerts.acknowledge("no-such-alert", at(500)) is None
    rest = alerts.acknowledge_all(at(600))
    engine.store.flush()

    assert acknowledged == two.acknowledge(two.created_at)
    assert sorted(a.alert_id for a in rest) == sorted([one.alert_id, three.alert_id])
    reread = {a.alert_id: a.acknowledged_at for a in stored(location)}
    assert reread == {one.alert_id: at(600), two.alert_id: two.created_at, three.alert_id: at(600)}
    assert Store(location).alerts.unacknowledged() == []


def test_an_acknowledged_condition_that_recurs_within_the_window_is_not_raised_again(
    location: StoreLocation,
) -> None:
    engine = Engine(location)
    first = breaker(engine.alerts, 0)
    assert first is not None
    engine.store.flush()
    engine.alerts.acknowledge(first.alert_id, at(10))
    engine.store.flush()

    assert breaker(engine.alerts, 20) is None
    assert breaker(engine.alerts, 310) is not None


def test_only_alerts_at_or_above_the_least_severity_are_sent_to_every_notifier(
    location: StoreLocation,
) -> None:
    log, chat = Recording("log"), Recording("chat")
    alerts = Engine(location, log, chat).alerts
    alerts.raise_alert(Severity.INFO, "execution", "filled", "fill:1", at(0))
    warning = alerts.raise_alert(Severity.WARNING, "execution", "rejected", "reject:a", at(1))
    critical = breaker(alerts, 2)
    breaker(alerts, 3)

    report = asyncio.run(alerts.notify_pending())

    assert report == NotifyReport(sent=4)
    assert log.sent == chat.sent == [warning, critical]
    assert asyncio.run(alerts.notify_pending()) == NotifyReport()


def test_failed_deliveries_are_retried_then_dropped_and_never_raise(
    location: StoreLocation, caplog: pytest.LogCaptureFixture
) -> None:
    flaky, broken, fine = Recording("flaky", failures=1), Broken(), Recording("fine")
    alerts = Engine(location, flaky, broken, fine).alerts
    critical = breaker(alerts, 0)

    reports = [asyncio.run(alerts.notify_pending()) for _ in range(MAX_ATTEMPTS + 1)]

    assert reports == [
        NotifyReport(sent=1, retrying=2),
        NotifyReport(sent=1, retrying=1),
        NotifyReport(sent=0, retrying=0, dropped=1),
        NotifyReport(),
    ]
    assert flaky.sent == fine.sent == [critical]
    assert alerts.pending_notifications == 0
    assert "broken gave up after 3 attempts" in caplog.text
    assert "flaky failed (attempt 1 of 3): flaky: service unavailable" in caplog.text
