"""Decisions, alerts, risk events and reconciliation events."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from v6.domain import Action, Alert, Decision, Severity
from v6.store.catalog import ALERTS, DECISIONS, RECONCILIATION_EVENTS, RISK_EVENTS
from v6.store.readers import Filter
from v6.store.records import ReconciliationEvent, RiskEvent, RiskLevel, trade_date, utc
from v6.store.repositories._base import Repository, Row, from_json, to_json


def _since(column: str, since: datetime | None, where: str) -> list[Filter]:
    return [] if since is None else [(column, ">=", utc(since, where))]


class DecisionRepository(Repository):
    """The rule book's outcome per strategy per evaluation (one row per strategy and time)."""

    def record(self, decisions: Iterable[Decision]) -> None:
        self._write(DECISIONS, (_decision_row(d) for d in decisions))

    def for_strategy(self, strategy_id: str, since: datetime | None = None) -> list[Decision]:
        """The strategy's decisions in time order (from ``since`` if given)."""
        filters = [("strategy_id", "=", strategy_id), *_since("at", since, "since")]
        return sorted((_decision(r) for r in self._rows(DECISIONS, filters)), key=lambda d: d.at)


class AlertRepository(Repository):
    """Alerts by ``alert_id``; saving an acknowledged alert records the acknowledgement."""

    def save(self, alerts: Iterable[Alert]) -> None:
        self._write(ALERTS, (_alert_row(alert) for alert in alerts))

    def unacknowledged(self) -> list[Alert]:
        """Alerts nobody acknowledged yet, most severe first, then oldest first."""
        rows = self._rows(ALERTS, [("acknowledged_at", "=", None)])
        alerts = [_alert(row) for row in rows]
        return sorted(alerts, key=lambda a: (-a.severity, a.created_at, a.alert_id))

    def get(self, alert_id: str) -> Alert | None:
        rows = self._rows(ALERTS, [("alert_id", "=", alert_id)])
        return _alert(rows[0]) if rows else None


class RiskEventRepository(Repository):
    def record(self, events: Iterable[RiskEvent]) -> None:
        self._write(RISK_EVENTS, (_risk_row(event) for event in events))

    def since(self, since: datetime | None = None) -> list[RiskEvent]:
        rows = self._rows(RISK_EVENTS, _since("at", since, "since"))
        return sorted((_risk(row) for row in rows), key=lambda e: (e.at, e.event_id))


class ReconciliationRepository(Repository):
    def record(self, events: Iterable[ReconciliationEvent]) -> None:
        self._write(RECONCILIATION_EVENTS, (_reconciliation_row(e) for e in events))

    def since(self, since: datetime | None = None) -> list[ReconciliationEvent]:
        rows = self._rows(RECONCILIATION_EVENTS, _since("at", since, "since"))
        events = (ReconciliationEvent(**row) for row in rows)
        return sorted(events, key=lambda e: (e.at, e.event_id))


def _decision_row(decision: Decision) -> Row:
    return {
        "trade_date": trade_date(decision.at),
        "at": decision.at,
        "strategy_id": decision.strategy_id,
        "rule": decision.rule,
        "priority": decision.priority,
        "action": decision.action.value,
        "reason": decision.reason,
        "metrics": to_json(decision.metrics_dict()),
    }


def _decision(row: Row) -> Decision:
    return Decision(
        strategy_id=row["strategy_id"],
        rule=row["rule"],
        priority=row["priority"],
        action=Action(row["action"]),
        reason=row["reason"],
        metrics=from_json(row["metrics"]),
        at=row["at"],
    )


def _alert_row(alert: Alert) -> Row:
    return {
        "alert_id": alert.alert_id,
        "severity": alert.severity.name.lower(),
        "source": alert.source,
        "message": alert.message,
        "dedup_key": alert.dedup_key,
        "created_at": alert.created_at,
        "acknowledged_at": alert.acknowledged_at,
    }


def _alert(row: Row) -> Alert:
    return Alert(
        alert_id=row["alert_id"],
        severity=Severity[row["severity"].upper()],
        source=row["source"],
        message=row["message"],
        dedup_key=row["dedup_key"],
        created_at=row["created_at"],
        acknowledged_at=row["acknowledged_at"],
    )


def _risk_row(event: RiskEvent) -> Row:
    return {
        "event_id": event.event_id,
        "at": event.at,
        "level": event.level.value,
        "kind": event.kind,
        "strategy_id": event.strategy_id,
        "reason": event.reason,
        "details": to_json(event.details),
    }


def _risk(row: Row) -> RiskEvent:
    return RiskEvent(
        event_id=row["event_id"],
        at=row["at"],
        level=RiskLevel(row["level"]),
        kind=row["kind"],
        reason=row["reason"],
        strategy_id=row["strategy_id"],
        details=from_json(row["details"]),
    )


def _reconciliation_row(event: ReconciliationEvent) -> Row:
    return {
        "event_id": event.event_id,
        "at": event.at,
        "account": event.account,
        "symbol": event.symbol,
        "kind": event.kind,
        "broker_quantity": event.broker_quantity,
        "store_quantity": event.store_quantity,
        "resolution": event.resolution,
    }
