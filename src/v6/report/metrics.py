"""The paper-trading metrics, as pure functions of polars frames read from the tables.

Conventions (the report prints them too):

* **Equity** is the account's net liquidation value (``account_snapshots``); with several
  accounts, their sum at each snapshot time (each account's last value carried forward).
* **Daily P&L** is the change of day-end equity (the last snapshot of each New York session
  date); the first day is measured from the first snapshot. Daily returns divide it by the
  previous day-end equity.
* **Max drawdown** is the largest fall of equity from its running peak, over every snapshot
  (intraday included), in currency and as a fraction of that peak.
* **Sharpe ratio**: mean over standard deviation (ddof 1) of the daily excess returns, times
  sqrt(252). The risk-free return of a day is what the 3-month T-bill (FRED DTB3, shipped in
  ``v6.market``) in force at the start of the period earned over the calendar days it
  spans: the discount quote is turned into its continuously compounded ACT/365 rate
  (`v6.market.rates.continuous_rate_from_discount`) and accrued as ``exp(r * days / 365) - 1``.
  Days before the series starts (2000) count as 0 %. Fewer than two days, or no variation,
  gives no ratio.
* **Realized P&L of a strategy** is the sum of the cash flows of the executions of its orders
  (premium received minus paid, times the multiplier, minus commissions). For a CLOSED
  strategy that is its whole result; one that expired worthless has no closing execution and
  keeps its credit. Executions of orders V6 did not place (assignments, exercises) belong to
  no strategy and are counted apart.
* **Slippage** of an option execution is its price against the leg's mid quote
  ((bid + ask) / 2) in the latest position snapshot at most `MID_MAX_AGE` before it, signed so
  that a positive number is a cost: ``(price - mid) * quantity * multiplier`` (quantity signed,
  bought positive).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import numpy as np
import polars as pl

from v6.market.history import rate_as_of
from v6.market.rates import continuous_rate_from_discount

TRADING_DAYS: Final = 252
MID_MAX_AGE: Final = timedelta(minutes=15)
EXCHANGE_TIME_ZONE: Final = "America/New_York"
EQUITY_SCHEMA: Final = pl.Schema([("at", pl.Datetime("us", "UTC")), ("equity", pl.Float64)])


def equity_series(snapshots: pl.DataFrame) -> pl.DataFrame:
    """``at``, ``equity`` from account snapshots (``account``, ``at``, ``net_liquidation``)."""
    known = snapshots.filter(pl.col("net_liquidation").is_not_null())
    if known.is_empty():
        return pl.DataFrame(schema=EQUITY_SCHEMA)
    wide = known.pivot(
        on="account", index="at", values="net_liquidation", aggregate_function="last"
    ).sort("at")
    accounts = [name for name in wide.columns if name != "at"]
    return wide.select("at", equity=pl.sum_horizontal(pl.col(accounts).forward_fill()))


def daily_equity(equity: pl.DataFrame) -> pl.DataFrame:
    """Per New York session date: day-end ``equity``, ``pnl``, ``ret`` (the day's return),
    ``start`` (the date the day's change is measured from) and ``days`` (calendar days
    between the two)."""
    if equity.is_empty():
        return pl.DataFrame(
            schema={
                "date": pl.Date,
                "equity": pl.Float64,
                "pnl": pl.Float64,
                "ret": pl.Float64,
                "start": pl.Date,
                "days": pl.Int64,
            }
        )
    dated = equity.with_columns(
        date=pl.col("at").dt.convert_time_zone(EXCHANGE_TIME_ZONE).dt.date()
    )
    days = dated.group_by("date", maintain_order=True).agg(pl.col("equity").last())
    first_equity, first_date = equity["equity"][0], dated["date"][0]
    previous = pl.col("equity").shift(1).fill_null(first_equity)
    start = pl.col("date").shift(1).fill_null(first_date)
    return days.with_columns(
        pnl=pl.col("equity") - previous,
        ret=(pl.col("equity") - previous) / previous,
        start=start,
        days=(pl.col("date") - start).dt.total_days(),
    )


@dataclass(frozen=True, slots=True)
class Drawdown:
    amount: float
    """The largest fall from a running peak, in currency (>= 0)."""
    fraction: float
    """The largest fall from a running peak as a fraction of that peak (0.12 is 12 %)."""
    peak_at: datetime | None
    trough_at: datetime | None
    """Where the largest fall in currency started and bottomed (None without a fall)."""


def drawdown_series(equity: pl.DataFrame) -> pl.DataFrame:
    """``at``, ``equity``, ``peak`` (running maximum) and ``drawdown`` (peak - equity)."""
    return equity.with_columns(peak=pl.col("equity").cum_max()).with_columns(
        drawdown=pl.col("peak") - pl.col("equity")
    )


def max_drawdown(equity: pl.DataFrame) -> Drawdown:
    if equity.is_empty():
        return Drawdown(0.0, 0.0, None, None)
    series = drawdown_series(equity)
    falls = series["drawdown"].to_numpy()
    fractions = falls / series["peak"].to_numpy()
    trough = int(np.argmax(falls))
    if falls[trough] <= 0:
        return Drawdown(0.0, 0.0, None, None)
    peak = int(np.argmax(series["equity"].to_numpy()[: trough + 1]))
    times = series["at"]
    return Drawdown(float(falls[trough]), float(np.max(fractions)), times[peak], times[trough])


def risk_free_returns(daily: pl.DataFrame) -> np.ndarray:
    """Each day's T-bill return over its ``days`` from ``start`` (see the module docstring)."""
    discount = rate_as_of(daily["start"]).fill_null(0.0).to_numpy()
    continuous = continuous_rate_from_discount(discount)
    years = daily["days"].to_numpy().astype(np.float64) / 365.0
    returns: np.ndarray = np.expm1(continuous * years)
    return returns


def sharpe_ratio(daily: pl.DataFrame) -> float | None:
    """The annualized Sharpe ratio of the daily returns (see the module docstring)."""
    if daily.height < 2:
        return None
    excess = daily["ret"].to_numpy() - risk_free_returns(daily)
    spread = float(np.std(excess, ddof=1))
    if not math.isfinite(spread) or spread <= 1e-12:
        return None
    return float(np.mean(excess)) / spread * math.sqrt(TRADING_DAYS)


def attributed_fills(executions: pl.DataFrame, orders: pl.DataFrame) -> pl.DataFrame:
    """Executions with their order's ``strategy_id`` and ``intent`` (null for executions of
    orders V6 did not place) and their ``cash`` flow."""
    multiplier = pl.col("multiplier").fill_null(1).cast(pl.Float64)
    cash = -pl.col("quantity") * pl.col("price") * multiplier - pl.col("commission")
    owners = orders.select("order_id", "strategy_id", "intent")
    return executions.join(owners, on="order_id", how="left").with_columns(cash=cash)


def strategy_results(strategies: pl.DataFrame, fills: pl.DataFrame) -> pl.DataFrame:
    """Per strategy: status, ``pnl`` (sum of its cash flows; null without executions),
    ``commissions``, ``executions`` and ``days_in_trade`` (opened to closed, in days)."""
    flows = (
        fills.filter(pl.col("strategy_id").is_not_null())
        .group_by("strategy_id")
        .agg(
            pnl=pl.col("cash").sum(),
            commissions=pl.col("commission").sum(),
            executions=pl.len(),
        )
    )
    held = pl.col("closed_at") - pl.col("opened_at")
    return (
        strategies.join(flows, on="strategy_id", how="left")
        .with_columns(
            executions=pl.col("executions").fill_null(0),
            days_in_trade=held.dt.total_microseconds() / 86_400e6,
        )
        .sort("strategy_id")
    )


@dataclass(frozen=True, slots=True)
class TradeStats:
    closed: int
    """CLOSED strategies with executions: the trades the statistics below describe."""
    open: int
    """PENDING, OPEN or CLOSING strategies."""
    cancelled: int
    closed_without_executions: int
    wins: int
    losses: int
    win_rate: float | None
    realized_pnl: float
    average_pnl: float | None
    average_days_in_trade: float | None


def trade_stats(results: pl.DataFrame) -> TradeStats:
    status = pl.col("status")
    closed_all = results.filter(status == "closed")
    closed = closed_all.filter(pl.col("executions") > 0)
    wins = closed.filter(pl.col("pnl") > 0).height
    count = closed.height
    return TradeStats(
        closed=count,
        open=results.filter(status.is_in(["pending", "open", "closing"])).height,
        cancelled=results.filter(status == "cancelled").height,
        closed_without_executions=closed_all.height - count,
        wins=wins,
        losses=count - wins,
        win_rate=wins / count if count else None,
        realized_pnl=float(closed["pnl"].sum()) if count else 0.0,
        average_pnl=_mean(closed["pnl"]),
        average_days_in_trade=_mean(closed["days_in_trade"]),
    )


def _mean(values: pl.Series) -> float | None:
    present = values.drop_nulls()
    return float(present.mean()) if present.len() else None  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Slippage:
    option_executions: int
    """Option executions of V6's orders."""
    with_mid: int
    """Those with a snapshot mid at most `MID_MAX_AGE` before them."""
    contracts: int
    total: float
    """Currency; positive is a cost against the mid."""
    per_contract: float | None


def slippage(fills: pl.DataFrame, quotes: pl.DataFrame) -> Slippage:
    """Execution prices against the mid (see the module docstring). ``quotes``: ``at``,
    ``occ_symbol``, ``bid``, ``ask`` from the position snapshots."""
    options = fills.filter(pl.col("strategy_id").is_not_null() & (pl.col("sec_type") == "OPT"))
    mids = (
        quotes.filter(pl.col("bid").is_not_null() & (pl.col("ask") >= pl.col("bid")))
        .select("at", symbol="occ_symbol", mid=(pl.col("bid") + pl.col("ask")) / 2)
        .sort("at")
    )
    priced = (
        options.sort("time")
        .join_asof(
            mids,
            left_on="time",
            right_on="at",
            by="symbol",
            strategy="backward",
            tolerance=MID_MAX_AGE,
            check_sortedness=False,  # both sorted above; polars cannot check it with `by`
        )
        .filter(pl.col("mid").is_not_null())
    )
    cost = (pl.col("price") - pl.col("mid")) * pl.col("quantity") * pl.col("multiplier")
    total = float(priced.select(cost.sum()).item()) if priced.height else 0.0
    contracts = int(priced["quantity"].abs().sum()) if priced.height else 0
    return Slippage(
        option_executions=options.height,
        with_mid=priced.height,
        contracts=contracts,
        total=total,
        per_contract=total / contracts if contracts else None,
    )


def rule_counts(decisions: pl.DataFrame) -> pl.DataFrame:
    """Per rule: ``triggered`` (evaluations it triggered in), ``decided`` (evaluations it
    decided), ``strategies`` (distinct strategies it triggered for); most triggered first.
    ``decisions``: ``rule``, ``deciding``, ``strategy_id`` without the HOLD verdicts."""
    triggered = (
        decisions.filter(~pl.col("deciding"))
        .group_by("rule")
        .agg(triggered=pl.len(), strategies=pl.col("strategy_id").n_unique())
    )
    decided = decisions.filter(pl.col("deciding")).group_by("rule").agg(decided=pl.len())
    counts = triggered.join(decided, on="rule", how="full", coalesce=True)
    return counts.select(
        "rule",
        pl.col("triggered").fill_null(0).cast(pl.Int64),
        pl.col("decided").fill_null(0).cast(pl.Int64),
        pl.col("strategies").fill_null(0).cast(pl.Int64),
    ).sort(["triggered", "decided", "rule"], descending=[True, True, False])
