"""Repositories: every entity written through the store and read back equal."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from v6.domain import (
    Action,
    Alert,
    Decision,
    Fill,
    Greeks,
    IntentKind,
    Leg,
    OptionContract,
    Position,
    Right,
    Severity,
    StockContract,
    Strategy,
    StrategyKind,
    StrategyStatus,
)
from v6.risk import RiskEvent, RiskEventKind
from v6.store import (
    AccountSnapshot,
    Command,
    CommandStatus,
    HealthStatus,
    Heartbeat,
    LegSnapshot,
    OrderRecord,
    OrderStatus,
    ReadOnlyStoreError,
    ReconciliationEvent,
    RecordedDecision,
    Store,
    StoreLocation,
)
from v6.store.catalog import RISK_EVENTS

T0 = datetime(2024, 1, 2, 15, 0, tzinfo=UTC)
EXPIRY = date(2024, 2, 16)

PUT = OptionContract("SPY", EXPIRY, Decimal("440"), Right.PUT)
SNAPSHOT_GREEKS = ("delta", "gamma", "theta", "vega", "rho")


def condor(strategy_id: str, status: StrategyStatus = StrategyStatus.OPEN) -> Strategy:
    """A SPY iron condor 430/440/470/480 (OPEN at T0 unless PENDING)."""
    legs = tuple(
        Leg(OptionContract("SPY", EXPIRY, strike, right), quantity)
        for strike, right, quantity in (
            (430, Right.PUT, 1),
            (440, Right.PUT, -1),
            (470, Right.CALL, -1),
            (480, Right.CALL, 1),
        )
    )
    opened = None if status is StrategyStatus.PENDING else T0
    return Strategy(
        strategy_id,
        StrategyKind.IRON_CONDOR,
        legs,
        quantity=2,
        status=status,
        entry_premium=2.15,
        opened_at=opened,
    )


def test_live_strategies_come_back_with_their_legs(store: Store) -> None:
    open_one, pending, closed = (
        condor("ic-1"),
        condor("ic-2", StrategyStatus.PENDING),
        condor("ic-3"),
    )
    closed = closed.transition_to(StrategyStatus.CLOSED, T0 + timedelta(days=1))
    store.strategies.save([open_one, pending, closed], at=T0)
    store.flush()
    assert store.strategies.live() == [open_one, pending]
    assert store.strategies.get("ic-3") == closed
    assert store.strategies.get("nope") is None


def test_a_status_change_is_saved_over_the_old_state(store: Store) -> None:
    strategy = condor("ic-1")
    store.strategies.save([strategy], at=T0)
    store.flush()
    closing = strategy.transition_to(StrategyStatus.CLOSING, T0 + timedelta(hours=1))
    store.strategies.save([closing], at=T0 + timedelta(hours=1))
    store.flush()
    assert store.strategies.live() == [closing]


def test_positions_as_last_seen_with_flat_ones_on_request(store: Store) -> None:
    stock = Position("U1", StockContract("SPY"), 100, 45_000.0)
    short_put = Position("U1", PUT, -2, 310.0)
    store.positions.save([stock, short_put], at=T0)
    store.flush()
    store.positions.save([Position("U1", PUT, 0, 0.0)], at=T0 + timedelta(minutes=5))
    store.flush()
    assert store.positions.current("U1") == [stock]
    assert store.positions.current(include_flat=True) == [stock, Position("U1", PUT, 0, 0.0)]


def test_the_latest_snapshot_of_each_leg(store: Store) -> None:
    call = OptionContract("SPY", EXPIRY, 470, Right.CALL)
    greeks = Greeks(-0.2, 0.01, -0.05, 0.3, -0.02)
    snapshots = [
        LegSnapshot("ic-1", contract, T0 + timedelta(minutes=m), mark=m + 1.0, greeks=greeks)
        for m in (0, 5, 10)
        for contract in (PUT, call)
    ]
    store.snapshots.record(snapshots)
    store.flush()
    latest = store.snapshots.latest(T0.date())
    assert set(latest) == {("ic-1", PUT.occ_symbol), ("ic-1", call.occ_symbol)}
    assert latest[("ic-1", PUT.occ_symbol)] == snapshots[4]
    assert store.snapshots.day(T0.date()).num_rows == 6
    assert store.snapshots.latest(T0.date() + timedelta(days=1)) == {}


def test_snapshots_recorded_as_a_frame_are_the_records_rows(tmp_path: Path) -> None:
    late = datetime(2024, 1, 3, 2, 30, tzinfo=UTC)  # 21:30 in New York: the 2nd's session
    greeks = Greeks(-0.2, 0.01, -0.05, 0.3, -0.02)
    snapshots = [
        LegSnapshot("ic-1", PUT, T0, mark=1.5, bid=1.4, ask=1.6, implied_vol=0.2, greeks=greeks),
        LegSnapshot("ic-2", PUT, late, mark=1.25, underlying_price=470.0),
    ]
    as_records = Store(StoreLocation(str(tmp_path / "records")), "engine")
    as_records.snapshots.record(snapshots)
    as_frame = Store(StoreLocation(str(tmp_path / "frame")), "engine")
    as_frame.snapshots.record_frame(
        pl.DataFrame(
            {
                "strategy_id": ["ic-1", "ic-2"],
                "occ_symbol": [PUT.occ_symbol] * 2,
                "at": [T0, late],
                "mark": [1.5, 1.25],
                "bid": [1.4, None],
                "ask": [1.6, None],
                "implied_vol": [0.2, None],
                "underlying_price": [None, 470.0],
                **{name: [getattr(greeks, name), None] for name in SNAPSHOT_GREEKS},
            }
        ).to_arrow()
    )
    as_records.flush()
    as_frame.flush()

    assert as_frame.snapshots.day(T0.date()).equals(as_records.snapshots.day(T0.date()))
    assert as_frame.snapshots.day(T0.date()).num_rows == 2


def test_orders_and_their_fills(store: Store) -> None:
    strategy = condor("ic-1")
    order = OrderRecord(
        "1001", "ic-1", IntentKind.OPEN, 1, strategy.legs, 2, -2.15,
        OrderStatus.SUBMITTED, submitted_at=T0, updated_at=T0,
    )  # fmt: skip
    fills = [
        Fill("e1", "1001", leg.contract, leg.quantity * 2, 1.0, 0.65, T0 + timedelta(seconds=2))
        for leg in strategy.legs
    ]
    fills = [Fill(f"e{i}", f.order_id, f.contract, f.quantity, f.price, f.commission, f.time)
             for i, f in enumerate(fills)]  # fmt: skip
    store.orders.save([order])
    store.executions.record(fills)
    store.flush()
    assert store.orders.working() == [order]
    filled = OrderRecord(
        "1001", "ic-1", IntentKind.OPEN, 1, strategy.legs, 2, -2.15, OrderStatus.FILLED,
        submitted_at=T0, updated_at=T0 + timedelta(seconds=3), filled_quantity=2,
        avg_fill_price=-2.1,
    )  # fmt: skip
    store.orders.save([filled])
    store.executions.record(fills)
    store.flush()
    assert store.orders.working() == []
    assert store.orders.get("1001") == filled
    assert store.orders.for_strategy("ic-1") == [filled]
    assert store.executions.for_order("1001") == fills
    assert filled.order_ref == "ic-1:open:1"


def test_every_triggered_rule_is_kept_beside_the_deciding_verdict(store: Store) -> None:
    later = T0 + timedelta(minutes=5)
    stop = Decision("ic-1", "stop_loss", 5, Action.CLOSE, "loss 2x credit", {"pnl": -4.3}, T0)
    delta = Decision("ic-1", "delta_breach", 6, Action.ROLL, "|delta| 0.41", {"delta": -0.41}, T0)
    hold = Decision("ic-1", "hold", 0, Action.HOLD, "no rule triggered", {}, later)
    other = Decision("ic-2", "hold", 0, Action.HOLD, "no rule triggered", {}, T0)
    store.decisions.record([stop, other], [stop, delta])
    store.decisions.record([hold])
    store.flush()

    assert store.decisions.for_strategy("ic-1") == [stop, hold]
    assert store.decisions.history("ic-1") == [
        RecordedDecision(stop, True),
        RecordedDecision(stop, False),
        RecordedDecision(delta, False),
        RecordedDecision(hold, True),
    ]
    assert [r.decision.strategy_id for r in store.decisions.history(since=T0)] == [
        "ic-1", "ic-1", "ic-1", "ic-2", "ic-1",
    ]  # fmt: skip
    assert store.decisions.history("ic-1", since=later) == [RecordedDecision(hold, True)]


def test_a_replayed_evaluation_adds_no_row_and_no_version(store: Store) -> None:
    stop = Decision("ic-1", "stop_loss", 5, Action.CLOSE, "loss 2x credit", {"pnl": -4.3}, T0)
    halt = Decision("ic-1", "halt", 1, Action.ALERT, "trading halted", {}, T0)
    store.decisions.record([stop], [halt, stop])
    first = store.flush()
    store.decisions.record([stop], [halt, stop])
    replay = store.flush()

    assert [(f.rows, f.version) for f in first] == [(3, 1)]
    assert [(f.rows, f.version, f.sequence) for f in replay] == [(0, 1, None)]
    assert len(store.decisions.history("ic-1")) == 3


def test_two_deciding_verdicts_for_one_evaluation_are_refused(store: Store) -> None:
    stop = Decision("ic-1", "stop_loss", 5, Action.CLOSE, "loss 2x credit", {}, T0)
    hold = Decision("ic-1", "hold", 0, Action.HOLD, "no rule triggered", {}, T0)
    with pytest.raises(ValueError, match="two deciding verdicts for strategy 'ic-1'"):
        store.decisions.record([stop, hold])


def test_decisions_alerts_and_events(store: Store) -> None:
    decision = Decision(
        "ic-1", "take_profit", 3, Action.CLOSE, "50% of max profit", {"pnl": 1.1}, T0
    )
    alert = Alert("a1", Severity.CRITICAL, "risk", "breaker tripped", "breaker", T0)
    info = Alert("a2", Severity.INFO, "sync", "reconnected", "conn", T0)
    risk = RiskEvent(
        RiskEventKind.INTENT_REJECTED, T0, "open rejected: |delta| 250.00 > 200", "ic-1",
        intent="open", limit="delta", value=250.0, limit_value=200.0,
    )  # fmt: skip
    trip = RiskEvent(
        RiskEventKind.BREAKER_TRANSITION, T0, "circuit breaker closed -> open: failures",
        from_state="closed", to_state="open",
    )  # fmt: skip
    recon = ReconciliationEvent("x1", T0, "U1", PUT.occ_symbol, "missing_in_store", -2, None)
    store.decisions.record([decision])
    store.alerts.save([info, alert])
    store.risk_events.record([trip, risk])
    store.reconciliation.record([recon])
    store.flush()
    assert store.decisions.for_strategy("ic-1") == [decision]
    assert store.decisions.for_strategy("ic-1", since=T0 + timedelta(seconds=1)) == []
    assert store.alerts.unacknowledged() == [alert, info]
    store.alerts.save([alert.acknowledge(T0 + timedelta(minutes=1))])
    store.flush()
    assert store.alerts.unacknowledged() == [info]
    assert store.risk_events.since(T0) == sorted([risk, trip], key=lambda e: e.event_id)
    rows = store.reader.read(RISK_EVENTS, filters=[("event_id", "=", risk.event_id)])
    assert rows.select(["level", "kind", "strategy_id", "details"]).to_pylist() == [
        {
            "level": "portfolio",
            "kind": "intent_rejected",
            "strategy_id": "ic-1",
            "details": '{"intent":"open","limit":"delta","limit_value":200.0,"value":250.0}',
        }
    ]
    assert store.reconciliation.since() == [recon]


def test_equity_curve_commands_and_heartbeats(store: Store) -> None:
    points = [AccountSnapshot("U1", T0 + timedelta(minutes=m), net_liquidation=1e5 + m)
              for m in (10, 0, 5)]  # fmt: skip
    command = Command("c1", "close_strategy", "dashboard", T0, {"strategy_id": "ic-1"})
    store.accounts.record(points)
    store.commands.submit([command])
    store.health.beat(
        [Heartbeat("engine", HealthStatus.OK, T0), Heartbeat("sync", HealthStatus.OK, T0)]
    )
    store.flush()
    assert [p.at.minute for p in store.accounts.equity_curve("U1")] == [0, 5, 10]
    assert store.commands.pending() == [command]
    done = command.with_status(CommandStatus.DONE, T0 + timedelta(seconds=5), "closed")
    store.commands.submit([done])
    store.health.beat([Heartbeat("engine", HealthStatus.DEGRADED, T0 + timedelta(seconds=5))])
    store.flush()
    assert store.commands.pending() == []
    assert store.commands.get("c1") == done
    assert [(h.component, h.status) for h in store.health.latest()] == [
        ("engine", HealthStatus.DEGRADED),
        ("sync", HealthStatus.OK),
    ]


def test_a_read_only_store_reads_but_refuses_writes(store: Store) -> None:
    store.strategies.save([condor("ic-1")], at=T0)
    store.flush()
    reader = Store(store.location)
    assert [s.strategy_id for s in reader.strategies.live()] == ["ic-1"]
    assert reader.flush() == []
    with pytest.raises(ReadOnlyStoreError, match="opened read-only"):
        reader.strategies.save([condor("ic-2")], at=T0)


def test_naive_times_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"Heartbeat\.at = .*expected a timezone-aware datetime"):
        Heartbeat("engine", HealthStatus.OK, T0.replace(tzinfo=None))


def test_the_risk_state_is_one_record_per_component_and_unchanged_saves_commit_nothing(
    store: Store,
) -> None:
    breaker = {"version": 1, "status": "open", "failures": ["2024-01-02T15:00:00+00:00"]}
    trailing = {"version": 1, "strategies": [{"strategy_id": "ic-1", "peak_pnl": 150.0}]}
    store.risk_state.save({"circuit_breaker": breaker, "trailing_stops": trailing}, T0)
    first = store.flush()
    store.risk_state.save({"circuit_breaker": breaker}, T0 + timedelta(minutes=1))
    unchanged = store.flush()
    closed = {**breaker, "status": "closed", "failures": []}
    store.risk_state.save({"circuit_breaker": closed}, T0 + timedelta(minutes=2))
    store.flush()

    assert [f.rows for f in first] == [2]
    assert [f.sequence for f in unchanged] == [None]
    assert Store(store.location).risk_state.load() == {
        "circuit_breaker": closed,
        "trailing_stops": trailing,
    }


def test_save_new_skips_stored_alerts_and_keeps_their_acknowledgement(store: Store) -> None:
    alert = Alert("a1", Severity.CRITICAL, "risk", "breaker tripped", "breaker", T0)
    later = Alert("a2", Severity.WARNING, "risk", "delta over its limit", "delta", T0)
    assert store.alerts.save_new([alert]) == [alert]
    store.flush()
    store.alerts.save([alert.acknowledge(T0 + timedelta(minutes=1))])
    store.flush()

    assert store.alerts.save_new([alert, later]) == [later]
    assert store.alerts.save_new([]) == []
    store.flush()
    assert store.alerts.unacknowledged() == [later]
    assert store.alerts.get("a1") == alert.acknowledge(T0 + timedelta(minutes=1))


def test_save_new_recognises_alerts_stored_before_the_store_was_opened(
    location: StoreLocation,
) -> None:
    alert = Alert("a1", Severity.CRITICAL, "risk", "breaker tripped", "breaker", T0)
    first = Store(location, app_id="engine")
    first.alerts.save_new([alert])
    first.flush()

    restarted = Store(location, app_id="engine")
    assert restarted.alerts.save_new([alert]) == []
    acknowledged = alert.acknowledge(T0 + timedelta(minutes=1))
    dashboard = Store(location, app_id="dashboard")
    dashboard.alerts.save([acknowledged])
    dashboard.flush()
    fresh = Alert("a2", Severity.INFO, "fills", "filled", "o1", T0 + timedelta(minutes=5))
    assert restarted.alerts.save_new([alert, fresh]) == [fresh]
    restarted.flush()

    assert restarted.alerts.get("a1") == acknowledged
    assert restarted.alerts.save_new([fresh]) == []
    assert restarted.alerts.unacknowledged() == [fresh]


def test_acknowledging_an_older_alert_does_not_let_a_newer_one_be_saved_twice(
    store: Store,
) -> None:
    old = Alert("a1", Severity.WARNING, "risk", "delta over its limit", "delta", T0)
    new = Alert("a2", Severity.CRITICAL, "risk", "breaker tripped", "breaker", T0 + timedelta(1))
    assert store.alerts.save_new([old]) == [old]
    assert store.alerts.save_new([new]) == [new]
    store.flush()
    store.alerts.save([old.acknowledge(T0 + timedelta(minutes=1))])
    store.flush()

    assert store.alerts.save_new([new]) == []
