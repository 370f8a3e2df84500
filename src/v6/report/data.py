"""Reading what the report needs from the tables, read-only and column-pruned, as polars
frames (the store's reader: one table version per read; a table never written reads empty)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import polars as pl

from v6.report.metrics import EXCHANGE_TIME_ZONE
from v6.risk import RiskEvent
from v6.store import Store, TableSpec, table_spec

HOLD_RULE: Final = "hold"
"""The deciding verdict of a strategy no rule triggered for (most rows: not read)."""
COLUMNS: Final = {
    "strategies": ("strategy_id", "kind", "status", "underlying", "opened_at", "closed_at"),
    "orders": ("order_id", "strategy_id", "intent", "status", "submitted_at"),
    "executions": (
        "exec_id", "order_id", "symbol", "sec_type", "multiplier", "quantity", "price",
        "commission", "time",
    ),
    "account_snapshots": ("account", "at", "net_liquidation"),
    "decisions": ("rule", "deciding", "strategy_id"),
}  # fmt: skip


@dataclass(frozen=True)
class ReportData:
    strategies: pl.DataFrame
    orders: pl.DataFrame
    executions: pl.DataFrame
    accounts: pl.DataFrame
    decisions: pl.DataFrame
    """Every triggered rule and every deciding verdict other than HOLD."""
    quotes: pl.DataFrame
    """Leg quotes (at, occ_symbol, bid, ask) of the session dates with option executions."""
    risk_events: list[RiskEvent]


def load_report_data(store: Store) -> ReportData:
    executions = _frame(store, "executions")
    return ReportData(
        strategies=_frame(store, "strategies"),
        orders=_frame(store, "orders"),
        executions=executions,
        accounts=_frame(store, "account_snapshots"),
        decisions=_frame(store, "decisions", [("rule", "!=", HOLD_RULE)]),
        quotes=_quotes(store, executions),
        risk_events=store.risk_events.since(),
    )


def _frame(
    store: Store, name: str, filters: list[tuple[str, str, object]] | None = None
) -> pl.DataFrame:
    spec: TableSpec = table_spec(name)
    table = store.reader.read(spec, columns=list(COLUMNS[name]), filters=filters or [])
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame


def _quotes(store: Store, executions: pl.DataFrame) -> pl.DataFrame:
    options = executions.filter(pl.col("sec_type") == "OPT")
    days = options.select(
        pl.col("time").dt.convert_time_zone(EXCHANGE_TIME_ZONE).dt.date().unique().sort()
    ).to_series()
    symbols = options["symbol"].unique().sort()
    table = store.reader.read(
        table_spec("position_snapshots"),
        columns=["at", "occ_symbol", "bid", "ask"],
        filters=[("trade_date", "in", days.to_list()), ("occ_symbol", "in", symbols.to_list())],
    )
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame
