"""Position sync configuration: streaming lines, paced snapshots, the registry's proximity."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from v6.config._base import ConfigPart, Conflict, raise_conflicts


class SyncConfig(ConfigPart):
    """How the registry spends streaming lines and how fast the queue worker snapshots.

    Distance to a trigger is relative to the trigger's threshold, ``(threshold - value) /
    threshold``, for each enabled rule among the profit target (``take_profit``), the stop
    (``stop_loss``), the short-delta breach (``delta_breach``) and the DTE exit
    (``time_exit``); a strategy's distance is the smallest of them (0 at the trigger,
    negative beyond it). A strategy streams when its distance falls to
    `proximity_enter_fraction` and gives its lines back only beyond
    `proximity_exit_fraction` and after `min_stream_seconds` (hysteresis, so a value
    hovering at the boundary does not churn lines). Every other leg is refreshed by paced
    snapshots; every message V6 sends (snapshots, line changes, chain requests, what-ifs,
    orders) draws from one token bucket, so together they stay within
    `snapshot_rate_per_second` plus `snapshot_burst` messages in any second.
    """

    streaming_lines: int = Field(
        default=10,
        ge=0,
        description="Streaming quote lines V6 may hold; at most broker.market_data_lines.",
    )
    snapshot_rate_per_second: float = Field(
        default=45.0,
        gt=0,
        description="Refill rate of the token bucket every message V6 sends to the broker "
        "draws from (snapshots, line changes, chain requests, what-ifs, orders); below "
        "broker.pacing_messages_per_second.",
    )
    snapshot_burst: int = Field(
        default=4,
        ge=1,
        le=1000,
        description="Capacity of that token bucket, and the most contracts in one snapshot "
        "request (a bracket order takes 3); "
        "snapshot_rate_per_second + snapshot_burst must not exceed "
        "broker.pacing_messages_per_second.",
    )
    proximity_enter_fraction: float = Field(
        default=0.03,
        gt=0,
        le=1,
        description="Stream a strategy when it is within this fraction of a trigger's "
        "threshold (0.03 = 3%: e.g. 48.5% of max profit captured against a 50% target).",
    )
    proximity_exit_fraction: float = Field(
        default=0.05,
        gt=0,
        le=1,
        description="Stop streaming only beyond this fraction (> proximity_enter_fraction).",
    )
    min_stream_seconds: float = Field(
        default=60.0, ge=0, le=86_400, description="Shortest time a strategy stays active."
    )
    priority_distance_fraction: float = Field(
        default=0.25,
        gt=0,
        le=10,
        description="Legs of strategies closer than this fraction to a trigger are "
        "snapshotted more often, up to twice as often at the trigger.",
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
