"""Priority resolution, halt, the market veto, disabled rules, records and explanations, and
properties over random books."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import numpy as np
import polars as pl
import pytest
from decision_books import NOW, TODAY, Quote, book_of, decide, put_spread, quotes_frame
from hypothesis import given, settings
from hypothesis import strategies as st

from v6.book import BOOK_SCHEMA
from v6.config.decisions import (
    DecisionsConfig,
    DeltaBreachRule,
    HaltRule,
    MarketVeto,
    TimeExitRule,
)
from v6.decisions import (
    DECISION_COLUMNS,
    LIMIT_TARGET_SCHEMA,
    RULES,
    VETO_RULE,
    CycleContext,
    CycleDecisions,
    DecisionEngine,
)
from v6.domain import Action, Decision, Strategy

RULE_NAMES = [rule.__name__ for rule in RULES]


def spread(
    strategy_id: str,
    short_mark: float,
    long_mark: float,
    *,
    dte: int = 30,
    short_delta: float = -0.12,
    width: float = 0.04,
    short: float = 440,
) -> tuple[Strategy, pl.DataFrame]:
    """A put spread ``short`` / ``short`` - 10 priced as given, the underlying at 445 (give
    strategies of one book different strikes: quotes are per contract)."""
    strategy = put_spread(strategy_id, short=short, long=short - 10, dte=dte)
    quotes = [
        Quote(mark=long_mark, delta=-0.05, width=width),
        Quote(mark=short_mark, delta=short_delta, width=width),
    ]
    return strategy, quotes_frame(strategy, quotes, 445.0)


QUIET = {"short_mark": 2.0, "long_mark": 0.6}  # P&L 60: nothing fires
PROFIT = {"short_mark": 1.5, "long_mark": 0.5}  # P&L 100: take profit
LOSS = {"short_mark": 9.0, "long_mark": 1.0}  # loss 600: catastrophic and stop loss


def decisions_of(
    book: pl.DataFrame, config: DecisionsConfig | None = None, **context: object
) -> dict[str, Decision]:
    return {d.strategy_id: d for d in decide(book, config, **context).decisions()}


def test_the_highest_priority_triggered_rule_decides() -> None:
    book = book_of(spread("a", **QUIET, dte=10, short_delta=-0.35))
    cycle = decide(book)
    decision = cycle.decisions()[0]

    assert (decision.rule, decision.priority, decision.action) == ("delta_breach", 6, Action.CLOSE)
    assert [d.rule for d in cycle.triggered()] == ["delta_breach", "time_exit"]
    assert cycle.trigger_counts() == {"delta_breach": 1, "time_exit": 1}


def test_a_catastrophic_loss_beats_the_stop_loss_and_closes_at_a_marketable_price() -> None:
    cycle = decide(book_of(spread("a", **LOSS)))

    assert cycle.frame["rule"].item() == "catastrophic_move"
    assert cycle.frame["marketable"].item() is True
    assert cycle.marketable() == {"a"}
    assert [d.rule for d in cycle.triggered()] == ["catastrophic_move", "stop_loss"]
    assert "marketable" in cycle.decisions()[0].reason


def test_a_disabled_rule_never_triggers_but_is_still_explained() -> None:
    config = DecisionsConfig(delta_breach=DeltaBreachRule(enabled=False))
    cycle = decide(book_of(spread("a", **QUIET, dte=10, short_delta=-0.35)), config)

    assert cycle.decisions()[0].rule == "time_exit"
    verdict = next(v for v in cycle.explain("a").verdicts if v.rule == "delta_breach")
    assert (verdict.enabled, verdict.triggered) == (False, False)
    assert dict(verdict.inputs)["short_put_delta"] == pytest.approx(0.35)


def test_every_rule_disabled_means_hold() -> None:
    switched_off = {name: {"enabled": False} for name in RULE_NAMES}
    config = DecisionsConfig.model_validate(switched_off)
    cycle = decide(book_of(spread("a", **LOSS, dte=0, short_delta=-0.9)), config, halted=True)

    assert cycle.decisions()[0].action is Action.HOLD
    assert cycle.triggered() == ()


def test_halt_with_close_positions_closes_everything() -> None:
    config = DecisionsConfig(halt=HaltRule(close_positions=True))
    book = book_of(spread("a", **QUIET), spread("b", **PROFIT, short=435))
    found = decisions_of(book, config, halted=True)

    assert {(d.rule, d.action) for d in found.values()} == {("halt", Action.CLOSE)}


def test_while_halted_closing_rules_pass_and_the_rest_alerts() -> None:
    found = decisions_of(
        book_of(spread("quiet", **QUIET), spread("win", **PROFIT, short=435)), halted=True
    )

    assert (found["quiet"].rule, found["quiet"].action) == ("halt", Action.ALERT)
    assert (found["win"].rule, found["win"].action) == ("take_profit", Action.CLOSE)


@pytest.mark.parametrize("context", [{"halted": True}, {"entries_allowed": False}])
def test_a_roll_becomes_a_close_when_entries_are_blocked(context: dict[str, bool]) -> None:
    config = DecisionsConfig(time_exit=TimeExitRule(roll=True))
    cycle = decide(book_of(spread("a", **QUIET, dte=15)), config, **context)
    decision = cycle.decisions()[0]

    assert (decision.rule, decision.action) == ("time_exit", Action.CLOSE)
    assert "roll became close" in decision.reason
    assert cycle.frame["roll_to_close"].item() is True


def test_an_exit_is_not_sent_into_an_absurd_market() -> None:
    cycle = decide(book_of(spread("a", **PROFIT, width=0.6)))  # widths 1.2 on a 1.00 mid
    decision = cycle.decisions()[0]

    assert (decision.rule, decision.priority, decision.action) == ("market_veto", 0, Action.HOLD)
    assert cycle.frame["vetoed_rule"].item() == "take_profit"
    assert decision.metric("vetoed_priority") == 10
    assert decision.metric("spread_fraction") == pytest.approx(1.2)
    assert "take_profit would close" in decision.reason
    assert cycle.vetoes() == (decision,)
    assert cycle.actionable() == ()


def test_rules_one_to_five_are_never_vetoed() -> None:
    decision = decide(book_of(spread("a", **LOSS, width=8.0))).decisions()[0]

    assert (decision.rule, decision.action) == ("catastrophic_move", Action.CLOSE)


def test_a_missing_quote_is_an_absurd_market() -> None:
    strategy, quotes = spread("a", **PROFIT)
    book = book_of((strategy, quotes.with_columns(bid=pl.lit(None, pl.Float64))))

    assert decide(book).frame["rule"].item() == "market_veto"


def test_the_veto_can_be_switched_off() -> None:
    config = DecisionsConfig(market_veto=MarketVeto(enabled=False))

    assert decide(book_of(spread("a", **PROFIT, width=0.6)), config).frame["rule"].item() == (
        "take_profit"
    )


def test_unmanaged_strategies_get_no_decision() -> None:
    book = book_of(
        spread("mine", **PROFIT), spread("adopted", **PROFIT, short=435), unmanaged=["adopted"]
    )

    assert decide(book).frame["strategy_id"].to_list() == ["mine"]


def test_records_carry_the_rule_inputs_under_short_names() -> None:
    cycle = decide(book_of(spread("a", **PROFIT), spread("b", **QUIET, short=435)))
    decisions = cycle.decisions()

    assert [d.strategy_id for d in decisions] == ["a", "b"]
    assert decisions[0].metrics_dict() == {"captured": 0.5, "pnl": 100.0, "max_profit": 200.0}
    assert decisions[0].at == NOW
    assert (decisions[1].rule, decisions[1].priority, decisions[1].metrics) == ("hold", 0, ())
    assert cycle.actionable() == (decisions[0],)


def test_the_explanation_shows_every_rule() -> None:
    cycle = decide(book_of(spread("a", **PROFIT)))
    explanation = cycle.explain("a")
    text = explanation.render()

    assert [v.rule for v in explanation.verdicts] == RULE_NAMES
    assert explanation.decision == cycle.decisions()[0]
    assert [v.rule for v in explanation.verdicts if v.triggered] == ["take_profit"]
    for name in RULE_NAMES:
        assert name in text
    assert "-> 50.0% of max profit captured (>= 50.0%): close" in text
    assert "profit_fraction=0.5" in text


def test_unknown_strategies_and_rules_are_named_in_the_error() -> None:
    cycle = decide(book_of(spread("a", **QUIET)))

    with pytest.raises(LookupError, match="'nope'"):
        cycle.explain("nope")
    with pytest.raises(LookupError, match="'nope'"):
        cycle.verdicts("nope")


@pytest.mark.parametrize("order", [("a", "b", "c"), ("c", "a", "b")])
def test_context_rows_meet_their_own_strategy_in_any_order(order: tuple[str, ...]) -> None:
    """The trailing-stop and limit contexts reach each strategy by id, whether they list the
    book's strategies in its order or another (with strategies missing, unknown or listed
    twice, and other column types): only "b" is hit and "c" is reduced."""
    book = book_of(*(spread(name, **QUIET, short=440 - 20 * i) for i, name in enumerate(order)))
    trailing = pl.DataFrame(
        {
            "strategy_id": ["x", "c", "b", "b"],
            "trailing_hit": [True, False, True, False],
            "trailing_peak": [1.0, 2.0, 150.0, 4.0],
            "trailing_level": [1.0, 2.0, 90.0, 4.0],
        },
        schema_overrides={"trailing_peak": pl.Float32},
    )
    targets = pl.DataFrame(
        [("c", "delta", 200.0, 260.0, 120.0)], schema=LIMIT_TARGET_SCHEMA, orient="row"
    )
    aligned = pl.DataFrame({"strategy_id": list(order)}).join(
        trailing.unique("strategy_id", keep="first"),
        on="strategy_id",
        how="left",
        maintain_order="left",
    )

    for context in (trailing, aligned):
        cycle = decide(book, trailing=context, limit_targets=targets)
        frame = cycle.frame.sort("strategy_id")

        assert frame["trailing_hit"].to_list() == [False, True, False]
        assert frame["trailing_peak"].to_list() == [None, 150.0, 2.0]
        assert frame.schema["trailing_peak"] == pl.Float64
        assert frame["limit_name"].to_list() == [None, None, "delta"]
        assert {d.strategy_id: d.rule for d in cycle.actionable()} == {
            "b": "trailing_stop",
            "c": "portfolio_limit",
        }


def test_the_context_wants_an_aware_time() -> None:
    with pytest.raises(ValueError, match=r"CycleContext.now"):
        CycleContext(datetime(2024, 1, 10, 15), TODAY)


def random_book(seed: int, count: int) -> pl.DataFrame:
    """Adversarial legs: any marks, crossed and missing quotes, expiries from today on."""
    rng = np.random.default_rng(seed)
    legs = rng.integers(1, 5, count)
    owner = np.repeat(np.arange(count), legs)
    rows = len(owner)

    def sometimes_null(values: np.ndarray) -> list[float | None]:
        return [None if rng.random() < 0.05 else float(v) for v in values]

    bid = rng.uniform(0, 10, rows)
    return pl.DataFrame(
        {
            "strategy_id": [f"s{i}" for i in owner],
            "kind": "custom",
            "underlying": rng.choice(["SPY", "QQQ"], count)[owner],
            "expiry": [TODAY + timedelta(days=int(d)) for d in rng.integers(0, 60, count)[owner]],
            "strike": rng.uniform(380, 520, rows).round(0),
            "right": rng.choice(["C", "P"], rows),
            "quantity": rng.choice([-2, -1, 1, 2], rows),
            "units": 1,
            "multiplier": 100,
            "entry_premium": rng.uniform(-3, 3, count)[owner],
            "max_profit": sometimes_null(rng.uniform(0, 500, count)[owner]),
            "max_loss": sometimes_null(rng.uniform(0, 1000, count)[owner]),
            "bid": sometimes_null(bid),
            "ask": sometimes_null(bid + rng.uniform(-0.5, 3, rows)),
            "mark": sometimes_null(bid + 0.1),
            "iv": 0.2,
            "delta": sometimes_null(rng.uniform(-1, 1, rows)),
            "gamma": sometimes_null(rng.uniform(0, 1, rows)),
            "theta": -5.0,
            "vega": 10.0,
            "underlying_price": sometimes_null(rng.uniform(400, 500, count)[owner]),
            "ex_div_date": [TODAY + timedelta(days=int(d)) for d in rng.integers(0, 5, rows)],
            "ex_div_amount": rng.uniform(0, 2, rows),
            "mark_time": NOW,
            "managed": (rng.random(count) < 0.9)[owner],
        }
    ).cast(BOOK_SCHEMA)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    count=st.integers(1, 25),
    enabled=st.lists(st.booleans(), min_size=13, max_size=13),
    halted=st.booleans(),
    close_positions=st.booleans(),
    entries_allowed=st.booleans(),
    roll=st.booleans(),
)
def test_exactly_one_action_per_strategy_by_the_first_triggered_rule(
    seed: int,
    count: int,
    enabled: list[bool],
    halted: bool,
    close_positions: bool,
    entries_allowed: bool,
    roll: bool,
) -> None:
    switches = {
        name: {"enabled": on}
        for name, on in zip([*RULE_NAMES, "market_veto"], enabled, strict=True)
    }
    switches["halt"]["close_positions"] = close_positions
    for name in ("early_assignment", "delta_breach", "time_exit"):
        switches[name]["roll"] = roll
    config = DecisionsConfig.model_validate(switches)
    book = random_book(seed, count)
    context = CycleContext(NOW, TODAY, halted=halted, entries_allowed=entries_allowed)
    cycle = DecisionEngine(config).evaluate(book, context)
    frame = cycle.frame

    managed = book.filter(pl.col("managed"))["strategy_id"].unique(maintain_order=True)
    assert frame["strategy_id"].to_list() == managed.to_list()
    assert frame.columns[: len(DECISION_COLUMNS)] == list(DECISION_COLUMNS)
    assert set(frame["action"]) <= {action.value for action in Action}
    if halted or not entries_allowed:
        assert Action.ROLL.value not in set(frame["action"])
    halt_passes_exits = halted and not close_positions
    for row in frame.iter_rows(named=True):
        flags = [row[f"{name}.triggered"] for name in RULE_NAMES]
        assert not any(f for f, on in zip(flags, enabled, strict=False) if not on)
        deciding = row["vetoed_rule"] or row["rule"]
        if deciding == "hold":
            assert not any(flags)
            continue
        rank = RULE_NAMES.index(deciding)
        assert flags[rank]
        earlier = flags[1:rank] if halt_passes_exits and deciding != "halt" else flags[:rank]
        assert not any(earlier)
        if row["vetoed_rule"]:
            assert rank >= 5
            assert row["action"] == Action.HOLD.value
    assert_records_agree(cycle)


def assert_records_agree(cycle: CycleDecisions) -> None:
    """The records match the frame: one decision per row in frame order, the actionable and
    vetoed ones among them, and one triggered record per raised flag in priority order."""
    decided = cycle.decisions()
    assert [(d.strategy_id, d.action.value) for d in decided] == list(
        zip(cycle.frame["strategy_id"], cycle.frame["action"], strict=True)
    )
    assert cycle.actionable() == tuple(d for d in decided if d.action is not Action.HOLD)
    assert cycle.vetoes() == tuple(d for d in decided if d.rule == VETO_RULE)
    triggered = cycle.triggered()
    expected = [
        (name, strategy_id)
        for name in RULE_NAMES
        for strategy_id, flag in zip(
            cycle.frame["strategy_id"], cycle.frame[f"{name}.triggered"], strict=True
        )
        if flag
    ]
    assert [(d.rule, d.strategy_id) for d in triggered] == expected
    assert list(cycle.trigger_counts().items()) == list(Counter(d.rule for d in triggered).items())


def test_an_empty_book_gets_no_decisions() -> None:
    strategy, quotes = spread("adopted", **PROFIT)
    for book in (
        book_of((strategy, quotes)).head(0),
        book_of((strategy, quotes), unmanaged=["adopted"]),
    ):
        cycle = decide(book)

        assert cycle.frame.height == 0
        assert cycle.frame.columns[: len(DECISION_COLUMNS)] == list(DECISION_COLUMNS)
        assert cycle.decisions() == ()
        assert cycle.triggered() == ()
        assert cycle.trigger_counts() == {}
