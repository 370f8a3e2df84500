"""The twelve exit and adjustment rules, highest priority first, as vectorized plans.

A rule is a pure function of the rule-book configuration and the trading date that returns a
`RulePlan`: array functions that the engine evaluates for every strategy of the book at once
(per-strategy aggregations of the legs, then strategy-level columns and the ``triggered``
flag). Nothing here reads a clock or holds state.

What a plan may read:

* the legs of `v6.legs.Legs` (in ``aggregations``, run by `v6.book.summarize`);
* the strategy frame of `v6.book.summarize` (``STRATEGY_COLUMNS``) and its own aggregations;
* the cycle's context columns, added by the engine: ``halted`` (Boolean), the trailing-stop
  columns of `TRAILING_SCHEMA` and the portfolio-limit columns of `LIMIT_TARGET_SCHEMA`.

Strategy-level columns come as numpy arrays (`Columns`): unknown numbers are NaN and unknown
flags false, so a comparison with an unknown value never triggers.

Column names a rule makes are prefixed with the rule's name (``stop_loss.loss_multiple``); a
decision's metrics use the name without the prefix.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import polars as pl

from v6.book import LegAggregation
from v6.config.decisions import DecisionsConfig
from v6.domain import Action
from v6.legs import BoolArray, FloatArray, Legs, days_from, ratio
from v6.table import Columns

TRAILING_SCHEMA: Final = pl.Schema(
    {
        "strategy_id": pl.String(),
        "trailing_hit": pl.Boolean(),
        "trailing_peak": pl.Float64(),
        "trailing_level": pl.Float64(),
    }
)
"""Context for rule 9, from the trailing-stop manager: its hit flag, the peak profit and the
profit level that trails it (currency)."""

LIMIT_TARGET_SCHEMA: Final = pl.Schema(
    {
        "strategy_id": pl.String(),
        "limit_name": pl.String(),
        "limit_value": pl.Float64(),
        "limit_reached": pl.Float64(),
        "limit_contribution": pl.Float64(),
    }
)
"""Context for rule 12, from the limit monitor: the strategies to reduce, one per breached
limit, with the limit, the book's value of it and the strategy's contribution."""

Values = Mapping[str, object]
"""A strategy's inputs for one rule, by column name, as `describe` receives them."""

StrategyColumns = Callable[[Columns], Mapping[str, FloatArray]]
"""A rule's own strategy-level columns, computed from the strategy frame and the context."""


@dataclass(frozen=True, slots=True)
class RulePlan:
    """One rule, ready to be evaluated over the whole book.

    ``aggregations`` add the rule's per-strategy figures of the legs to the summary,
    ``columns`` its strategy-level figures in the cycle; ``triggered`` flags the strategies
    from those columns; ``inputs`` name the numeric columns recorded with a decision and shown
    by the explanation, ``labels`` the text columns its reason also uses; ``describe`` writes
    the reason from those values.
    """

    name: str
    priority: int
    enabled: bool
    action: Action
    triggered: Callable[[Columns], BoolArray]
    inputs: tuple[str, ...]
    describe: Callable[[Values], str]
    thresholds: Mapping[str, float] = field(default_factory=dict)
    labels: tuple[str, ...] = ()
    aggregations: LegAggregation | None = None
    columns: StrategyColumns | None = None

    @property
    def flag(self) -> str:
        """The name of the decision frame's column holding this rule's ``triggered`` flag."""
        return f"{self.name}.triggered"


Rule = Callable[[DecisionsConfig, date], RulePlan]


def _num(values: Values, name: str) -> float:
    value = values.get(name)
    return float(value) if isinstance(value, int | float) else float("nan")


def _pct(value: float) -> str:
    return f"{value:.1%}"


def _close_or_roll(roll: bool) -> Action:
    return Action.ROLL if roll else Action.CLOSE


def halt(config: DecisionsConfig, today: date) -> RulePlan:
    """1. While trading is halted only closing orders and cancels pass; with
    ``close_positions`` every strategy is closed."""
    rule = config.halt
    close = rule.close_positions

    def describe(values: Values) -> str:
        if close:
            return "trading halted with close_positions: close"
        return "trading halted: only closing orders and cancels pass"

    return RulePlan(
        name="halt",
        priority=1,
        enabled=rule.enabled,
        action=Action.CLOSE if close else Action.ALERT,
        triggered=lambda c: c["halted"],
        inputs=("halted",),
        describe=describe,
        thresholds={"close_positions": float(close)},
    )


def catastrophic_move(config: DecisionsConfig, today: date) -> RulePlan:
    """2. The underlying beyond a short strike by more than a fraction of the strike, or a
    loss at or beyond a fraction of the maximum loss: close now, at a marketable price."""
    rule = config.catastrophic_move
    breach, loss = "catastrophic_move.strike_breach", "catastrophic_move.loss_fraction"

    def aggregations(legs: Legs) -> dict[str, FloatArray]:
        spot, strike = legs.underlying_price, legs.strike
        beyond = np.where(legs.is_call, spot - strike, strike - spot) / strike
        return {breach: legs.groups.max(legs.where(legs.is_short, beyond))}

    def describe(values: Values) -> str:
        if _num(values, breach) > rule.strike_breach_fraction:
            return (
                f"underlying {_pct(_num(values, breach))} beyond a short strike "
                f"(> {_pct(rule.strike_breach_fraction)}): close at a marketable price"
            )
        return (
            f"loss is {_pct(_num(values, loss))} of max loss "
            f"(>= {_pct(rule.max_loss_fraction)}): close at a marketable price"
        )

    return RulePlan(
        name="catastrophic_move",
        priority=2,
        enabled=rule.enabled,
        action=Action.CLOSE,
        triggered=lambda c: (
            (c[breach] > rule.strike_breach_fraction) | (c[loss] >= rule.max_loss_fraction)
        ),
        inputs=(breach, loss, "pnl", "max_loss", "underlying_price"),
        describe=describe,
        thresholds={
            "strike_breach_fraction": rule.strike_breach_fraction,
            "max_loss_fraction": rule.max_loss_fraction,
        },
        aggregations=aggregations,
        columns=lambda c: {loss: ratio(-c["pnl"], c["max_loss"])},
    )


def expiration_pin(config: DecisionsConfig, today: date) -> RulePlan:
    """3. A short leg with DTE <= max_dte within a fraction of the price of its strike."""
    rule = config.expiration_pin
    distance, short_dte = "expiration_pin.distance", "expiration_pin.short_dte"

    def aggregations(legs: Legs) -> dict[str, FloatArray]:
        near_expiry = legs.is_short & (legs.dte <= rule.max_dte)
        gap = np.abs(legs.underlying_price - legs.strike) / legs.underlying_price
        return {
            distance: legs.groups.min(legs.where(near_expiry, gap)),
            short_dte: legs.groups.min(legs.where(legs.is_short, legs.dte.astype(np.float64))),
        }

    def describe(values: Values) -> str:
        return (
            f"short leg {_num(values, short_dte):.0f} day(s) from expiry with the underlying "
            f"{_pct(_num(values, distance))} from its strike "
            f"(<= {_pct(rule.pin_distance_fraction)}): pin risk, close"
        )

    return RulePlan(
        name="expiration_pin",
        priority=3,
        enabled=rule.enabled,
        action=Action.CLOSE,
        triggered=lambda c: c[distance] <= rule.pin_distance_fraction,
        inputs=(distance, short_dte, "underlying_price"),
        describe=describe,
        thresholds={
            "pin_distance_fraction": rule.pin_distance_fraction,
            "max_dte": float(rule.max_dte),
        },
        aggregations=aggregations,
    )


def early_assignment(config: DecisionsConfig, today: date) -> RulePlan:
    """4. A short in-the-money leg whose extrinsic value is below the floor, or (a call)
    below the next dividend before its ex-date: close or roll.

    Per leg: a short ITM leg's extrinsic value and a short ITM call's dividend and days to
    its ex-date (unknown on every other leg); the strategy is ``at_risk`` when any leg is."""
    rule = config.early_assignment
    extrinsic, dividend = "early_assignment.extrinsic", "early_assignment.dividend"
    days_to_ex, flag = "early_assignment.days_to_ex_div", "early_assignment.at_risk"

    def aggregations(legs: Legs) -> dict[str, npt.NDArray[Any]]:
        itm_short = legs.is_short & (legs.intrinsic > 0)
        itm_short_call = itm_short & legs.is_call
        left = legs.where(itm_short, legs.extrinsic)
        paid = legs.where(itm_short_call, legs.ex_div_amount)
        days = legs.where(itm_short_call, days_from(legs.ex_div_date, today))
        dividend_risk = (
            (paid > left)
            & (legs.ex_div_date <= legs.expiry)
            & (days > 0)
            & (days <= rule.ex_dividend_days)
        )
        groups = legs.groups
        return {
            extrinsic: groups.min(left),
            dividend: groups.max(paid),
            days_to_ex: groups.min(days),
            flag: groups.any(dividend_risk | (left < rule.min_extrinsic)),
        }

    def describe(values: Values) -> str:
        left = _num(values, extrinsic)
        if left < rule.min_extrinsic:
            why = f"extrinsic {left:.2f} < floor {rule.min_extrinsic:.2f}"
        else:
            why = (
                f"extrinsic {left:.2f} < dividend {_num(values, dividend):.2f} going ex in "
                f"{_num(values, days_to_ex):.0f} day(s)"
            )
        return f"short ITM leg at early-assignment risk: {why}: {_close_or_roll(rule.roll)}"

    return RulePlan(
        name="early_assignment",
        priority=4,
        enabled=rule.enabled,
        action=_close_or_roll(rule.roll),
        triggered=lambda c: c[flag],
        inputs=(extrinsic, dividend, days_to_ex),
        describe=describe,
        thresholds={
            "min_extrinsic": rule.min_extrinsic,
            "ex_dividend_days": float(rule.ex_dividend_days),
        },
        aggregations=aggregations,
    )


def stop_loss(config: DecisionsConfig, today: date) -> RulePlan:
    """5. A credit strategy's loss at or beyond a multiple of the credit received (debit
    strategies have no credit: their loss is bounded by the debit paid)."""
    rule = config.stop_loss
    multiple = "stop_loss.loss_multiple"

    def describe(values: Values) -> str:
        return (
            f"loss {-_num(values, 'pnl'):.2f} is {_num(values, multiple):.2f}x the credit "
            f"{_num(values, 'entry_credit'):.2f} (>= {rule.credit_multiple:g}x): close"
        )

    return RulePlan(
        name="stop_loss",
        priority=5,
        enabled=rule.enabled,
        action=Action.CLOSE,
        triggered=lambda c: c[multiple] >= rule.credit_multiple,
        inputs=(multiple, "pnl", "entry_credit"),
        describe=describe,
        thresholds={"credit_multiple": rule.credit_multiple},
        columns=lambda c: {multiple: ratio(-c["pnl"], c["entry_credit"])},
    )


def delta_breach(config: DecisionsConfig, today: date) -> RulePlan:
    """6. |delta| of a short leg at or above the threshold: close, or roll the tested side."""
    rule = config.delta_breach
    calls, puts = "delta_breach.short_call_delta", "delta_breach.short_put_delta"

    def aggregations(legs: Legs) -> dict[str, FloatArray]:
        size = np.abs(legs.delta)
        return {
            calls: legs.groups.max(legs.where(legs.is_short & legs.is_call, size)),
            puts: legs.groups.max(legs.where(legs.is_short & ~legs.is_call, size)),
        }

    def describe(values: Values) -> str:
        call, put = _num(values, calls), _num(values, puts)
        side, delta = ("put", put) if math.isnan(call) or put >= call else ("call", call)
        return (
            f"short {side} |delta| {delta:.2f} >= {rule.max_short_delta:.2f}: {side} side "
            f"tested, {_close_or_roll(rule.roll)}"
        )

    return RulePlan(
        name="delta_breach",
        priority=6,
        enabled=rule.enabled,
        action=_close_or_roll(rule.roll),
        triggered=lambda c: np.fmax(c[calls], c[puts]) >= rule.max_short_delta,
        inputs=(calls, puts),
        describe=describe,
        thresholds={"max_short_delta": rule.max_short_delta},
        aggregations=aggregations,
    )


def gamma_risk(config: DecisionsConfig, today: date) -> RulePlan:
    """7. DTE <= max_dte and |position gamma| above the threshold: close."""
    rule = config.gamma_risk

    def describe(values: Values) -> str:
        return (
            f"{_num(values, 'dte'):.0f} DTE (<= {rule.max_dte}) with |gamma| "
            f"{abs(_num(values, 'gamma')):.1f} > {rule.max_abs_gamma:g}: close"
        )

    return RulePlan(
        name="gamma_risk",
        priority=7,
        enabled=rule.enabled,
        action=Action.CLOSE,
        triggered=lambda c: (c["dte"] <= rule.max_dte) & (np.abs(c["gamma"]) > rule.max_abs_gamma),
        inputs=("dte", "gamma"),
        describe=describe,
        thresholds={"max_dte": float(rule.max_dte), "max_abs_gamma": rule.max_abs_gamma},
    )


def _next_events(config: DecisionsConfig, today: date) -> tuple[date | None, dict[str, date]]:
    """The next market-wide event on or after ``today``, and per symbol the next event that
    concerns it (its own or market-wide), for every symbol with events of its own."""
    rule = config.event
    upcoming = [day for day in rule.market_wide if day >= today]
    market = min(upcoming, default=None)
    per_symbol: dict[str, date] = {}
    for symbol in rule.per_symbol:
        dates = [day for day in rule.dates_for(symbol) if day >= today]
        if dates:
            per_symbol[symbol] = min(dates)
    return market, per_symbol


def _days_to_next_event(config: DecisionsConfig, today: date) -> StrategyColumns:
    """Calendar days from ``today`` to the next event concerning each strategy's underlying
    (NaN when none is coming), counted once per trading date."""
    market, per_symbol = _next_events(config, today)
    market_days = math.nan if market is None else float((market - today).days)
    days = {symbol: float((day - today).days) for symbol, day in per_symbol.items()}
    name = "event.days_to_event"

    def columns(c: Columns) -> dict[str, FloatArray]:
        symbols: list[str] = c["underlying"].tolist()
        return {name: np.array([days.get(symbol, market_days) for symbol in symbols])}

    return columns


def event(config: DecisionsConfig, today: date) -> RulePlan:
    """8. A calendar event (config) on or before the last expiry and within ``days_before``
    days: close before it."""
    rule = config.event
    days_to_event, days_to_expiry = "event.days_to_event", "event.days_to_expiry"
    next_event = _days_to_next_event(config, today)

    def columns(c: Columns) -> dict[str, FloatArray]:
        return {**next_event(c), days_to_expiry: days_from(c["last_expiry"], today)}

    def describe(values: Values) -> str:
        return (
            f"event in {_num(values, days_to_event):.0f} day(s) (<= {rule.days_before}), "
            f"before expiry in {_num(values, days_to_expiry):.0f} day(s): close before it"
        )

    return RulePlan(
        name="event",
        priority=8,
        enabled=rule.enabled,
        action=Action.CLOSE,
        triggered=lambda c: (
            (c[days_to_event] <= c[days_to_expiry]) & (c[days_to_event] <= rule.days_before)
        ),
        inputs=(days_to_event, days_to_expiry),
        describe=describe,
        thresholds={"days_before": float(rule.days_before)},
        columns=columns,
    )


def trailing_stop(config: DecisionsConfig, today: date) -> RulePlan:
    """9. The trailing-stop manager (v6.risk.trailing_stop) reports a confirmed hit: close."""

    def describe(values: Values) -> str:
        return (
            f"trailing stop hit: profit {_num(values, 'pnl'):.2f} fell to the stop "
            f"{_num(values, 'trailing_level'):.2f} below the peak "
            f"{_num(values, 'trailing_peak'):.2f}: close"
        )

    return RulePlan(
        name="trailing_stop",
        priority=9,
        enabled=config.trailing_stop.enabled,
        action=Action.CLOSE,
        triggered=lambda c: c["trailing_hit"],
        inputs=("pnl", "trailing_peak", "trailing_level"),
        describe=describe,
    )


def take_profit(config: DecisionsConfig, today: date) -> RulePlan:
    """10. Profit at or above a fraction of the maximum profit: close."""
    rule = config.take_profit
    captured = "take_profit.captured"

    def describe(values: Values) -> str:
        return (
            f"{_pct(_num(values, captured))} of max profit captured "
            f"(>= {_pct(rule.profit_fraction)}): close"
        )

    return RulePlan(
        name="take_profit",
        priority=10,
        enabled=rule.enabled,
        action=Action.CLOSE,
        triggered=lambda c: c[captured] >= rule.profit_fraction,
        inputs=(captured, "pnl", "max_profit"),
        describe=describe,
        thresholds={"profit_fraction": rule.profit_fraction},
        columns=lambda c: {captured: ratio(c["pnl"], c["max_profit"])},
    )


def time_exit(config: DecisionsConfig, today: date) -> RulePlan:
    """11. DTE <= max_dte: close, or roll when configured (execution checks the roll's credit
    against the template and closes instead when it falls short)."""
    rule = config.time_exit

    def describe(values: Values) -> str:
        return f"{_num(values, 'dte'):.0f} DTE (<= {rule.max_dte}): {_close_or_roll(rule.roll)}"

    return RulePlan(
        name="time_exit",
        priority=11,
        enabled=rule.enabled,
        action=_close_or_roll(rule.roll),
        triggered=lambda c: c["dte"] <= rule.max_dte,
        inputs=("dte",),
        describe=describe,
        thresholds={"max_dte": float(rule.max_dte)},
    )


def portfolio_limit(config: DecisionsConfig, today: date) -> RulePlan:
    """12. The book is over a portfolio limit and this strategy contributes most to it:
    reduce it (the limit monitor of v6.risk.limits picks the strategy)."""

    def describe(values: Values) -> str:
        return (
            f"book over the {values.get('limit_name')} limit "
            f"({_num(values, 'limit_reached'):.2f} vs {_num(values, 'limit_value'):.2f}); this "
            f"strategy contributes most ({_num(values, 'limit_contribution'):.2f}): reduce"
        )

    return RulePlan(
        name="portfolio_limit",
        priority=12,
        enabled=config.portfolio_limit.enabled,
        action=Action.REDUCE,
        triggered=lambda c: ~np.isnan(c["limit_reached"]),
        inputs=("limit_reached", "limit_value", "limit_contribution"),
        labels=("limit_name",),
        describe=describe,
    )


RULES: Final[tuple[Rule, ...]] = (
    halt,
    catastrophic_move,
    expiration_pin,
    early_assignment,
    stop_loss,
    delta_breach,
    gamma_risk,
    event,
    trailing_stop,
    take_profit,
    time_exit,
    portfolio_limit,
)
"""The rule book in priority order: ``RULES[i]`` has priority ``i + 1``."""

LAST_UNVETOED_PRIORITY: Final = 5
"""Rules 1-5 act even in an absurd market; the market veto holds exits of rules 6-12."""
