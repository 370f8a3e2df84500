"""Every table V6 keeps, in the order the writer commits them.

Children are committed before their parents (legs before strategies, executions before
orders), so a reader that reads the parent table first and the child table second never finds
a strategy without its legs, even though each table commits on its own.

Conventions: ids are strings; option contracts are stored by their 21-character OCC symbol
plus the parsed fields (so SQL engines can filter on them); ``trade_date`` is the New York
session date of the event; free-form details are JSON text (every engine reads it).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

from v6.store.schemas import STRIKE, UTC_MICROS, Column, TableSpec, WriteMode

_TEXT = pa.string()
_INT = pa.int32()
_BIG = pa.int64()
_FLOAT = pa.float64()


def _required(name: str, kind: pa.DataType) -> Column:
    return Column(name, kind, nullable=False)


def _contract_columns() -> tuple[Column, ...]:
    """The parsed fields of a contract; null for stock where an option field does not apply."""
    return (
        Column("underlying", _TEXT),
        Column("expiry", pa.date32()),
        Column("strike", STRIKE),
        Column("right", _TEXT),
        Column("multiplier", _INT),
    )


LEGS = TableSpec(
    name="legs",
    columns=(
        _required("strategy_id", _TEXT),
        _required("occ_symbol", _TEXT),
        *_contract_columns(),
        _required("quantity", _INT),
    ),
    key=("strategy_id", "occ_symbol"),
    mode=WriteMode.MERGE,
    description="Option legs of each strategy; quantity is the signed ratio of one unit.",
)

STRATEGIES = TableSpec(
    name="strategies",
    columns=(
        _required("strategy_id", _TEXT),
        _required("kind", _TEXT),
        _required("status", _TEXT),
        _required("quantity", _INT),
        Column("underlying", _TEXT),
        Column("entry_premium", _FLOAT),
        _required("defined_risk", pa.bool_()),
        Column("opened_at", UTC_MICROS),
        Column("closed_at", UTC_MICROS),
        _required("updated_at", UTC_MICROS),
    ),
    key=("strategy_id",),
    mode=WriteMode.MERGE,
    untracked=("updated_at",),
    description="Strategies with their lifecycle status; legs are in the legs table.",
)

EXECUTIONS = TableSpec(
    name="executions",
    columns=(
        _required("exec_id", _TEXT),
        _required("order_id", _TEXT),
        _required("symbol", _TEXT),
        _required("sec_type", _TEXT),
        *_contract_columns(),
        _required("quantity", _INT),
        _required("price", _FLOAT),
        _required("commission", _FLOAT),
        _required("time", UTC_MICROS),
    ),
    key=("exec_id",),
    mode=WriteMode.APPEND,
    time_column="time",
    description="Broker executions (fills), one row per exec_id; quantity signed.",
)

ORDERS = TableSpec(
    name="orders",
    columns=(
        _required("order_id", _TEXT),
        _required("strategy_id", _TEXT),
        _required("intent", _TEXT),
        _required("order_ref", _TEXT),
        _required("legs", _TEXT),
        _required("quantity", _INT),
        _required("limit_price", _FLOAT),
        _required("status", _TEXT),
        _required("filled_quantity", _INT),
        Column("avg_fill_price", _FLOAT),
        Column("broker_order_id", _TEXT),
        Column("message", _TEXT),
        _required("submitted_at", UTC_MICROS),
        _required("updated_at", UTC_MICROS),
    ),
    key=("order_id",),
    mode=WriteMode.MERGE,
    untracked=("updated_at",),
    description="Orders V6 placed, with their latest status (combo price convention).",
)

POSITIONS = TableSpec(
    name="positions",
    columns=(
        _required("account", _TEXT),
        _required("symbol", _TEXT),
        _required("sec_type", _TEXT),
        *_contract_columns(),
        _required("quantity", _BIG),
        _required("avg_cost", _FLOAT),
        _required("updated_at", UTC_MICROS),
    ),
    key=("account", "symbol"),
    mode=WriteMode.MERGE,
    untracked=("updated_at",),
    description="Broker positions as last seen; quantity 0 once closed.",
)

POSITION_SNAPSHOTS = TableSpec(
    name="position_snapshots",
    columns=(
        _required("trade_date", pa.date32()),
        _required("at", UTC_MICROS),
        _required("strategy_id", _TEXT),
        _required("occ_symbol", _TEXT),
        Column("underlying_price", _FLOAT),
        Column("bid", _FLOAT),
        Column("ask", _FLOAT),
        Column("mark", _FLOAT),
        Column("implied_vol", _FLOAT),
        Column("delta", _FLOAT),
        Column("gamma", _FLOAT),
        Column("theta", _FLOAT),
        Column("vega", _FLOAT),
        Column("rho", _FLOAT),
    ),
    key=("strategy_id", "occ_symbol", "at"),
    mode=WriteMode.APPEND,
    partition_by=("trade_date",),
    time_column="at",
    description="Per leg per sync: quotes, mark, implied vol and per-share Greeks.",
)

DECISIONS = TableSpec(
    name="decisions",
    columns=(
        _required("trade_date", pa.date32()),
        _required("at", UTC_MICROS),
        _required("strategy_id", _TEXT),
        _required("rule", _TEXT),
        _required("deciding", pa.bool_()),
        _required("priority", _INT),
        _required("action", _TEXT),
        _required("reason", _TEXT),
        _required("metrics", _TEXT),
    ),
    key=("strategy_id", "at", "rule", "deciding"),
    mode=WriteMode.APPEND,
    partition_by=("trade_date",),
    time_column="at",
    description=(
        "The rule book per strategy per evaluation: the deciding verdict (deciding = true: "
        "the winning rule, hold, or market_veto) and every rule that triggered (false); "
        "metrics as JSON."
    ),
)

ALERTS = TableSpec(
    name="alerts",
    columns=(
        _required("alert_id", _TEXT),
        _required("severity", _TEXT),
        _required("source", _TEXT),
        _required("message", _TEXT),
        _required("dedup_key", _TEXT),
        _required("created_at", UTC_MICROS),
        Column("acknowledged_at", UTC_MICROS),
    ),
    key=("alert_id",),
    mode=WriteMode.MERGE,
    description="Alerts raised for people, and when they were acknowledged.",
)

RISK_EVENTS = TableSpec(
    name="risk_events",
    columns=(
        _required("event_id", _TEXT),
        _required("at", UTC_MICROS),
        _required("level", _TEXT),
        _required("kind", _TEXT),
        Column("strategy_id", _TEXT),
        _required("reason", _TEXT),
        _required("details", _TEXT),
    ),
    key=("event_id",),
    mode=WriteMode.APPEND,
    time_column="at",
    description="Risk gate denials, breaker trips and limit breaches; details as JSON.",
)

RECONCILIATION_EVENTS = TableSpec(
    name="reconciliation_events",
    columns=(
        _required("event_id", _TEXT),
        _required("at", UTC_MICROS),
        _required("account", _TEXT),
        _required("symbol", _TEXT),
        _required("kind", _TEXT),
        Column("broker_quantity", _BIG),
        Column("store_quantity", _BIG),
        Column("resolution", _TEXT),
    ),
    key=("event_id",),
    mode=WriteMode.APPEND,
    time_column="at",
    description="Differences found between the broker and the store, and what was done.",
)

ACCOUNT_SNAPSHOTS = TableSpec(
    name="account_snapshots",
    columns=(
        _required("account", _TEXT),
        _required("at", UTC_MICROS),
        Column("net_liquidation", _FLOAT),
        Column("cash", _FLOAT),
        Column("buying_power", _FLOAT),
        Column("maintenance_margin", _FLOAT),
        Column("unrealized_pnl", _FLOAT),
        Column("realized_pnl", _FLOAT),
    ),
    key=("account", "at"),
    mode=WriteMode.APPEND,
    time_column="at",
    description="Account values over time: the equity curve.",
)

COMMANDS = TableSpec(
    name="commands",
    columns=(
        _required("command_id", _TEXT),
        _required("kind", _TEXT),
        _required("payload", _TEXT),
        _required("status", _TEXT),
        _required("requested_by", _TEXT),
        _required("requested_at", UTC_MICROS),
        _required("updated_at", UTC_MICROS),
        Column("result", _TEXT),
    ),
    key=("command_id",),
    mode=WriteMode.MERGE,
    untracked=("updated_at",),
    description="Requests from the dashboard or CLI to the engine, with their status.",
)

HEALTH = TableSpec(
    name="health",
    columns=(
        _required("component", _TEXT),
        _required("status", _TEXT),
        _required("at", UTC_MICROS),
        Column("message", _TEXT),
    ),
    key=("component",),
    mode=WriteMode.MERGE,
    description="The latest heartbeat of each component.",
)

RISK_STATE = TableSpec(
    name="risk_state",
    columns=(
        _required("component", _TEXT),
        _required("state", _TEXT),
        _required("updated_at", UTC_MICROS),
    ),
    key=("component",),
    mode=WriteMode.MERGE,
    untracked=("updated_at",),
    description=(
        "The risk layer's state to restart from (circuit breaker, trailing stops, breached "
        "limits), one JSON record per component; committed after the events it follows from."
    ),
)

ALL_TABLES: tuple[TableSpec, ...] = (
    LEGS,
    STRATEGIES,
    EXECUTIONS,
    ORDERS,
    POSITIONS,
    POSITION_SNAPSHOTS,
    DECISIONS,
    ALERTS,
    RISK_EVENTS,
    RECONCILIATION_EVENTS,
    ACCOUNT_SNAPSHOTS,
    COMMANDS,
    HEALTH,
    RISK_STATE,
)
"""Every table, in commit order (children before parents; risk_state last, so a committed
risk state never runs ahead of the decisions, alerts and risk events of its cycle)."""

TABLES: Mapping[str, TableSpec] = MappingProxyType({spec.name: spec for spec in ALL_TABLES})


def table_spec(name: str) -> TableSpec:
    """The spec of table ``name``, or a ValueError listing the tables that exist."""
    try:
        return TABLES[name]
    except KeyError:
        raise ValueError(f"table {name!r}: expected one of {sorted(TABLES)}") from None
