"""Trailing stops: arming, the trailing level, whipsaw protection (consecutive valid marks or
elapsed time; absurd and repeated marks ignored), and restarts through to_record/from_record.

One strategy with a maximum profit of 200: the stop arms at a profit of 60 (30%) and, with
the peak at P, trails at 0.6 x P (40% given back); a hit needs 3 marks or 60 s.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from v6.config.risk import TrailingStopConfig
from v6.decisions import TRAILING_SCHEMA
from v6.risk import TrailingState, TrailingStopManager, TrailingUpdate
from v6.risk.trailing_stop import STATE_SCHEMA
from v6.table import ArrayTable

START = datetime(2024, 1, 10, 15, tzinfo=UTC)
MANAGER = TrailingStopManager(TrailingStopConfig())


def marks(
    pnl: float | None,
    at: datetime,
    *,
    spread: float | None = 0.1,
    quote_ok: bool = True,
    strategy_id: str = "s",
) -> pl.DataFrame:
    return pl.DataFrame(
        [(strategy_id, pnl, 200.0, at, spread, quote_ok)],
        schema={
            "strategy_id": pl.String,
            "pnl": pl.Float64,
            "max_profit": pl.Float64,
            "mark_time": pl.Datetime("us", "UTC"),
            "spread_fraction": pl.Float64,
            "quote_ok": pl.Boolean,
        },
        orient="row",
    )


Mark = tuple[float | None, float]  # (pnl, seconds since START)


def run(
    path: Sequence[Mark], state: TrailingState | None = None, **mark_options: object
) -> list[TrailingUpdate]:
    state = state or TrailingState()
    updates = []
    for pnl, seconds in path:
        frame = marks(pnl, START + timedelta(seconds=seconds), **mark_options)  # type: ignore[arg-type]
        update = MANAGER.update(state, ArrayTable.of_frame(frame))
        state = update.state
        updates.append(update)
    return updates


def hit(updates: list[TrailingUpdate]) -> bool:
    return "s" in updates[-1].hits


def test_it_arms_at_the_activation_profit_and_trails_the_peak() -> None:
    updates = run([(50.0, 0), (60.0, 10), (150.0, 20), (120.0, 30)])
    context = [u.context.frame.row(0, named=True) for u in updates]

    assert [c["trailing_level"] for c in context] == [
        None,
        pytest.approx(36.0),
        pytest.approx(90.0),
        pytest.approx(90.0),
    ]
    assert [c["trailing_peak"] for c in context] == [None, 60.0, 150.0, 150.0]
    assert not any(c["trailing_hit"] for c in context)
    assert updates[-1].context.frame.schema == TRAILING_SCHEMA


def test_three_consecutive_marks_at_or_below_the_level_hit_it() -> None:
    """Peak 150 -> level 90; marks 5 s apart, so time alone would not confirm."""
    path = [(150.0, 0), (90.0, 5), (85.0, 10)]

    assert not hit(run(path))
    assert hit(run([*path, (80.0, 15)]))


def test_a_breach_lasting_the_confirm_time_hits_it_with_fewer_marks() -> None:
    assert not hit(run([(150.0, 0), (80.0, 1), (80.0, 60)]))
    assert hit(run([(150.0, 0), (80.0, 1), (80.0, 61)]))


def test_whipsaw_a_recovery_between_breaches_resets_the_count() -> None:
    path = [(150.0, 0), (85.0, 5), (85.0, 10), (95.0, 15), (85.0, 20), (85.0, 25)]

    assert not hit(run(path))
    assert hit(run([*path, (85.0, 30)]))


def test_marks_with_an_absurd_spread_neither_count_nor_reset() -> None:
    state = run([(150.0, 0), (85.0, 5), (85.0, 10)])[-1].state
    wide = run([(40.0, 15), (140.0, 20)], state, spread=0.9)
    crossed = run([(40.0, 25)], wide[-1].state, quote_ok=False)
    unknown = run([(None, 30)], crossed[-1].state)

    assert not hit(wide)
    assert not hit(crossed)
    assert not hit(unknown)
    assert unknown[-1].state.frame["breach_marks"].item() == 2
    assert unknown[-1].state.frame["peak_pnl"].item() == 150.0
    assert hit(run([(85.0, 35)], unknown[-1].state))


def test_a_nan_profit_is_no_mark_like_a_null_one() -> None:
    """A NaN profit (a leg marked NaN) neither arms, nor moves the peak, nor breaches, nor
    resets a breach, nor takes the mark's time: it is ignored exactly like a null one."""
    state = run([(150.0, 0), (85.0, 5), (85.0, 10)])[-1].state
    nan = run([(math.nan, 15)], state)
    null = run([(None, 15)], state)

    assert nan[-1].state.frame.equals(null[-1].state.frame)
    assert nan[-1].state.frame.equals(state.frame)
    assert nan[-1].context.frame["trailing_peak"].item() == 150.0
    assert not run([(math.nan, 0), (math.nan, 5)])[-1].state.frame["armed"].item()


def test_a_nan_max_profit_never_arms() -> None:
    frame = marks(150.0, START).with_columns(max_profit=pl.lit(math.nan))
    update = MANAGER.update(TrailingState(), ArrayTable.of_frame(frame))

    assert not update.state.frame["armed"].item()
    assert update.context.frame["trailing_level"].is_null().all()


def test_a_state_with_nulls_reads_them_as_a_new_strategy_s() -> None:
    """Nulls in a state (a row built by hand) mean unarmed, no breach, no hit, no mark."""
    nulls = pl.DataFrame([("s", None, None, None, None, None, None)], STATE_SCHEMA, orient="row")
    from_nulls = run([(150.0, 0), (85.0, 5)], TrailingState(nulls))
    fresh = run([(150.0, 0), (85.0, 5)])

    for a, b in zip(from_nulls, fresh, strict=True):
        assert a.state.frame.equals(b.state.frame)
        assert a.context.frame.equals(b.context.frame)


def test_a_repeated_mark_counts_once() -> None:
    assert not hit(run([(150.0, 0), (85.0, 5), (85.0, 5), (85.0, 5)]))


def test_a_hit_stays_hit_while_the_strategy_is_in_the_book() -> None:
    updates = run([(150.0, 0), (80.0, 1), (80.0, 2), (80.0, 3), (190.0, 4)])

    assert hit(updates)
    assert updates[-1].context.frame["trailing_peak"].item() == 190.0


def test_it_never_arms_below_the_activation_profit() -> None:
    updates = run([(59.0, 0), (-100.0, 5), (-100.0, 10), (-100.0, 15)])

    assert not updates[-1].state.frame["armed"].item()
    assert not hit(updates)


def test_strategies_that_left_the_book_are_forgotten() -> None:
    state = run([(150.0, 0)])[-1].state
    other = MANAGER.update(
        state, ArrayTable.of_frame(marks(10.0, START, strategy_id="other"))
    ).state

    assert other.frame["strategy_id"].to_list() == ["other"]


def test_a_reordered_or_grown_book_keeps_every_strategy_s_own_stop() -> None:
    def book(rows: Sequence[tuple[str, float]], seconds: int) -> pl.DataFrame:
        at = START + timedelta(seconds=seconds)
        return pl.concat([marks(pnl, at, strategy_id=name) for name, pnl in rows])

    armed = MANAGER.update(
        TrailingState(), ArrayTable.of_frame(book([("a", 150.0), ("b", 100.0)], 0))
    ).state
    same_order = MANAGER.update(
        armed, ArrayTable.of_frame(book([("a", 80.0), ("b", 90.0)], 10))
    ).state
    reordered = MANAGER.update(
        armed, ArrayTable.of_frame(book([("new", 50.0), ("b", 90.0), ("a", 80.0)], 10))
    ).state

    assert reordered.frame["strategy_id"].to_list() == ["new", "b", "a"]
    assert (
        reordered.frame.filter(pl.col("strategy_id") != "new")
        .sort("strategy_id")
        .equals(same_order.frame)
    )
    assert same_order.frame["breach_marks"].to_list() == [1, 0]


def test_a_restart_from_the_record_continues_identically() -> None:
    path = [
        (50.0, 0),
        (150.0, 5),
        (85.0, 10),
        (85.0, 10),
        (85.0, 15),
        (90.0, 16),
        (85.0, 80),
        (80.0, 81),
    ]
    straight = run(path)
    state = TrailingState()
    restarted = []
    for pnl, seconds in path:
        state = TrailingState.from_record(json.loads(json.dumps(state.to_record())))
        update = MANAGER.update(
            state, ArrayTable.of_frame(marks(pnl, START + timedelta(seconds=seconds)))
        )
        restarted.append(update)
        state = update.state

    for a, b in zip(straight, restarted, strict=True):
        assert a.state.frame.equals(b.state.frame)
        assert a.context.frame.equals(b.context.frame)
    assert hit(straight)


def test_the_record_lists_strategies_by_id_whatever_the_order_of_the_book() -> None:
    at = START + timedelta(seconds=5)
    book = pl.concat([marks(150.0, at, strategy_id=name) for name in ("c", "a", "b")])
    state = MANAGER.update(TrailingState(), ArrayTable.of_frame(book)).state
    record = state.to_record()
    rows = record["strategies"]

    assert state.frame["strategy_id"].to_list() == ["c", "a", "b"]
    assert isinstance(rows, list)
    assert [row["strategy_id"] for row in rows] == ["a", "b", "c"]
    reordered = TrailingState(state.frame.sort("strategy_id", descending=True))
    assert reordered.to_record() == record


def test_a_bad_record_is_refused_by_field() -> None:
    record = run([(150.0, 0)])[-1].state.to_record()
    (row,) = record["strategies"]  # type: ignore[misc]

    with pytest.raises(ValueError, match=r"strategies\[0\].breach_marks = -1"):
        TrailingState.from_record({**record, "strategies": [{**row, "breach_marks": -1}]})
    with pytest.raises(ValueError, match=r"TrailingState.version"):
        TrailingState.from_record({"strategies": []})
    with pytest.raises(ValueError, match=r"TrailingState.frame schema"):
        TrailingState(pl.DataFrame({"strategy_id": ["x"]}))
