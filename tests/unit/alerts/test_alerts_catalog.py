"""Which fills, rejects, rule triggers, reconciliation conflicts and risk events become alerts,
at what severity and grouped under which key; and risk alerts raised through the alert manager
by the cycle recorder (stored once, de-duplicated, queued for notification)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from v6.alerts import AlertManager, decision_alert, order_alert, reconciliation_alert
from v6.brokers.types import OrderType
from v6.config.alerts import AlertsConfig
from v6.domain import Action, Alert, Decision, IntentKind, Leg, OptionContract, Right, Severity
from v6.execution import records as execution
from v6.risk import RiskEvent, RiskEventKind
from v6.risk.persistence import CycleRecorder, RiskState
from v6.store import OrderRecord, OrderStatus, ReconciliationEvent, Store, StoreLocation

AT = datetime(2020, 3, 16, 15, 0, tzinfo=UTC)
PUT = OptionContract("SPY", date(2020, 4, 17), 230, Right.PUT)
SPREAD = (Leg(PUT, -1), Leg(OptionContract("SPY", date(2020, 4, 17), 225, Right.PUT), 1))


def order(status: OrderStatus, **changes: object) -> OrderRecord:
    fields: dict[str, object] = {
        "order_id": "1007",
        "strategy_id": "ps-1",
        "intent": IntentKind.OPEN,
        "attempt": 1,
        "legs": SPREAD,
        "quantity": 2,
        "limit_price": -1.45,
        "status": status,
        "submitted_at": AT,
        "updated_at": AT + timedelta(seconds=40),
    }
    return OrderRecord(**{**fields, **changes})  # type: ignore[arg-type]


def test_a_filled_order_is_info_and_a_rejected_one_a_warning_with_the_reason() -> None:
    filled = order_alert(order(OrderStatus.FILLED, filled_quantity=2, avg_fill_price=-1.42))
    rejected = order_alert(order(OrderStatus.REJECTED, message="IB 201: margin"))

    assert filled is not None
    assert rejected is not None
    assert (filled.severity, filled.source, filled.dedup_key) == (
        Severity.INFO,
        "execution",
        "fill:1007",
    )
    assert filled.message == "open order 1007 of ps-1 filled: 2 @ -1.42"
    assert filled.created_at == AT + timedelta(seconds=40)
    assert (rejected.severity, rejected.dedup_key) == (Severity.WARNING, "reject:ps-1:open")
    assert rejected.message == "open order 1007 of ps-1 rejected: IB 201: margin"


def test_the_order_engines_records_raise_the_same_alerts() -> None:
    stored = order(OrderStatus.REJECTED, message="IB 201: margin")
    engine_record = execution.OrderRecord(
        stored.order_id,
        stored.strategy_id,
        stored.intent,
        stored.attempt,
        execution.OrderRole.WALKED,
        stored.legs,
        stored.quantity,
        OrderType.LIMIT,
        stored.limit_price,
        execution.RecordStatus.REJECTED,
        0,
        None,
        stored.submitted_at,
        stored.updated_at,
        message=stored.message,
    )
    assert order_alert(engine_record) == order_alert(stored)


@pytest.mark.parametrize(
    "status", [OrderStatus.SUBMITTED, OrderStatus.PARTIALLY_FILLED, OrderStatus.CANCELLED]
)
def test_working_and_cancelled_orders_raise_nothing(status: OrderStatus) -> None:
    assert order_alert(order(status)) is None


@pytest.mark.parametrize(
    ("rule", "priority", "action", "severity"),
    [
        ("stop_loss", 5, Action.CLOSE, Severity.WARNING),
        ("catastrophic_move", 2, Action.CLOSE, Severity.WARNING),
        ("take_profit", 10, Action.CLOSE, Severity.INFO),
        ("time_exit", 11, Action.ROLL, Severity.INFO),
        ("hold", 0, Action.HOLD, None),
    ],
)
def test_rule_triggers_alert_by_urgency(
    rule: str, priority: int, action: Action, severity: Severity | None
) -> None:
    decision = Decision("ic-3", rule, priority, action, "loss 2.1x credit", {}, AT)
    alert = decision_alert(decision)
    assert (alert.severity if alert else None) == severity
    if alert is not None:
        assert alert.dedup_key == f"rule:ic-3:{rule}"
        assert alert.message == f"ic-3: {rule} -> {action.value}: loss 2.1x credit"


def test_a_reconciliation_conflict_is_critical_until_resolved() -> None:
    base = ReconciliationEvent(
        "r1", AT, "DU123", "SPY   200417P00230000", "quantity_mismatch", -2, -1
    )
    unresolved = reconciliation_alert(base)
    resolved = reconciliation_alert(
        ReconciliationEvent("r2", AT, "DU123", base.symbol, base.kind, -2, -1, "store updated")
    )
    assert unresolved.severity is Severity.CRITICAL
    assert unresolved.message == (
        "DU123 SPY   200417P00230000: quantity_mismatch (broker -2, store -1); unresolved"
    )
    assert resolved.severity is Severity.WARNING
    assert resolved.dedup_key == unresolved.dedup_key


@dataclass
class Recording:
    name: str = "recording"
    sent: list[Alert] = field(default_factory=list)

    async def send(self, alert: Alert) -> None:
        self.sent.append(alert)


def trip(seconds: float) -> list[RiskEvent]:
    when = AT + timedelta(seconds=seconds)
    return [
        RiskEvent(
            RiskEventKind.BREAKER_TRANSITION,
            when,
            "3 order rejects in 60 s",
            from_state="closed",
            to_state="open",
        ),
        RiskEvent(RiskEventKind.FAILURE_RECORDED, when, "order reject"),
    ]


def test_the_cycle_recorder_raises_risk_alerts_through_the_alert_manager(tmp_path: Path) -> None:
    location = StoreLocation(f"{tmp_path}/data")
    store = Store(location, app_id="engine")
    chat = Recording()
    alerts = AlertManager(store, AlertsConfig(), [chat])
    recorder = CycleRecorder(store, alerts)

    first = recorder.record(AT, None, trip(0), RiskState())
    again = recorder.record(AT + timedelta(seconds=120), None, trip(120), RiskState())
    store.flush()
    asyncio.run(alerts.notify_pending())

    assert [a.severity for a in first] == [Severity.CRITICAL]
    assert again == ()
    assert alerts.repeats("risk:breaker_transition:open") == 1
    assert chat.sent == list(first)
    assert Store(location).alerts.unacknowledged() == list(first)
    assert len(Store(location).risk_events.since()) == 4
