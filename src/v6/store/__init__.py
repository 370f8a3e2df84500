"""V6's Delta Lake store: one table per entity under ``<data-dir>/tables/``.

``Store`` (repositories), ``StoreWriter`` (batched idempotent writes), ``StoreReader``
(consistent reads during writes), the table specs in ``catalog``, and maintenance. See
docs/storage.md. ``RiskEvent`` and ``RiskLevel`` are ``v6.risk``'s, re-exported for readers.
"""

from v6.risk.events import RiskEvent, RiskLevel
from v6.store.catalog import ALL_TABLES, TABLES, table_spec
from v6.store.errors import (
    SchemaMismatchError,
    SchemaTooNewError,
    StoreError,
    StorePermanentError,
    StoreRetryableError,
    WriteAheadLogError,
    WriterConflictError,
)
from v6.store.facade import Store
from v6.store.maintenance import MaintenanceReport, TableStats, maintain_table, table_stats
from v6.store.readers import StoreReader
from v6.store.records import (
    AccountSnapshot,
    Command,
    CommandStatus,
    HealthStatus,
    Heartbeat,
    LegSnapshot,
    OrderRecord,
    OrderStatus,
    ReconciliationEvent,
    RecordedDecision,
    trade_date,
)
from v6.store.repositories._base import ReadOnlyStoreError
from v6.store.schemas import Column, TableSpec, WriteMode
from v6.store.tables import StoreLocation
from v6.store.writer import StoreWriter, TableFlush, WriterSettings

__all__ = [
    "ALL_TABLES",
    "TABLES",
    "AccountSnapshot",
    "Column",
    "Command",
    "CommandStatus",
    "HealthStatus",
    "Heartbeat",
    "LegSnapshot",
    "MaintenanceReport",
    "OrderRecord",
    "OrderStatus",
    "ReadOnlyStoreError",
    "ReconciliationEvent",
    "RecordedDecision",
    "RiskEvent",
    "RiskLevel",
    "SchemaMismatchError",
    "SchemaTooNewError",
    "Store",
    "StoreError",
    "StoreLocation",
    "StorePermanentError",
    "StoreReader",
    "StoreRetryableError",
    "StoreWriter",
    "TableFlush",
    "TableSpec",
    "TableStats",
    "WriteAheadLogError",
    "WriteMode",
    "WriterConflictError",
    "WriterSettings",
    "maintain_table",
    "table_spec",
    "table_stats",
    "trade_date",
]
