"""Where alerts are sent: the log, and apprise (Telegram, Slack, e-mail, webhooks, ...).

A notifier's ``send`` raises `NotificationError` when an alert was not delivered; the alert
manager catches every exception a notifier raises, logs it and retries later, so a failing
notification service never stops the trading loop.

Apprise URLs embed tokens (``tgram://<bot token>/<chat>``), so they come only from the
environment (``V6_ALERTS__URLS``) and never appear in V6's logs: a notifier is named by its
position and scheme (``apprise#1 (tgram)``), and while it exists a log filter hides every
part of its URL in what apprise and urllib3 log (their debug logs print request URLs).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Final, Protocol
from urllib.parse import unquote

import apprise
from pydantic import SecretStr

from v6.config.alerts import AlertsConfig
from v6.domain import Alert, Severity

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS: Final = 10.0
REDACTED_LOGGERS: Final = ("apprise", "urllib3.connectionpool")
"""The loggers that may print a notification URL (apprise's services; urllib3's requests)."""
HIDDEN: Final = "<hidden>"
MIN_SECRET_LENGTH: Final = 4
"""URL parts shorter than this (``C``, ``80``) are not hidden: they would mangle every log line
and carry no secret."""

_URL_SEPARATORS = re.compile(r"[/:@?&=#,+]+")
_LOG_LEVELS: Final = {
    Severity.INFO: logging.INFO,
    Severity.WARNING: logging.WARNING,
    Severity.CRITICAL: logging.CRITICAL,
}
_NOTIFY_TYPES: Final = {
    Severity.INFO: apprise.NotifyType.INFO,
    Severity.WARNING: apprise.NotifyType.WARNING,
    Severity.CRITICAL: apprise.NotifyType.FAILURE,
}


class NotificationError(RuntimeError):
    """An alert was not delivered by a notifier (the message never contains a URL)."""


class Notifier(Protocol):
    """Sends an alert to people."""

    @property
    def name(self) -> str:
        """How logs name this notifier (never its URL)."""
        ...

    async def send(self, alert: Alert) -> None:
        """Deliver ``alert``; raise `NotificationError` when it was not delivered."""
        ...


def alert_title(alert: Alert) -> str:
    return f"V6 {alert.severity.name}: {alert.source}"


def alert_body(alert: Alert) -> str:
    stamp = alert.created_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"{alert.message}\n{stamp} · alert {alert.alert_id}"


class LogNotifier:
    """Writes each alert to the log, at a level matching its severity."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._log = logger or logging.getLogger("v6.alerts.notify")

    @property
    def name(self) -> str:
        return "log"

    async def send(self, alert: Alert) -> None:
        self._log.log(
            _LOG_LEVELS[alert.severity],
            "%s: %s [%s]",
            alert_title(alert),
            alert.message,
            alert.alert_id,
        )


class SecretRedactor(logging.Filter):
    """Replaces every given secret in a log record's message with ``<hidden>``."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = message
        for secret in self._secrets:
            redacted = redacted.replace(secret, HIDDEN)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def url_secrets(url: str) -> set[str]:
    """The URL itself and each of its parts after the scheme (host, user, password, path
    segments, query values), as written and percent-decoded."""
    _, _, rest = url.partition("://")
    parts = {url, rest, *_URL_SEPARATORS.split(rest)}
    parts |= {unquote(part) for part in parts}
    return {part for part in parts if len(part) >= MIN_SECRET_LENGTH}


def url_scheme(url: str) -> str:
    scheme, separator, _ = url.partition("://")
    return scheme.lower() if separator and scheme.isalnum() else "unknown"


class AppriseNotifier:
    """Sends alerts to one apprise URL (title ``V6 <SEVERITY>: <source>``, the message as the
    body). ``position`` (1-based) names it in logs. Call `close` when done with it, to remove
    its log filter."""

    def __init__(
        self, url: SecretStr, position: int, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    ) -> None:
        value = url.get_secret_value()
        self._name = f"apprise#{position} ({url_scheme(value)})"
        self._timeout = timeout_seconds
        self._redactor = SecretRedactor(url_secrets(value))
        for name in REDACTED_LOGGERS:
            logging.getLogger(name).addFilter(self._redactor)
        self._apprise = apprise.Apprise()
        if not self._apprise.add(value):
            self.close()
            raise ValueError(
                f"alerts.urls[{position - 1}]: apprise does not accept this "
                f"{url_scheme(value)}:// URL (value hidden): expected a supported service URL"
            )

    @property
    def name(self) -> str:
        return self._name

    async def send(self, alert: Alert) -> None:
        with await self._apprise.async_notify(
            body=alert_body(alert),
            title=alert_title(alert),
            notify_type=_NOTIFY_TYPES[alert.severity],
            timeout=self._timeout,
        ) as result:
            if not result:
                raise NotificationError(f"{self._name}: not delivered ({result.status.name})")

    def close(self) -> None:
        for name in REDACTED_LOGGERS:
            logging.getLogger(name).removeFilter(self._redactor)


def notifiers_from_config(
    config: AlertsConfig, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
) -> tuple[Notifier, ...]:
    """The log, and one apprise notifier per configured URL."""
    sent: list[Notifier] = [LogNotifier()]
    sent.extend(
        AppriseNotifier(url, position, timeout_seconds)
        for position, url in enumerate(config.urls, start=1)
    )
    return tuple(sent)
