"""The pure shaping behind the pages: heartbeat numbers, breaker state, filters, grids."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from v6.config.risk import CircuitBreakerConfig
from v6.dashboard.frames import (
    Book,
    concentration,
    control_state,
    filter_book,
    greek_grid,
    heartbeat_metrics,
)
from v6.risk.circuit_breaker import BreakerState, CircuitBreaker, FailureKind
from v6.risk.events import RiskEvent, RiskEventKind
from v6.store import Store, StoreLocation
from v6.store.catalog import RISK_EVENTS

T0 = datetime(2024, 3, 4, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("depth=12 oldest_mark_s=31.5", {"depth": (12.0, None), "oldest_mark_s": (31.5, None)}),
        ("marked 24 legs; lines=8/10", {"lines": (8.0, 10.0)}),
        ("lag2=1e+06 lines=3/1e+02", {"lag2": (1e6, None), "lines": (3.0, 100.0)}),
        ("connected", {}),
        (None, {}),
    ],
)
def test_heartbeat_numbers(message: str | None, expected: dict[str, object]) -> None:
    assert heartbeat_metrics(message) == expected


def events_frame(folder: Path, events: list[RiskEvent]) -> pl.DataFrame:
    """The events as the dashboard reads them: recorded through the store, read back."""
    writer = Store(StoreLocation(str(folder)), app_id="engine")
    writer.risk_events.record(events)
    writer.flush()
    columns = ["at", "kind", "reason", "details"]
    frame = pl.from_arrow(
        Store(StoreLocation(str(folder))).reader.read(RISK_EVENTS, columns=columns)
    )
    assert isinstance(frame, pl.DataFrame)
    return frame


def test_control_state_follows_the_breakers_own_events(tmp_path: Path) -> None:
    breaker = CircuitBreaker(CircuitBreakerConfig(failure_threshold=2))
    state, events = BreakerState(), []
    for minute in (0, 1):
        step = breaker.record_failure(state, FailureKind.ORDER_REJECT, T0.replace(minute=minute))
        state, events = step.state, [*events, *step.events]
    assert control_state(events_frame(tmp_path / "none", [])).trading == "active"
    tripped = control_state(events_frame(tmp_path / "tripped", events))
    assert (tripped.breaker, tripped.trading) == ("open", "reducing")
    assert tripped.breaker_since == T0.replace(minute=1)


def test_halt_then_resume(tmp_path: Path) -> None:
    halt = RiskEvent(RiskEventKind.TRADING_HALTED, T0, "operator: maintenance")
    resume = RiskEvent(RiskEventKind.TRADING_RESUMED, T0.replace(hour=16), "operator")
    halted = control_state(events_frame(tmp_path / "halted", [halt]))
    assert (halted.trading, halted.halt_reason) == ("halted", "operator: maintenance")
    assert control_state(events_frame(tmp_path / "resumed", [resume, halt])).trading == "active"


def small_book() -> Book:
    strategies = pl.DataFrame(
        {
            "strategy_id": ["a", "b", "c"],
            "underlying": ["SPY", "SPY", "QQQ"],
            "status": ["open", "closing", "open"],
            "kind": ["iron_condor", "vertical", "iron_condor"],
            "max_loss": [300.0, 100.0, 600.0],
        }
    )
    legs = pl.DataFrame(
        {
            "strategy_id": ["a", "a", "b", "c"],
            "underlying": ["SPY", "SPY", "SPY", "QQQ"],
            "expiry": [date(2024, 4, 19), date(2024, 5, 17), date(2024, 4, 19), date(2024, 4, 19)],
            "pos_delta": [10.0, -4.0, 1.5, -7.0],
        }
    )
    return Book(strategies, legs)


def test_filters_keep_matching_strategies_and_their_legs() -> None:
    chosen = filter_book(small_book(), symbols=["SPY"], statuses=["open"])
    assert chosen.strategies["strategy_id"].to_list() == ["a"]
    assert chosen.legs["strategy_id"].to_list() == ["a", "a"]
    assert filter_book(small_book()).strategies.height == 3


def test_greek_grid_sums_by_symbol_and_expiry() -> None:
    grid = greek_grid(small_book().legs, "delta")
    assert grid.columns == ["underlying", "2024-04-19", "2024-05-17"]
    assert grid.rows() == [("QQQ", -7.0, None), ("SPY", 11.5, -4.0)]
    with pytest.raises(ValueError, match="greek 'rho'"):
        greek_grid(small_book().legs, "rho")


def test_concentration_shares_of_max_loss() -> None:
    shares = concentration(small_book().strategies)
    assert shares.select("underlying", "strategies", "share").rows() == [
        ("QQQ", 1, 0.6),
        ("SPY", 2, 0.4),
    ]
