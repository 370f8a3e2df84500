"""`v6 demo`: a tour of what exists, on one real historical day; no orders anywhere.

It reads the shipped history for the day (close, VIX, T-bill rate, trailing dividends),
prices a theoretical option chain with Black-Scholes-Merton at a flat volatility equal to the
day's VIX (the skewed volatility surface belongs to the simulated exchange), recovers each
price's implied volatility, and builds the iron condor a template would choose from that chain:
shorts nearest the template's delta, wings the template's width away.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import polars as pl
from rich.console import Console
from rich.table import Table

from v6.config import StrategyKind as TemplateKind
from v6.config import StrategyTemplate, V6Config
from v6.domain import Greeks, Leg, OptionContract, Right, Strategy, StrategyKind
from v6.market.calendar import TradingCalendar, nyse_calendar
from v6.market.history import (
    load_daily_bars,
    load_dividends,
    rate_as_of,
    vix_close_as_of,
)
from v6.market.rates import continuous_rate_from_discount
from v6.pricing import bsm_price_greeks, implied_vol

DAYS_PER_YEAR = 365.0
STRIKE_SPAN_SIGMAS = 4.0
"""The demo chain lists strikes within 4 standard deviations of the close, on a 1-dollar grid."""
FRIDAY = 4


@dataclass(frozen=True, slots=True)
class MarketDay:
    """What the shipped history says about one underlying on one session."""

    symbol: str
    day: date
    close: float
    vix: float
    rate: float
    """Continuous ACT/365 rate from the 3-month T-bill quote."""
    dividend_yield: float
    """Trailing-twelve-month dividends over the close, as a continuous yield."""


@dataclass(frozen=True, slots=True)
class CondorQuote:
    """An iron condor priced from a theoretical chain, with the rows it was chosen from."""

    strategy: Strategy
    legs: pl.DataFrame
    """One row per leg: occ, quantity, price, iv, delta, gamma, theta, vega, rho (per share)."""
    position_greeks: Greeks
    """Share-equivalent delta and gamma, theta per day, vega per vol point, for one condor."""
    credit_fraction: float
    """Credit received over the wider wing's width."""


def market_day(symbol: str, day: date, calendar: TradingCalendar) -> MarketDay:
    """The last session on or before ``day`` as the shipped history records it."""
    bars = load_daily_bars(symbol, day - timedelta(days=10), day)
    if bars.is_empty():
        raise ValueError(f"no {symbol} history on or shortly before {day.isoformat()}")
    session = bars["date"][-1]
    if not calendar.is_session(session):
        raise ValueError(f"{symbol} bar on {session.isoformat()}: not an NYSE session")
    close = float(bars["close"][-1])
    trailing = load_dividends(symbol, session - timedelta(days=365), session)
    discount = rate_as_of([session])[0]
    if discount is None:
        raise ValueError(f"no T-bill rate on or before {session.isoformat()} (data from 2000)")
    return MarketDay(
        symbol=symbol,
        day=session,
        close=close,
        vix=float(vix_close_as_of([session])[0]),
        rate=float(continuous_rate_from_discount(discount)),
        dividend_yield=float(np.log1p(float(trailing["amount"].sum()) / close)),
    )


def expiry_for(template: StrategyTemplate, market: MarketDay, calendar: TradingCalendar) -> date:
    """The weekly expiry nearest the template's target DTE inside its DTE window.

    Weekly options expire on Fridays; when the Friday is a holiday they expire the session
    before, as the listed ones do.
    """
    candidates = []
    for dte in range(template.min_dte, template.max_dte + 1):
        friday = market.day + timedelta(days=dte)
        if friday.weekday() == FRIDAY:
            expiry = friday if calendar.is_session(friday) else calendar.previous_session(friday)
            candidates.append((abs(dte - template.target_dte), expiry))
    if not candidates:
        raise ValueError(
            f"no Friday between {template.min_dte} and {template.max_dte} days after "
            f"{market.day.isoformat()}: widen the template's DTE window"
        )
    return min(candidates)[1]


def theoretical_chain(market: MarketDay, expiry: date) -> pl.DataFrame:
    """Calls and puts on a 1-dollar strike grid, priced at the VIX as a flat volatility."""
    years = (expiry - market.day).days / DAYS_PER_YEAR
    sigma = market.vix / 100.0
    span = np.exp(STRIKE_SPAN_SIGMAS * sigma * np.sqrt(years))
    strikes = np.arange(np.ceil(market.close / span), np.floor(market.close * span) + 1.0)
    is_call = np.repeat([True, False], strikes.size)
    strike = np.tile(strikes, 2)
    greeks = bsm_price_greeks(
        market.close, strike, years, market.rate, market.dividend_yield, sigma, is_call
    )
    recovered = implied_vol(
        greeks.price, market.close, strike, years, market.rate, market.dividend_yield, is_call
    )
    return pl.DataFrame(
        {
            "strike": strike,
            "is_call": is_call,
            "price": greeks.price,
            "iv": recovered,
            "delta": greeks.delta,
            "gamma": greeks.gamma,
            "theta": greeks.theta,
            "vega": greeks.vega,
            "rho": greeks.rho,
        }
    )


def build_condor(
    template: StrategyTemplate, market: MarketDay, chain: pl.DataFrame, expiry: date
) -> CondorQuote:
    """Shorts at the strikes whose |delta| is nearest the template's; wings at its width."""
    short_put = _nearest_delta(chain, is_call=False, target=-template.short_delta)
    short_call = _nearest_delta(chain, is_call=True, target=template.short_delta)
    strikes = {
        (False, -1): short_put,
        (False, 1): short_put - template.wing_width,
        (True, -1): short_call,
        (True, 1): short_call + template.wing_width,
    }
    rows = pl.concat(
        [
            chain.filter((pl.col("is_call") == call) & (pl.col("strike") == strike)).with_columns(
                quantity=pl.lit(side)
            )
            for (call, side), strike in strikes.items()
        ]
    )
    if rows.height != len(strikes):
        raise ValueError(f"wing width {template.wing_width} leaves the demo chain's strike grid")
    legs = [
        Leg(
            OptionContract(
                market.symbol, expiry, Decimal(str(strike)), Right.CALL if call else Right.PUT
            ),
            side,
        )
        for (call, side), strike in strikes.items()
    ]
    credit = float(-(rows["quantity"] * rows["price"]).sum())
    strategy = Strategy.propose(
        f"demo-{market.symbol}-{market.day.isoformat()}",
        StrategyKind.IRON_CONDOR,
        legs,
        as_of=market.day,
        entry_premium=credit,
    )
    occ = {
        (leg.contract.is_call, float(leg.contract.strike)): leg.contract.occ_symbol
        for leg in strategy.legs
    }
    rows = rows.with_columns(
        occ=pl.Series([occ[(c, s)] for c, s in zip(rows["is_call"], rows["strike"], strict=True)])
    )
    return CondorQuote(
        strategy=strategy,
        legs=rows.select(
            "occ", "quantity", "price", "iv", "delta", "gamma", "theta", "vega", "rho"
        ),
        position_greeks=_position_greeks(rows, strategy.multiplier),
        credit_fraction=credit / template.wing_width,
    )


def _nearest_delta(chain: pl.DataFrame, *, is_call: bool, target: float) -> float:
    side = chain.filter(pl.col("is_call") == is_call)
    nearest = side.sort((pl.col("delta") - target).abs()).row(0, named=True)
    return float(nearest["strike"])


def _position_greeks(rows: pl.DataFrame, multiplier: int) -> Greeks:
    return sum(
        (
            Greeks(
                row["delta"], row["gamma"], row["theta"], row["vega"], row["rho"]
            ).to_position_units(row["quantity"], multiplier)
            for row in rows.iter_rows(named=True)
        ),
        Greeks.zero(),
    )


def show_demo(console: Console, config: V6Config, symbol: str, day: date | None) -> CondorQuote:
    """Print the tour for ``symbol`` on ``day`` (default: the last shipped session)."""
    template = _first_condor_template(config)
    calendar = nyse_calendar()
    when = day if day is not None else load_daily_bars(symbol)["date"][-1]
    market = market_day(symbol, when, calendar)
    expiry = expiry_for(template, market, calendar)
    chain = theoretical_chain(market, expiry)
    quote = build_condor(template, market, chain, expiry)
    console.print(_market_table(market, expiry))
    console.print(_legs_table(quote))
    console.print(_summary_table(template, quote))
    return quote


def _first_condor_template(config: V6Config) -> StrategyTemplate:
    for template in config.strategies.enabled():
        if template.kind is TemplateKind.IRON_CONDOR:
            return template
    raise ValueError("the configuration has no enabled iron_condor template")


def _market_table(market: MarketDay, expiry: date) -> Table:
    table = Table(title=f"{market.symbol} on {market.day.isoformat()} (shipped real history)")
    for column in ("close", "VIX", "rate (cont.)", "dividend yield", "expiry", "DTE"):
        table.add_column(column, justify="right")
    table.add_row(
        f"{market.close:.2f}",
        f"{market.vix:.2f}",
        f"{market.rate:.2%}",
        f"{market.dividend_yield:.2%}",
        expiry.isoformat(),
        str((expiry - market.day).days),
    )
    return table


def _legs_table(quote: CondorQuote) -> Table:
    table = Table(title="Iron condor legs (theoretical, per share; IV recovered from price)")
    table.add_column("contract", no_wrap=True)
    for column in ("qty", "price", "IV", "delta", "θ/day", "vega/pt"):
        table.add_column(column, justify="right")
    for leg in quote.legs.iter_rows(named=True):
        table.add_row(
            leg["occ"],
            f"{leg['quantity']:+d}",
            f"{leg['price']:.2f}",
            f"{leg['iv']:.1%}",
            f"{leg['delta']:+.3f}",
            f"{leg['theta'] / DAYS_PER_YEAR:+.3f}",
            f"{leg['vega'] / 100:.3f}",
        )
    return table


def _summary_table(template: StrategyTemplate, quote: CondorQuote) -> Table:
    strategy, greeks = quote.strategy, quote.position_greeks
    verdict = "meets" if quote.credit_fraction >= template.min_credit_fraction else "below"
    table = Table(title=f"One condor from template {template.name!r}", show_header=False)
    table.add_column(justify="left")
    table.add_column(justify="right")
    rows = {
        "credit": f"{strategy.entry_premium:.2f} per share",
        "credit / width": f"{quote.credit_fraction:.1%} ({verdict} the template's "
        f"{template.min_credit_fraction:.1%} minimum)",
        "max profit": f"${strategy.max_profit:,.2f}",
        "max loss": f"${strategy.max_loss:,.2f}",
        "breakevens": ", ".join(f"{b:.2f}" for b in strategy.breakevens),
        "delta (shares)": f"{greeks.delta:+.2f}",
        "gamma (shares/$)": f"{greeks.gamma:+.3f}",
        "theta ($/day)": f"{greeks.theta:+.2f}",
        "vega ($/vol pt)": f"{greeks.vega:+.2f}",
    }
    for name, value in rows.items():
        table.add_row(name, value)
    return table
