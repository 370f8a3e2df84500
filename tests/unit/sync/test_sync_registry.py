"""The registry: distances to each trigger against hand-computed values, hysteresis, order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from v6.book import QUOTES_SCHEMA, build_book, summarize
from v6.config.decisions import DecisionsConfig
from v6.config.sync import SyncConfig
from v6.domain import Leg, OptionContract, Right, Strategy, StrategyKind, StrategyStatus
from v6.sync.registry import StrategyRegistry, trigger_inputs

NOW = datetime(2024, 3, 4, 15, 0, tzinfo=UTC)
TODAY = date(2024, 3, 4)
CREDIT = 2.00


@dataclass(frozen=True)
class Spread:
    """A bull put vertical (credit 2.00 on a 10-wide spread) and its market now: the combo's
    value per share, the short put's delta and the days to expiry; ``value=None`` leaves the
    legs without marks. ``book_of`` gives each spread its own strikes (``slot``)."""

    sid: str
    value: float | None = CREDIT
    short_delta: float = 0.10
    dte: int = 45
    managed: bool = True

    def strategy(self, slot: int) -> Strategy:
        expiry = TODAY + timedelta(days=self.dte)
        short = 480 - 20 * slot
        legs = (
            Leg(OptionContract("SPY", expiry, short, Right.PUT), -1),
            Leg(OptionContract("SPY", expiry, short - 10, Right.PUT), 1),
        )
        return Strategy(
            self.sid,
            StrategyKind.VERTICAL if self.managed else StrategyKind.CUSTOM,
            legs,
            status=StrategyStatus.OPEN,
            entry_premium=CREDIT,
            opened_at=NOW - timedelta(days=5),
            defined_risk=self.managed,
        )

    def quotes(self, slot: int) -> list[dict[str, object]]:
        if self.value is None:
            return []
        long, short = self.strategy(slot).legs
        marks = ((short, self.value + 0.5, -self.short_delta), (long, 0.5, -0.05))
        return [
            {
                "occ_symbol": leg.contract.occ_symbol,
                "bid": mark - 0.05,
                "ask": mark + 0.05,
                "mark": mark,
                "delta": delta,
                "mark_time": NOW,
            }
            for leg, mark, delta in marks
        ]


def book_of(*spreads: Spread) -> pl.DataFrame:
    rows = [row for slot, spread in enumerate(spreads) for row in spread.quotes(slot)]
    quotes = pl.DataFrame(rows, schema=QUOTES_SCHEMA) if rows else QUOTES_SCHEMA.to_frame()
    unmanaged = {s.sid for s in spreads if not s.managed}
    strategies = [spread.strategy(slot) for slot, spread in enumerate(spreads)]
    return build_book(strategies, quotes, unmanaged=unmanaged)


def distances(registry: StrategyRegistry, *spreads: Spread) -> dict[str, float | None]:
    return dict(registry.distances(book_of(*spreads), NOW).iter_rows())


def registry(**rules: bool) -> StrategyRegistry:
    decisions = DecisionsConfig.model_validate(
        {name: {"enabled": enabled} for name, enabled in rules.items()}
    )
    return StrategyRegistry(SyncConfig(), decisions)


def test_each_trigger_is_measured_relative_to_its_threshold() -> None:
    found = distances(
        registry(),
        Spread("profit", value=1.2),  # captured 40% of 50%: (0.5 - 0.4) / 0.5
        Spread("stop", value=5.0),  # loss 1.5x of 2x: (2 - 1.5) / 2
        Spread("delta", short_delta=0.29),  # |delta| 0.29 of 0.30
        Spread("dte", dte=22),  # 22 days of 21
        Spread("beyond", value=0.8),  # captured 60%: beyond the target
    )

    assert found["profit"] == pytest.approx(0.2)
    assert found["stop"] == pytest.approx(0.25)
    assert found["delta"] == pytest.approx(0.01 / 0.30)
    assert found["dte"] == pytest.approx(1 / 21)
    assert found["beyond"] == pytest.approx(-0.2)


@pytest.mark.parametrize("interleaved", [False, True])
def test_the_trigger_inputs_follow_the_decision_engines_strategy_summary(
    interleaved: bool,
) -> None:
    book = book_of(Spread("a", value=1.2), Spread("b", value=None), Spread("c", managed=False))
    if interleaved:  # a strategy's legs need not be next to each other
        book = book[[0, 2, 4, 1, 3, 5]]

    ours = trigger_inputs(book, TODAY)

    reference = summarize(book, TODAY).frame
    assert ours.strategy_ids == tuple(reference["strategy_id"])
    assert ours.managed.tolist() == reference["managed"].to_list()
    for name in ("entry_credit", "max_profit", "pnl", "dte"):
        expected = reference[name].cast(pl.Float64).to_numpy()
        np.testing.assert_array_equal(getattr(ours, name), expected, err_msg=name)
    np.testing.assert_array_equal(ours.short_delta, [0.10, np.nan, 0.10])


def test_a_leg_without_a_mark_leaves_only_the_dte_and_unmanaged_have_none() -> None:
    found = distances(registry(), Spread("unmarked", value=None), Spread("adopted", managed=False))

    assert found["unmarked"] == pytest.approx((45 - 21) / 21)
    assert found["adopted"] is None


def test_disabled_rules_do_not_count() -> None:
    spread = Spread("profit", value=1.2)

    assert distances(registry(take_profit=False), spread)["profit"] == pytest.approx(2 / 3)
    off = registry(take_profit=False, stop_loss=False, delta_breach=False, time_exit=False)
    assert distances(off, spread)["profit"] is None


def near(sid: str, distance: float) -> Spread:
    """A spread whose nearest trigger is the delta breach at ``distance``."""
    return Spread(sid, short_delta=0.30 * (1 - distance))


def test_hysteresis_enters_at_the_enter_fraction_and_leaves_beyond_the_exit_fraction() -> None:
    reg = registry()

    def active(distance: float, at: datetime) -> bool:
        return "s" in reg.update(book_of(near("s", distance)), at).active

    assert not active(0.04, NOW)
    assert active(0.02, NOW)
    assert active(0.06, NOW + timedelta(seconds=30))  # held for min_stream_seconds
    assert active(0.04, NOW + timedelta(seconds=120))  # inside the exit band
    assert not active(0.06, NOW + timedelta(seconds=150))
    assert reg.active_since == {}


def test_a_strategy_stays_active_for_the_minimum_time() -> None:
    reg = registry()
    reg.update(book_of(near("s", 0.0)), NOW)

    assert reg.update(book_of(near("s", 0.9)), NOW + timedelta(seconds=59)).active == ("s",)
    assert reg.update(book_of(near("s", 0.9)), NOW + timedelta(seconds=60)).active == ()
    assert reg.update(book_of(), NOW + timedelta(seconds=61)).active == ()


def test_in_flight_strategies_come_first_then_the_closest() -> None:
    reg = registry()
    book = book_of(near("far", 0.5), near("b", 0.02), near("a", 0.02), near("c", -0.1))

    activity = reg.update(book, NOW, in_flight={"pending-entry", "far"})

    assert activity.active == ("far", "pending-entry", "c", "a", "b")
    assert activity.in_flight == {"pending-entry", "far"}
    assert reg.active_since["c"] == NOW
