from datetime import UTC, datetime, timedelta

import pytest

from v6.domain import Alert, InvalidAlertError, Severity

T0 = datetime(2024, 1, 2, 15, 30, tzinfo=UTC)


def alert(**changes: object) -> Alert:
    fields: dict[str, object] = {
        "alert_id": "a-1",
        "severity": Severity.WARNING,
        "source": "risk",
        "message": "portfolio delta 612 above limit 500",
        "dedup_key": "risk:portfolio_delta",
        "created_at": T0,
    }
    return Alert(**(fields | changes))  # type: ignore[arg-type]


def test_severities_are_ordered() -> None:
    assert Severity.INFO < Severity.WARNING < Severity.CRITICAL
    assert max([Severity.WARNING, Severity.CRITICAL, Severity.INFO]) is Severity.CRITICAL


def test_acknowledge_stamps_the_time_once() -> None:
    raised = alert()
    assert not raised.is_acknowledged
    first = raised.acknowledge(T0 + timedelta(minutes=5))
    assert first.acknowledged_at == T0 + timedelta(minutes=5)
    assert first.acknowledge(T0 + timedelta(minutes=9)) is first
    assert not raised.is_acknowledged


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"severity": "warning"}, r"Alert.severity = 'warning': expected a member of Severity"),
        ({"message": ""}, r"Alert.message = ''"),
        ({"dedup_key": "  "}, r"Alert.dedup_key = '  '"),
        ({"source": None}, r"Alert.source = None"),
        ({"alert_id": "a b"}, r"Alert.alert_id = 'a b'"),
        ({"created_at": datetime(2024, 1, 2)}, r"Alert.created_at = .*got naive"),
        ({"acknowledged_at": T0 - timedelta(seconds=1)}, r"expected on or after created_at"),
    ],
)
def test_invalid_alerts_are_rejected(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidAlertError, match=message):
        alert(**changes)


def test_acknowledging_with_a_naive_time_is_rejected() -> None:
    with pytest.raises(InvalidAlertError, match=r"Alert.acknowledged_at = .*got naive"):
        alert().acknowledge(datetime(2024, 1, 2, 16, 0))
