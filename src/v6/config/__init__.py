"""V6's configuration: one frozen pydantic model per part, assembled into `V6Config`.

Loaded from TOML (`config/v6.example.toml` documents every option) with `V6_`-prefixed
environment overrides (`V6_RISK__PORTFOLIO__MAX_ABS_DELTA=150`); secrets come only from the
environment. Unknown keys, in the file or in `V6_` variables, are errors.
"""

from v6.config.alerts import AlertsConfig, SeverityName
from v6.config.broker import (
    BrokerConfig,
    BrokerKind,
    FaultInjectionConfig,
    IBConfig,
    SimConfig,
    TradingMode,
)
from v6.config.dashboard import DashboardConfig, is_loopback
from v6.config.decisions import (
    CatastrophicMoveRule,
    DecisionsConfig,
    DeltaBreachRule,
    EarlyAssignmentRule,
    EventRule,
    ExpirationPinRule,
    GammaRiskRule,
    HaltRule,
    MarketVeto,
    PortfolioLimitRule,
    StopLossRule,
    TakeProfitRule,
    TimeExitRule,
    TrailingStopRule,
)
from v6.config.engine import EngineConfig
from v6.config.env import SecretField, secret_fields
from v6.config.errors import ConfigError, ConfigProblem
from v6.config.health import HealthConfig
from v6.config.loader import load_config, load_config_text
from v6.config.logs import LoggingConfig
from v6.config.risk import CircuitBreakerConfig, PortfolioLimits, RiskConfig, TrailingStopConfig
from v6.config.root import V6Config
from v6.config.storage import StorageConfig
from v6.config.strategies import StrategiesConfig, StrategyKind, StrategyTemplate
from v6.config.sync import SyncConfig

__all__ = [
    "AlertsConfig",
    "BrokerConfig",
    "BrokerKind",
    "CatastrophicMoveRule",
    "CircuitBreakerConfig",
    "ConfigError",
    "ConfigProblem",
    "DashboardConfig",
    "DecisionsConfig",
    "DeltaBreachRule",
    "EarlyAssignmentRule",
    "EngineConfig",
    "EventRule",
    "ExpirationPinRule",
    "FaultInjectionConfig",
    "GammaRiskRule",
    "HaltRule",
    "HealthConfig",
    "IBConfig",
    "LoggingConfig",
    "MarketVeto",
    "PortfolioLimitRule",
    "PortfolioLimits",
    "RiskConfig",
    "SecretField",
    "SeverityName",
    "SimConfig",
    "StopLossRule",
    "StorageConfig",
    "StrategiesConfig",
    "StrategyKind",
    "StrategyTemplate",
    "SyncConfig",
    "TakeProfitRule",
    "TimeExitRule",
    "TradingMode",
    "TrailingStopConfig",
    "TrailingStopRule",
    "V6Config",
    "is_loopback",
    "load_config",
    "load_config_text",
    "secret_fields",
]
