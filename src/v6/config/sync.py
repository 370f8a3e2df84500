"""Market-data sync configuration: streaming lines, paced snapshots, registry proximity."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from v6.config._base import ConfigPart, Conflict, raise_conflicts


class SyncConfig(ConfigPart):
    """How the registry spends streaming lines and how fast the queue worker snapshots.

    A contract gets a streaming line when its underlying comes within
    `proximity_enter_fraction` of a short strike and gives it back only beyond
    `proximity_exit_fraction` and after `min_stream_seconds` (hysteresis, so a price
    hovering at the boundary does not churn lines). Everything else is refreshed by
    paced snapshots.
    """

    streaming_lines: int = Field(
        default=10,
        ge=0,
        description="Streaming quote lines V6 may hold; at most broker.market_data_lines.",
    )
    snapshot_rate_per_second: float = Field(
        default=40.0,
        gt=0,
        description="Token-bucket refill rate for snapshot requests; below "
        "broker.pacing_messages_per_second.",
    )
    snapshot_burst: int = Field(
        default=10, ge=1, le=1000, description="Token-bucket capacity (snapshots at once)."
    )
    proximity_enter_fraction: float = Field(
        default=0.02,
        gt=0,
        le=1,
        description="Stream a position when the underlying is within this fraction of its "
        "price from a short strike (0.02 = 2%).",
    )
    proximity_exit_fraction: float = Field(
        default=0.03,
        gt=0,
        le=1,
        description="Stop streaming only beyond this fraction (> proximity_enter_fraction).",
    )
    min_stream_seconds: float = Field(
        default=60.0, ge=0, le=86_400, description="Shortest time a streaming line is held."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        raise_conflicts([self._hysteresis_band()])
        return self

    def _hysteresis_band(self) -> Conflict | None:
        if self.proximity_exit_fraction > self.proximity_enter_fraction:
            return None
        return Conflict(
            "proximity_exit_fraction",
            self.proximity_exit_fraction,
            f"a number > proximity_enter_fraction ({self.proximity_enter_fraction})",
        )
