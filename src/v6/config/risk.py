"""Risk configuration: portfolio limits, the circuit breaker, and trailing stops."""

from __future__ import annotations

from pydantic import Field

from v6.config._base import ConfigPart


class PortfolioLimits(ConfigPart):
    """Limits every intent is checked against (Greeks in share-equivalents, theta per day)."""

    max_abs_delta: float = Field(
        default=200.0, ge=0, description="Largest absolute portfolio delta, in shares."
    )
    max_abs_gamma: float = Field(
        default=500.0,
        ge=0,
        description="Largest absolute portfolio gamma, in share-equivalents per $1 move.",
    )
    max_abs_vega: float = Field(
        default=1000.0, ge=0, description="Largest absolute portfolio vega, in $ per vol point."
    )
    max_abs_theta: float = Field(
        default=500.0, ge=0, description="Largest absolute portfolio theta, in $ per day."
    )
    max_symbol_concentration: float = Field(
        default=0.30,
        ge=0,
        le=1,
        description="Largest share of the risk base on one underlying (0..1): its maximum loss "
        "over the larger of the book's total maximum loss and the risk budget "
        "(max_buying_power_use x buying power).",
    )
    concentration_min_strategies: int = Field(
        default=5,
        ge=1,
        le=10_000,
        description="Concentration is checked once the book holds at least this many open "
        "strategies (with one strategy, one underlying is always 100% of the book).",
    )
    max_open_strategies: int = Field(
        default=20, ge=0, le=10_000, description="Open strategies across all underlyings."
    )
    max_buying_power_use: float = Field(
        default=0.50, ge=0, le=1, description="Largest fraction of buying power in use (0..1)."
    )


class CircuitBreakerConfig(ConfigPart):
    """System-level stop: too many failures in a window, a daily loss or a drawdown block new
    entries (closing orders still pass)."""

    failure_threshold: int = Field(
        default=3,
        ge=1,
        le=1000,
        description="Failures (order rejects, broker errors, reconciliation conflicts, "
        "unexpected fills) within the window that trip it.",
    )
    window_seconds: float = Field(
        default=300.0, gt=0, le=86_400, description="Length of the counting window."
    )
    cooldown_seconds: float = Field(
        default=900.0,
        gt=0,
        le=86_400,
        description="Time tripped by failures before it half-opens (one probe entry).",
    )
    max_daily_loss_fraction: float = Field(
        default=0.03,
        gt=0,
        le=1,
        description="Trips when equity falls this fraction below the day's opening equity; "
        "half-opens on the next trading day.",
    )
    max_drawdown_fraction: float = Field(
        default=0.10,
        gt=0,
        le=1,
        description="Trips when equity falls this fraction below its peak; only a reset "
        "(by command) closes it.",
    )


class TrailingStopConfig(ConfigPart):
    """Per-position trailing stop on profit (used by the trailing_stop decision rule)."""

    activation_profit_fraction: float = Field(
        default=0.30,
        gt=0,
        le=1,
        description="Arms once profit reaches this fraction of the maximum profit.",
    )
    trail_fraction: float = Field(
        default=0.40,
        gt=0,
        lt=1,
        description="Once armed, closes when profit falls this fraction below its peak.",
    )
    confirm_marks: int = Field(
        default=3,
        ge=1,
        le=1000,
        description="A breach counts after this many consecutive valid marks ...",
    )
    confirm_seconds: float = Field(
        default=60.0,
        ge=0,
        le=86_400,
        description="... or once it has lasted this many seconds, whichever comes first.",
    )
    max_spread_fraction: float = Field(
        default=0.50,
        gt=0,
        le=2,
        description="Marks whose combo bid/ask width exceeds this fraction of the mid (or "
        "with a crossed or missing quote) are ignored.",
    )


class RiskConfig(ConfigPart):
    """Risk at three levels: portfolio limits, system circuit breaker, position trailing stop."""

    portfolio: PortfolioLimits = PortfolioLimits()
    circuit_breaker: CircuitBreakerConfig = CircuitBreakerConfig()
    trailing_stop: TrailingStopConfig = TrailingStopConfig()
