"""Risk management: portfolio limits, the circuit breaker, trailing stops, and the risk gate
every order intent passes (accepted or denied with a recorded `RiskEvent`).

Recording a cycle in the store and restoring the risk state at start-up live in
`v6.risk.persistence`, which imports the store and so is not imported here."""

from v6.risk.circuit_breaker import (
    BreakerState,
    BreakerStatus,
    BreakerStep,
    CircuitBreaker,
    FailureKind,
    TradingState,
    TripCause,
)
from v6.risk.events import RiskEvent, RiskEventKind, RiskLevel, risk_alert
from v6.risk.gate import GateVerdict, RiskGate
from v6.risk.limits import (
    EntryCandidate,
    Exposure,
    LimitBreach,
    LimitMonitor,
    LimitName,
    LimitViolation,
    MonitorResult,
    breaches,
    check_entry,
    limit_targets,
    violations,
)
from v6.risk.trailing_stop import TrailingState, TrailingStopManager, TrailingUpdate

__all__ = [
    "BreakerState",
    "BreakerStatus",
    "BreakerStep",
    "CircuitBreaker",
    "EntryCandidate",
    "Exposure",
    "FailureKind",
    "GateVerdict",
    "LimitBreach",
    "LimitMonitor",
    "LimitName",
    "LimitViolation",
    "MonitorResult",
    "RiskEvent",
    "RiskEventKind",
    "RiskGate",
    "RiskLevel",
    "TradingState",
    "TrailingState",
    "TrailingStopManager",
    "TrailingUpdate",
    "TripCause",
    "breaches",
    "check_entry",
    "limit_targets",
    "risk_alert",
    "violations",
]
