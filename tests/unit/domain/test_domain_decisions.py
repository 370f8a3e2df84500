import math
from dataclasses import asdict, replace
from datetime import UTC, datetime

import pytest

from v6.domain import Action, Decision, InvalidDecisionError

T0 = datetime(2024, 1, 2, 15, 30, tzinfo=UTC)


def decision(**changes: object) -> Decision:
    fields: dict[str, object] = {
        "strategy_id": "ic-1",
        "rule": "take_profit",
        "priority": 3,
        "action": Action.CLOSE,
        "reason": "captured 52% of max profit (target 50%)",
        "metrics": {"pnl_pct": 0.52, "dte": 21},
        "at": T0,
    }
    return Decision(**(fields | changes))  # type: ignore[arg-type]


def test_metrics_are_immutable_sorted_pairs() -> None:
    d = decision()
    assert d.metrics == (("dte", 21.0), ("pnl_pct", 0.52))
    assert d.metric("pnl_pct") == 0.52
    assert d.metrics_dict() == {"dte": 21.0, "pnl_pct": 0.52}
    with pytest.raises(KeyError):
        d.metric("delta")


def test_decisions_hash_serialise_and_replace() -> None:
    d = decision()
    assert hash(d) == hash(decision(metrics=[("pnl_pct", 0.52), ("dte", 21)]))
    assert asdict(d)["metrics"] == (("dte", 21.0), ("pnl_pct", 0.52))
    assert replace(d, priority=4).metrics == d.metrics


def test_hold_has_priority_zero() -> None:
    hold = decision(action=Action.HOLD, priority=0, rule="none", reason="no rule fired")
    assert hold.priority == 0


def test_infinite_metrics_are_kept() -> None:
    assert decision(metrics={"max_loss": math.inf}).metric("max_loss") == math.inf


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"action": Action.HOLD, "priority": 3}, r"Decision.priority = 3: expected 0 for HOLD"),
        ({"priority": 0}, r"Decision.priority = 0: expected 1..12 for CLOSE"),
        ({"priority": 13}, r"Decision.priority = 13: expected 1..12"),
        ({"priority": True}, r"Decision.priority = True"),
        ({"action": "close"}, r"Decision.action = 'close': expected a member of Action"),
        ({"rule": " "}, r"Decision.rule = ' ': expected non-blank text"),
        ({"reason": ""}, r"Decision.reason = ''"),
        ({"strategy_id": "a:b"}, r"Decision.strategy_id = 'a:b'"),
        ({"at": datetime(2024, 1, 2)}, r"Decision.at = .*got naive"),
        ({"metrics": {"x": math.nan}}, r"Decision.metrics\['x'\] = nan"),
        ({"metrics": {"x": "1"}}, r"Decision.metrics\['x'\] = '1': expected a number"),
        ({"metrics": {"": 1.0}}, r"Decision.metrics name '': expected non-empty text"),
        ({"metrics": [("x", 1.0), ("x", 2.0)]}, r"expected unique names"),
    ],
)
def test_invalid_decisions_are_rejected(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidDecisionError, match=message):
        decision(**changes)
