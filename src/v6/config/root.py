"""`V6Config`: every part of the configuration, and the rules that span parts."""

from __future__ import annotations

from typing import Self

from pydantic import model_validator

from v6.config._base import ConfigPart, Conflict, raise_conflicts
from v6.config.alerts import AlertsConfig
from v6.config.broker import BrokerConfig
from v6.config.dashboard import DashboardConfig
from v6.config.decisions import DecisionsConfig
from v6.config.engine import EngineConfig
from v6.config.execution import ExecutionConfig
from v6.config.health import HealthConfig
from v6.config.logs import LoggingConfig
from v6.config.risk import RiskConfig
from v6.config.storage import StorageConfig
from v6.config.strategies import StrategiesConfig
from v6.config.sync import SyncConfig


class V6Config(ConfigPart):
    """The whole configuration; `V6Config()` is the embedded-simulator default."""

    broker: BrokerConfig = BrokerConfig()
    storage: StorageConfig = StorageConfig()
    engine: EngineConfig = EngineConfig()
    sync: SyncConfig = SyncConfig()
    strategies: StrategiesConfig = StrategiesConfig()
    decisions: DecisionsConfig = DecisionsConfig()
    execution: ExecutionConfig = ExecutionConfig()
    risk: RiskConfig = RiskConfig()
    dashboard: DashboardConfig = DashboardConfig()
    alerts: AlertsConfig = AlertsConfig()
    health: HealthConfig = HealthConfig()
    logging: LoggingConfig = LoggingConfig()

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        raise_conflicts([self._streaming_within_lines(), self._snapshots_below_pacing()])
        return self

    def _streaming_within_lines(self) -> Conflict | None:
        lines = self.broker.market_data_lines
        if self.sync.streaming_lines <= lines:
            return None
        return Conflict(
            "sync.streaming_lines",
            self.sync.streaming_lines,
            f"a number <= broker.market_data_lines ({lines})",
        )

    def _snapshots_below_pacing(self) -> Conflict | None:
        """Sync's token bucket may send rate + burst messages in one second: keep that within
        the broker's pacing limit, so sync alone can never cause IB's error 100."""
        pacing = self.broker.pacing_messages_per_second
        burst = self.sync.snapshot_burst
        if self.sync.snapshot_rate_per_second + burst <= pacing:
            return None
        return Conflict(
            "sync.snapshot_rate_per_second",
            self.sync.snapshot_rate_per_second,
            f"a number <= broker.pacing_messages_per_second ({pacing}) - sync.snapshot_burst "
            f"({burst})",
        )
