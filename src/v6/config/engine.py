"""Engine configuration: the cadence of the trading cycle."""

from __future__ import annotations

from pydantic import Field

from v6.config._base import ConfigPart


class EngineConfig(ConfigPart):
    """How often the engine cycles and reconciles, and whether it may place orders."""

    cycle_interval_seconds: float = Field(
        default=5.0,
        gt=0,
        le=3600,
        description="Seconds of (real or simulated) time between two engine cycles.",
    )
    reconcile_interval_minutes: float = Field(
        default=5.0,
        gt=0,
        le=1440,
        description="Minutes between reconciliations of the broker's positions with the store.",
    )
    time_acceleration: float = Field(
        default=0.0,
        ge=0,
        description="Simulated exchange only: simulated seconds per real second. `v6 run "
        "--days` runs: 0 as fast as possible, 1 in real time, 60 a minute per second; "
        "real-clock runs (no --days): 0 or 1 real time, 60 sixty times faster.",
    )
    dry_run: bool = Field(
        default=False,
        description="Decide and record every order, but never send one to the broker.",
    )
