"""Each of the twelve rules on both sides of its threshold (default config unless noted).

The book is one bull put spread, short 440P / long 430P for a 2.00 credit: max profit 200,
max loss 800; its P&L is 200 + 100 x (long mark - short mark), 60 by default (30% of the
max profit: no rule fires).
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from decision_books import TODAY, Quote, book_of, decide, open_strategy, put_spread, quotes_frame

from v6.book import DIVIDENDS_SCHEMA
from v6.config.decisions import DecisionsConfig, EventRule, TimeExitRule
from v6.decisions import LIMIT_TARGET_SCHEMA, TRAILING_SCHEMA
from v6.domain import Action, Right


def spread_book(
    short_mark: float = 2.0,
    long_mark: float = 0.6,
    *,
    spot: float = 450.0,
    dte: int = 30,
    short_delta: float = -0.12,
    short_gamma: float = 0.01,
    long_delta: float = -0.05,
    underlying: str = "SPY",
) -> pl.DataFrame:
    strategy = put_spread(dte=dte, underlying=underlying)
    quotes = [
        Quote(mark=long_mark, delta=long_delta, gamma=0.0),
        Quote(mark=short_mark, delta=short_delta, gamma=short_gamma),
    ]
    return book_of((strategy, quotes_frame(strategy, quotes, spot)))


def call_spread_book(short_mark: float, ex_div: date, amount: float, dte: int = 30) -> pl.DataFrame:
    """Bear call spread short 460C / long 470C with the underlying at 470 (short ITM by 10)."""
    strategy = open_strategy(
        "cs", [(460, Right.CALL, -1), (470, Right.CALL, 1)], credit=3.0, dte=dte
    )
    quotes = [Quote(mark=short_mark, delta=0.25), Quote(mark=4.0, delta=0.2)]
    dividends = pl.DataFrame([("SPY", ex_div, amount)], schema=DIVIDENDS_SCHEMA, orient="row")
    return book_of((strategy, quotes_frame(strategy, quotes, 470.0)), dividends=dividends)


def fired(
    rule: str, book: pl.DataFrame, config: DecisionsConfig | None = None, **context: object
) -> bool:
    verdicts = decide(book, config, **context).verdicts(rule)
    assert verdicts.height == 1
    return bool(verdicts["triggered"].item())


def test_a_quiet_spread_triggers_nothing() -> None:
    frame = decide(spread_book()).frame

    assert frame["rule"].to_list() == ["hold"]
    assert not any(frame[column].item() for column in frame.columns if column.endswith("triggered"))


@pytest.mark.parametrize(("halted", "expected"), [(False, False), (True, True)])
def test_halt(halted: bool, expected: bool) -> None:
    assert fired("halt", spread_book(), halted=halted) is expected


@pytest.mark.parametrize(("spot", "expected"), [(426.0, True), (427.5, False)])
def test_catastrophic_move_by_strike_breach(spot: float, expected: bool) -> None:
    """426 is 3.2% beyond the 440 short strike (more than 3%), 427.5 is 2.8%."""
    assert fired("catastrophic_move", spread_book(spot=spot)) is expected


def test_catastrophic_move_needs_more_than_the_distance() -> None:
    strategy = put_spread(short=400, long=390)
    quotes = [Quote(mark=0.4), Quote(mark=1.2)]
    exactly = book_of((strategy, quotes_frame(strategy, quotes, 388.0)))  # 12 / 400 = 3.0%

    assert fired("catastrophic_move", exactly) is False


@pytest.mark.parametrize(("short_mark", "expected"), [(9.0, True), (8.9, False)])
def test_catastrophic_move_by_loss_fraction(short_mark: float, expected: bool) -> None:
    """Loss 600 is 75% of the 800 max loss (fires, 'at or beyond'); 590 is 73.75%."""
    assert fired("catastrophic_move", spread_book(short_mark, 1.0, spot=445.0)) is expected


@pytest.mark.parametrize(
    ("spot", "dte", "expected"),
    [(442.0, 1, True), (443.0, 1, False), (442.0, 2, False), (438.0, 0, True)],
)
def test_expiration_pin(spot: float, dte: int, expected: bool) -> None:
    """Pinned within 0.5% of the price of the 440 short strike, at DTE <= 1."""
    assert fired("expiration_pin", spread_book(spot=spot, dte=dte)) is expected


@pytest.mark.parametrize(("short_mark", "expected"), [(10.04, True), (10.06, False)])
def test_early_assignment_extrinsic_floor(short_mark: float, expected: bool) -> None:
    """Underlying 430: the 440 short put is 10.00 in the money; floor 0.05."""
    assert fired("early_assignment", spread_book(short_mark, 3.0, spot=430.0)) is expected


@pytest.mark.parametrize(
    ("days_to_ex", "amount", "dte", "expected"),
    [
        (2, 0.50, 30, True),  # dividend above the 0.30 extrinsic, ex in 2 days
        (2, 0.20, 30, False),  # dividend below the extrinsic
        (3, 0.50, 30, False),  # ex-date too far away
        (0, 0.50, 30, False),  # ex today: too late to be assigned for it
        (2, 0.50, 1, False),  # ex-date after the expiry
    ],
)
def test_early_assignment_dividend(
    days_to_ex: int, amount: float, dte: int, expected: bool
) -> None:
    book = call_spread_book(10.30, TODAY + timedelta(days=days_to_ex), amount, dte=dte)

    assert fired("early_assignment", book) is expected


def test_an_out_of_the_money_short_is_never_at_assignment_risk() -> None:
    assert fired("early_assignment", spread_book(0.01, 0.0, spot=450.0)) is False


@pytest.mark.parametrize(("short_mark", "expected"), [(7.0, True), (6.99, False)])
def test_stop_loss(short_mark: float, expected: bool) -> None:
    """Loss 400 = 2x the 200 credit fires; 399 does not."""
    assert fired("stop_loss", spread_book(short_mark, 1.0, spot=445.0)) is expected


def test_stop_loss_ignores_debit_strategies() -> None:
    debit = open_strategy("d", [(440, Right.PUT, 1), (430, Right.PUT, -1)], credit=-3.0)
    quotes = [Quote(mark=0.1), Quote(mark=0.5)]  # sorted: 430P short, 440P long -> lost 2.6
    book = book_of((debit, quotes_frame(debit, quotes, 460.0)))

    assert fired("stop_loss", book) is False


@pytest.mark.parametrize(
    ("short_delta", "long_delta", "expected"),
    [(-0.30, -0.05, True), (-0.29, -0.05, False), (-0.12, -0.90, False)],
)
def test_delta_breach(short_delta: float, long_delta: float, expected: bool) -> None:
    book = spread_book(short_delta=short_delta, long_delta=long_delta)

    assert fired("delta_breach", book) is expected


@pytest.mark.parametrize(
    ("dte", "short_gamma", "expected"), [(7, 0.51, True), (8, 0.51, False), (7, 0.50, False)]
)
def test_gamma_risk(dte: int, short_gamma: float, expected: bool) -> None:
    """Position gamma = -1 x 100 x short gamma: above 50 at DTE <= 7."""
    assert fired("gamma_risk", spread_book(dte=dte, short_gamma=short_gamma)) is expected


def event_config(
    per_symbol: dict[str, tuple[date, ...]], market: tuple[date, ...] = ()
) -> DecisionsConfig:
    return DecisionsConfig(event=EventRule(per_symbol=per_symbol, market_wide=market))


@pytest.mark.parametrize(
    ("event_in", "dte", "expected"),
    [(1, 30, True), (0, 30, True), (2, 30, False), (1, 0, False), (-1, 30, False)],
)
def test_event_inside_the_trade(event_in: int, dte: int, expected: bool) -> None:
    config = event_config({"SPY": (TODAY + timedelta(days=event_in),)})

    assert fired("event", spread_book(dte=dte), config) is expected


def test_market_wide_events_concern_every_underlying() -> None:
    config = event_config({"SPY": (TODAY + timedelta(days=9),)}, (TODAY + timedelta(days=1),))

    assert fired("event", spread_book(underlying="QQQ"), config) is True
    assert fired("event", spread_book(underlying="SPY"), config) is True


@pytest.mark.parametrize("hit", [True, False])
def test_trailing_stop_follows_the_managers_hit(hit: bool) -> None:
    trailing = pl.DataFrame([("ps", hit, 150.0, 90.0)], schema=TRAILING_SCHEMA, orient="row")

    assert fired("trailing_stop", spread_book(), trailing=trailing) is hit


@pytest.mark.parametrize(("short_mark", "expected"), [(1.5, True), (1.51, False)])
def test_take_profit(short_mark: float, expected: bool) -> None:
    """P&L 100 is 50% of the 200 max profit."""
    assert fired("take_profit", spread_book(short_mark, 0.5)) is expected


@pytest.mark.parametrize(("dte", "expected"), [(21, True), (22, False)])
def test_time_exit(dte: int, expected: bool) -> None:
    assert fired("time_exit", spread_book(dte=dte)) is expected


def test_time_exit_rolls_when_configured() -> None:
    config = DecisionsConfig(time_exit=TimeExitRule(roll=True))

    assert decide(spread_book(dte=20), config).decisions()[0].action is Action.ROLL


@pytest.mark.parametrize(("target", "expected"), [("ps", True), ("other", False)])
def test_portfolio_limit_reduces_the_named_strategy(target: str, expected: bool) -> None:
    targets = pl.DataFrame(
        [(target, "delta", 200.0, 260.0, 120.0)], schema=LIMIT_TARGET_SCHEMA, orient="row"
    )
    decisions = decide(spread_book(), limit_targets=targets)

    assert bool(decisions.verdicts("portfolio_limit")["triggered"].item()) is expected
    if expected:
        decision = decisions.decisions()[0]
        assert decision.action is Action.REDUCE
        assert decision.metrics_dict() == {
            "limit_reached": 260.0,
            "limit_value": 200.0,
            "limit_contribution": 120.0,
        }
        assert "delta limit" in decision.reason
