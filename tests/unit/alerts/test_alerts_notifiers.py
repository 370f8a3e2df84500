"""Notifiers: real apprise ``json://`` deliveries to an HTTP server on 127.0.0.1 (the URL taken
from ``V6_ALERTS__URLS`` as the configuration does), failures that are caught and retried, the
URL's tokens kept out of every log line (apprise's and urllib3's debug logs included), and the
log notifier."""

from __future__ import annotations

import asyncio
import base64
import logging
from datetime import UTC, datetime

import pytest
from alerts_receiver import Receiver
from pydantic import SecretStr

from v6.alerts import (
    AlertManager,
    AppriseNotifier,
    LogNotifier,
    NotificationError,
    NotifyReport,
    SecretRedactor,
    new_alert,
    notifiers_from_config,
)
from v6.config import load_config
from v6.domain import Severity
from v6.store import Store, StoreLocation

AT = datetime(2020, 3, 16, 14, 30, tzinfo=UTC)
PASSWORD = "s3cr3t-pass"
TOKEN = "T0KEN-9f8e7d6c"
ALERT = new_alert(Severity.CRITICAL, "risk", "circuit breaker open", "breaker:open", AT)


def url_of(receiver: Receiver) -> str:
    return f"json://v6bot:{PASSWORD}@127.0.0.1:{receiver.port}/hooks/{TOKEN}"


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    for name in ("apprise", "urllib3", "v6"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def test_an_alert_is_delivered_to_the_configured_url_and_no_log_shows_its_secrets(
    receiver: Receiver, debug_logs: pytest.LogCaptureFixture, location: StoreLocation
) -> None:
    config = load_config(None, env={"V6_ALERTS__URLS": url_of(receiver)}).alerts
    notifiers = notifiers_from_config(config, timeout_seconds=5.0)
    alerts = AlertManager(Store(location, app_id="engine"), config, notifiers)
    raised = alerts.raise_alert(Severity.CRITICAL, "risk", "breaker open", "breaker:open", AT)

    report = asyncio.run(alerts.notify_pending())

    assert raised is not None
    assert [n.name for n in notifiers] == ["log", "apprise#1 (json)"]
    assert report == NotifyReport(sent=2)
    [received] = receiver.received
    assert received.path == f"/hooks/{TOKEN}"
    assert received.authorization == "Basic " + base64.b64encode(
        f"v6bot:{PASSWORD}".encode()
    ).decode("ascii")
    assert received.payload["title"] == "V6 CRITICAL: risk"
    assert received.payload["type"] == "failure"
    assert str(received.payload["message"]).startswith("breaker open\n2020-03-16 14:30:00 UTC")
    assert "JSON POST URL" in debug_logs.text
    for secret in (PASSWORD, TOKEN, url_of(receiver)):
        assert secret not in debug_logs.text


def test_a_failing_service_raises_a_notification_error_that_names_no_secret(
    receiver: Receiver, debug_logs: pytest.LogCaptureFixture
) -> None:
    receiver.status = 500
    notifier = AppriseNotifier(SecretStr(url_of(receiver)), 2, timeout_seconds=5.0)
    try:
        with pytest.raises(NotificationError, match=r"apprise#2 \(json\): not delivered") as error:
            asyncio.run(notifier.send(ALERT))
    finally:
        notifier.close()

    assert len(receiver.received) == 1
    for secret in (PASSWORD, TOKEN):
        assert secret not in str(error.value)
        assert secret not in debug_logs.text


def test_an_unreachable_service_is_retried_by_the_manager_and_never_raises(
    receiver: Receiver, debug_logs: pytest.LogCaptureFixture, location: StoreLocation
) -> None:
    closed_port = f"json://v6bot:{PASSWORD}@127.0.0.1:1/hooks/{TOKEN}"
    notifier = AppriseNotifier(SecretStr(closed_port), 1, timeout_seconds=5.0)
    config = load_config(None, env={}).alerts
    alerts = AlertManager(Store(location, app_id="engine"), config, [notifier])
    alerts.raise_alert(Severity.WARNING, "execution", "rejected", "reject:a", AT)
    try:
        report = asyncio.run(alerts.notify_pending())
    finally:
        notifier.close()

    assert report == NotifyReport(retrying=1)
    assert "apprise#1 (json) failed (attempt 1 of 3)" in debug_logs.text
    for secret in (PASSWORD, TOKEN):
        assert secret not in debug_logs.text


def test_a_url_apprise_cannot_use_is_refused_without_showing_it() -> None:
    with pytest.raises(ValueError, match=r"alerts.urls\[0\]: apprise does not accept") as error:
        AppriseNotifier(SecretStr(f"nosuchservice://{TOKEN}"), 1)
    assert TOKEN not in str(error.value)


def test_the_redactor_hides_every_part_of_the_url_in_a_formatted_record() -> None:
    redactor = SecretRedactor([TOKEN, PASSWORD])
    record = logging.LogRecord(
        "apprise", logging.DEBUG, "x", 1, "POST %s as %s", (TOKEN, "v6"), None
    )
    assert redactor.filter(record)
    assert record.getMessage() == "POST <hidden> as v6"


def test_the_log_notifier_logs_at_the_alert_severity(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="v6.alerts.notify")
    info = new_alert(Severity.INFO, "execution", "filled 1 @ -1.45", "fill:7", AT)
    for alert in (info, ALERT):
        asyncio.run(LogNotifier().send(alert))

    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.INFO, f"V6 INFO: execution: filled 1 @ -1.45 [{info.alert_id}]"),
        (logging.CRITICAL, f"V6 CRITICAL: risk: circuit breaker open [{ALERT.alert_id}]"),
    ]
