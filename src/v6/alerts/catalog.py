"""What is worth an alert: the alerts the engine raises for fills, rejects, rule triggers and
reconciliation conflicts (risk breaches and breaker transitions: `v6.risk.risk_alert`).

Every alert gets a deterministic ``alert_id`` (its source and a hash of its condition, time,
severity and message), so the same alert produced again after a crash is recognised as a
replay rather than raised twice. Each builder returns None for what needs no alert.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Protocol

from v6.decisions.rules import LAST_UNVETOED_PRIORITY
from v6.domain import Action, Alert, Decision, IntentKind, Severity
from v6.store import OrderStatus, ReconciliationEvent

_NOT_IN_IDENTIFIER = re.compile(r"[^A-Za-z0-9_.-]+")


def new_alert(severity: Severity, source: str, message: str, dedup_key: str, at: datetime) -> Alert:
    """An alert with an id derived from its content (see the module docstring)."""
    draft = Alert("draft", severity, source, message, dedup_key, at)
    text = "|".join((source, dedup_key, draft.created_at.isoformat(), severity.name, message))
    digest = hashlib.blake2b(text.encode(), digest_size=12).hexdigest()
    prefix = _NOT_IN_IDENTIFIER.sub("-", source).strip("-") or "alert"
    return Alert(f"{prefix}-{digest}", severity, source, message, dedup_key, draft.created_at)


class OrderUpdate(Protocol):
    """An order's latest state: the store's ``OrderRecord`` or the order engine's
    (``v6.execution.records.OrderRecord``), whose statuses share their values."""

    @property
    def order_id(self) -> str: ...
    @property
    def strategy_id(self) -> str: ...
    @property
    def intent(self) -> IntentKind: ...
    @property
    def status(self) -> str: ...
    @property
    def filled_quantity(self) -> int: ...
    @property
    def avg_fill_price(self) -> float | None: ...
    @property
    def message(self) -> str | None: ...
    @property
    def updated_at(self) -> datetime: ...


def order_alert(order: OrderUpdate) -> Alert | None:
    """A filled order (info) or a rejected one (warning, with the broker's reason); None for
    any other status. Repeats are grouped per order (fills) or per strategy and intent
    (rejects: a rejected retry repeats the condition)."""
    what = f"{order.intent.value} order {order.order_id} of {order.strategy_id}"
    if order.status == OrderStatus.FILLED.value:
        price = "" if order.avg_fill_price is None else f" @ {order.avg_fill_price:.2f}"
        message = f"{what} filled: {order.filled_quantity}{price}"
        key = f"fill:{order.order_id}"
        return new_alert(Severity.INFO, "execution", message, key, order.updated_at)
    if order.status == OrderStatus.REJECTED.value:
        reason = order.message or "no reason given"
        message = f"{what} rejected: {reason}"
        key = f"reject:{order.strategy_id}:{order.intent.value}"
        return new_alert(Severity.WARNING, "execution", message, key, order.updated_at)
    return None


def decision_alert(decision: Decision) -> Alert | None:
    """A rule that decided to act on a strategy: a warning for the rules that act even in an
    absurd market (halt, catastrophic move, expiration pin, early assignment, stop loss) and
    for ALERT verdicts, info for the others; None for HOLD (market vetoes included)."""
    if decision.action is Action.HOLD:
        return None
    urgent = decision.priority <= LAST_UNVETOED_PRIORITY or decision.action is Action.ALERT
    severity = Severity.WARNING if urgent else Severity.INFO
    action = decision.action.value
    message = f"{decision.strategy_id}: {decision.rule} -> {action}: {decision.reason}"
    key = f"rule:{decision.strategy_id}:{decision.rule}"
    return new_alert(severity, "decisions", message, key, decision.at)


def reconciliation_alert(event: ReconciliationEvent) -> Alert:
    """A difference between the broker and the store: a warning once resolved, critical while
    nothing was done about it."""
    severity = Severity.WARNING if event.resolution else Severity.CRITICAL
    outcome = f"resolved: {event.resolution}" if event.resolution else "unresolved"
    message = (
        f"{event.account} {event.symbol}: {event.kind} (broker {event.broker_quantity}, "
        f"store {event.store_quantity}); {outcome}"
    )
    key = f"reconcile:{event.account}:{event.symbol}:{event.kind}"
    return new_alert(severity, "reconcile", message, key, event.at)
