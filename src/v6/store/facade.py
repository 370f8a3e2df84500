"""``Store``: the tables of one data location, with a repository per entity.

The engine opens it with a writer app id, makes it durable when a strategy or order moves and
flushes it when due (``flush_if_due``, every cycle); the dashboard and reports open it
read-only (no app id) and read through the same repositories. A component that only submits
commands (the dashboard) opens it with its own app id: each process writes under its own app
id (see ``v6.store.writer``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from v6.config.storage import StorageConfig
from v6.store.readers import StoreReader
from v6.store.repositories.events import (
    AlertRepository,
    DecisionRepository,
    ReconciliationRepository,
    RiskEventRepository,
    RiskStateRepository,
)
from v6.store.repositories.operations import (
    AccountRepository,
    CommandRepository,
    HealthRepository,
)
from v6.store.repositories.orders import ExecutionRepository, OrderRepository
from v6.store.repositories.positions import PositionRepository, SnapshotRepository
from v6.store.repositories.strategies import StrategyRepository
from v6.store.tables import StoreLocation
from v6.store.writer import StoreWriter, TableFlush, WriterSettings


class Store:
    """Repositories over one location; writable when opened with an ``app_id``."""

    def __init__(
        self,
        location: StoreLocation,
        app_id: str | None = None,
        settings: WriterSettings | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.location = location
        self.reader = StoreReader(location)
        self.writer = (
            None if app_id is None else StoreWriter(location, app_id, settings, clock=clock)
        )
        parts = (self.reader, self.writer)
        self.strategies = StrategyRepository(*parts)
        self.positions = PositionRepository(*parts)
        self.snapshots = SnapshotRepository(*parts)
        self.orders = OrderRepository(*parts)
        self.executions = ExecutionRepository(*parts)
        self.decisions = DecisionRepository(*parts)
        self.alerts = AlertRepository(*parts)
        self.risk_events = RiskEventRepository(*parts)
        self.risk_state = RiskStateRepository(*parts)
        self.reconciliation = ReconciliationRepository(*parts)
        self.accounts = AccountRepository(*parts)
        self.commands = CommandRepository(*parts)
        self.health = HealthRepository(*parts)

    @classmethod
    def from_config(cls, config: StorageConfig, app_id: str | None = None) -> Store:
        """The store at ``config.location``; writer settings from the config."""
        location = StoreLocation.from_config(config)
        return cls(location, app_id, WriterSettings.from_config(config))

    def flush(self) -> list[TableFlush]:
        """Commit everything buffered (see ``StoreWriter.flush``); no-op when read-only."""
        return [] if self.writer is None else self.writer.flush()

    def make_durable(self) -> None:
        """Make everything added so far survive a crash (see ``StoreWriter.make_durable``);
        no-op when read-only."""
        if self.writer is not None:
            self.writer.make_durable()

    def flush_if_due(self) -> list[TableFlush]:
        return [] if self.writer is None else self.writer.flush_if_due()
