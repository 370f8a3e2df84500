"""Risk events: content-derived keys for idempotent writes, levels and details, and the
alerts they raise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from v6.domain import Severity
from v6.risk import RiskEvent, RiskEventKind, RiskLevel, risk_alert

AT = datetime(2024, 1, 10, 15, tzinfo=UTC)


def rejected(**changes: object) -> RiskEvent:
    fields: dict[str, object] = {
        "kind": RiskEventKind.INTENT_REJECTED,
        "at": AT,
        "reason": "open rejected: |delta| 210.00 > 200",
        "strategy_id": "ic-1",
        "intent": "open",
        "limit": "delta",
        "value": 210.0,
        "limit_value": 200.0,
    }
    return RiskEvent(**{**fields, **changes})  # type: ignore[arg-type]


def test_the_same_event_has_the_same_key_and_another_event_another() -> None:
    eastern = AT.astimezone(timezone(timedelta(hours=-5)))

    assert rejected().event_id == rejected(at=eastern).event_id
    assert rejected().event_id != rejected(value=211.0).event_id
    assert rejected().event_id != rejected(at=AT + timedelta(microseconds=1)).event_id


def test_portfolio_events_and_system_events_with_their_set_fields_as_details() -> None:
    assert rejected().level is RiskLevel.PORTFOLIO
    assert rejected().details == {
        "intent": "open",
        "limit": "delta",
        "value": 210.0,
        "limit_value": 200.0,
    }
    transition = RiskEvent(
        RiskEventKind.BREAKER_TRANSITION, AT, "tripped", from_state="closed", to_state="open"
    )
    assert transition.level is RiskLevel.SYSTEM
    assert transition.details == {"from_state": "closed", "to_state": "open"}


def test_a_count_is_kept_as_a_float_so_its_key_survives_a_json_round_trip() -> None:
    count = rejected(limit="open_strategies", value=21, limit_value=20)
    again = rejected(limit="open_strategies", value=21.0, limit_value=20.0)

    assert (count.value, count.limit_value) == (21.0, 20.0)
    assert isinstance(count.value, float)
    assert count.event_id == again.event_id


@pytest.mark.parametrize(
    ("event", "severity"),
    [
        (rejected(kind=RiskEventKind.LIMIT_BREACHED), Severity.WARNING),
        (
            RiskEvent(
                RiskEventKind.BREAKER_TRANSITION,
                AT,
                "tripped",
                from_state="closed",
                to_state="open",
            ),
            Severity.CRITICAL,
        ),
        (
            RiskEvent(RiskEventKind.TRADING_HALTED, AT, "trading halted: operator"),
            Severity.CRITICAL,
        ),
        (rejected(), None),
        (
            RiskEvent(
                RiskEventKind.BREAKER_TRANSITION,
                AT,
                "probe filled",
                from_state="half_open",
                to_state="closed",
            ),
            None,
        ),
    ],
)
def test_only_breaches_trips_and_halts_alert(event: RiskEvent, severity: Severity | None) -> None:
    alert = risk_alert(event)

    assert (alert.severity if alert else None) == severity
    if alert is not None:
        assert alert.message == event.reason
        assert alert.created_at == AT
        assert alert.alert_id == f"risk-{event.event_id}"


def test_a_breach_alert_deduplicates_per_limit() -> None:
    first = risk_alert(rejected(kind=RiskEventKind.LIMIT_BREACHED))
    later = risk_alert(rejected(kind=RiskEventKind.LIMIT_BREACHED, at=AT + timedelta(hours=1)))

    assert first is not None
    assert later is not None
    assert first.dedup_key == later.dedup_key == "risk:limit_breached:delta"
    assert first.alert_id != later.alert_id


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"at": datetime(2024, 1, 10)}, "RiskEvent.at"),
        ({"reason": " "}, "RiskEvent.reason"),
        ({"value": float("nan")}, "RiskEvent.value"),
        ({"kind": "limit_breached"}, "RiskEvent.kind"),
        ({"limit_value": "200"}, "RiskEvent.limit_value"),
    ],
)
def test_a_malformed_event_is_refused_by_field(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rejected(**changes)
