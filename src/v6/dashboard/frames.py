"""Pure table shaping for the pages: store rows in, display frames out (no Streamlit, no I/O).

Figures come from `v6.book` (per-leg position Greeks, per-strategy P&L) and `v6.risk.limits`
(exposure, limit violations); this module only joins, filters and reshapes them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

import polars as pl

from v6.book import QUOTES_SCHEMA, build_book, leg_view, summarize
from v6.domain import Strategy, StrategyStatus
from v6.risk.circuit_breaker import BreakerStatus
from v6.risk.events import RiskEventKind

EXCHANGE_TIME_ZONE: Final = "America/New_York"
GREEKS: Final = ("delta", "gamma", "theta", "vega")
GREEK_LABELS: Final = {
    "delta": "Delta (shares)",
    "gamma": "Gamma (shares per $1)",
    "theta": "Theta ($ per day)",
    "vega": "Vega ($ per vol point)",
}
CONTROL_KINDS: Final = (
    RiskEventKind.BREAKER_TRANSITION.value,
    RiskEventKind.TRADING_HALTED.value,
    RiskEventKind.TRADING_RESUMED.value,
)
"""Risk events that tell the breaker's state and whether trading is halted."""

_MARKED: Final = (StrategyStatus.OPEN, StrategyStatus.CLOSING)
_NUMBER: Final = r"-?\d+(?:\.\d+)?(?:e[+-]?\d+)?"
_METRIC: Final = re.compile(rf"\b([A-Za-z_]\w*)=({_NUMBER})(?:/({_NUMBER}))?")


def quotes_from_snapshots(snapshots: pl.DataFrame) -> pl.DataFrame:
    """The latest snapshot of every contract as a `v6.book` quotes frame."""
    latest = snapshots.sort("at").unique("occ_symbol", keep="last")
    return latest.rename({"implied_vol": "iv", "at": "mark_time"}).select(
        [pl.col(name).cast(dtype) for name, dtype in QUOTES_SCHEMA.items()]
    )


def latest_decisions(decisions: pl.DataFrame) -> pl.DataFrame:
    """Each strategy's newest deciding verdict: ``action``, ``rule``, ``reason``,
    ``decided_at``."""
    return (
        decisions.sort("at")
        .unique("strategy_id", keep="last")
        .select("strategy_id", "action", "rule", "reason", pl.col("at").alias("decided_at"))
    )


@dataclass(frozen=True)
class Book:
    """The open book for the pages: one row per live strategy and one per marked leg."""

    strategies: pl.DataFrame
    legs: pl.DataFrame

    @property
    def is_empty(self) -> bool:
        return self.strategies.is_empty()


STRATEGY_COLUMNS: Final = (
    "strategy_id",
    "kind",
    "underlying",
    "status",
    "units",
    "dte",
    "entry_credit",
    "value",
    "pnl",
    "pnl_of_max_profit",
    "max_profit",
    "max_loss",
    *GREEKS,
    "action",
    "rule",
    "reason",
    "decided_at",
    "mark_time",
    "managed",
    "opened_at",
)

LEG_COLUMNS: Final = (
    "strategy_id",
    "underlying",
    "expiry",
    "dte",
    "right",
    "strike",
    "quantity",
    "bid",
    "ask",
    "mark",
    "iv",
    "underlying_price",
    "value",
    "pos_delta",
    "pos_gamma",
    "pos_theta",
    "pos_vega",
    "mark_time",
    "kind",
)


def build_view(
    strategies: Sequence[Strategy],
    snapshots: pl.DataFrame,
    decisions: pl.DataFrame,
    today: date,
) -> Book:
    """Live ``strategies`` with the latest marks of their legs and their current decision.

    OPEN and CLOSING strategies go through `v6.book` (marks, Greeks, P&L, DTE); PENDING ones
    have no fill yet and show without figures."""
    marked = [s for s in strategies if s.status in _MARKED and s.entry_premium is not None]
    book = build_book(marked, quotes_from_snapshots(snapshots))
    legs = leg_view(book, today)
    summary = summarize(book, today).frame.with_columns(
        pnl_of_max_profit=pl.col("pnl") / pl.col("max_profit")
    )
    info = _strategy_info(strategies, today)
    table = (
        info.join(summary.drop("kind", "underlying", "dte"), on="strategy_id", how="left")
        .join(latest_decisions(decisions), on="strategy_id", how="left")
        .with_columns(pl.col("units").fill_null(pl.col("quantity")))
        .select(STRATEGY_COLUMNS)
        .sort("underlying", "strategy_id")
    )
    return Book(table, legs.select(LEG_COLUMNS).sort("strategy_id", "expiry", "right", "strike"))


def _strategy_info(strategies: Iterable[Strategy], today: date) -> pl.DataFrame:
    rows = [
        {
            "strategy_id": s.strategy_id,
            "kind": s.kind.value,
            "underlying": ",".join(s.underlyings),
            "status": s.status.value,
            "quantity": s.quantity,
            "dte": min(leg.contract.days_to_expiry(today) for leg in s.legs),
            "opened_at": s.opened_at,
        }
        for s in strategies
    ]
    schema = {
        "strategy_id": pl.String(),
        "kind": pl.String(),
        "underlying": pl.String(),
        "status": pl.String(),
        "quantity": pl.Int64(),
        "dte": pl.Int64(),
        "opened_at": pl.Datetime("us", "UTC"),
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def filter_book(
    book: Book,
    symbols: Sequence[str] = (),
    statuses: Sequence[str] = (),
    kinds: Sequence[str] = (),
) -> Book:
    """The strategies (and their legs) matching every non-empty filter."""
    keep = pl.lit(True)
    for column, chosen in (("underlying", symbols), ("status", statuses), ("kind", kinds)):
        if chosen:
            keep = keep & pl.col(column).is_in(list(chosen))
    strategies = book.strategies.filter(keep)
    legs = book.legs.filter(pl.col("strategy_id").is_in(strategies["strategy_id"].implode()))
    return Book(strategies, legs)


def greek_grid(legs: pl.DataFrame, greek: str) -> pl.DataFrame:
    """Position ``greek`` summed by underlying (rows) and expiry (columns, ascending)."""
    if greek not in GREEKS:
        raise ValueError(f"greek {greek!r}: expected one of {list(GREEKS)}")
    sums = legs.group_by("underlying", "expiry").agg(pl.col(f"pos_{greek}").sum().alias(greek))
    expiries = sorted(sums["expiry"].unique().to_list())
    grid = sums.pivot(on="expiry", index="underlying", values=greek, sort_columns=True)
    names = {str(day): day.isoformat() for day in expiries}
    return grid.rename(names).sort("underlying")


def concentration(strategies: pl.DataFrame) -> pl.DataFrame:
    """Per underlying: open strategies, maximum loss and its share of the book's."""
    open_book = strategies.filter(pl.col("max_loss").is_not_null())
    return (
        open_book.group_by("underlying")
        .agg(pl.len().alias("strategies"), pl.col("max_loss").sum())
        .with_columns(share=pl.col("max_loss") / pl.col("max_loss").sum())
        .sort("share", descending=True)
    )


def heartbeat_metrics(message: str | None) -> dict[str, tuple[float, float | None]]:
    """Numbers a heartbeat message carries as ``name=value`` or ``name=used/limit``
    (``"depth=12 oldest_mark_s=31.5"``, ``"lines=8/10"``)."""
    if not message:
        return {}
    return {
        name: (float(value), float(limit) if limit else None)
        for name, value, limit in _METRIC.findall(message)
    }


@dataclass(frozen=True)
class ControlState:
    """The breaker and the operator halt as the newest risk events tell them."""

    breaker: str
    breaker_since: datetime | None
    breaker_reason: str | None
    halted: bool
    halt_reason: str | None
    halted_since: datetime | None

    @property
    def trading(self) -> str:
        """ACTIVE, REDUCING (breaker not closed: closing orders only) or HALTED."""
        if self.halted:
            return "halted"
        return "active" if self.breaker == BreakerStatus.CLOSED.value else "reducing"


def control_state(events: pl.DataFrame) -> ControlState:
    """From risk events of `CONTROL_KINDS` (columns ``at``, ``kind``, ``reason``,
    ``details``): the newest breaker transition and the newest halt or resume."""
    ordered = events.sort("at")
    transitions = ordered.filter(pl.col("kind") == RiskEventKind.BREAKER_TRANSITION.value)
    halts = ordered.filter(pl.col("kind") != RiskEventKind.BREAKER_TRANSITION.value)
    breaker, since, why = BreakerStatus.CLOSED.value, None, None
    if not transitions.is_empty():
        last = transitions.row(-1, named=True)
        details = json.loads(last["details"] or "{}")
        breaker = str(details.get("to_state", BreakerStatus.CLOSED.value))
        since, why = last["at"], last["reason"]
    halted, halt_reason, halted_since = False, None, None
    if not halts.is_empty():
        last = halts.row(-1, named=True)
        halted = last["kind"] == RiskEventKind.TRADING_HALTED.value
        if halted:
            halt_reason, halted_since = last["reason"], last["at"]
    return ControlState(breaker, since, why, halted, halt_reason, halted_since)


def in_exchange_time(frame: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """``columns`` (UTC datetimes) shown in New York time."""
    return frame.with_columns(
        pl.col(name).dt.convert_time_zone(EXCHANGE_TIME_ZONE) for name in columns
    )
