"""Execution configuration: how entries are chosen from the chain and signalled, how combo
orders walk from the mid toward the natural price, and how exits rest at the broker."""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from v6.config._base import ConfigPart, Conflict, raise_conflicts


class ExitStyle(StrEnum):
    """How the protective exits of a filled entry rest at the broker."""

    OCA = "oca"
    BRACKET = "bracket"
    NONE = "none"


class IvRankSource(StrEnum):
    """Where the IV rank of the entry signal comes from."""

    VIX = "vix"
    UNDERLYING = "underlying"


class PriceWalkConfig(ConfigPart):
    """A combo limit starts at the mid and concedes toward the natural price in steps."""

    step_fraction: float = Field(
        default=0.25,
        gt=0,
        le=1,
        description="Each step concedes this fraction of the distance from the mid to the "
        "natural price (at least one tick).",
    )
    step_interval_seconds: float = Field(
        default=60.0, gt=0, le=3600, description="Seconds between two steps."
    )
    max_concession_fraction: float = Field(
        default=1.0,
        gt=0,
        le=1,
        description="The walk concedes at most this fraction of the mid-to-natural distance "
        "(1.0 = up to the natural price); it gives up one interval after the last step.",
    )
    price_tick: float = Field(
        default=0.01, gt=0, le=1, description="Combo price increment (penny-pilot options)."
    )


class ExitConfig(ConfigPart):
    """Resting exits placed for a filled entry: take-profit limit and protective stop (their
    levels come from decisions.take_profit.profit_fraction and decisions.stop_loss)."""

    style: ExitStyle = Field(
        default=ExitStyle.OCA,
        description="oca: both orders in one OCA group once the entry fills; bracket: sent "
        "with the entry as IB bracket children; none: no resting exits.",
    )


class SelectionConfig(ConfigPart):
    """Strike selection from the broker's chain and the filters a built strategy must pass."""

    max_spread_fraction: float = Field(
        default=0.5,
        gt=0,
        le=2,
        description="Largest combo bid/ask width (the sum of its legs' widths) as a fraction "
        "of its net mid price.",
    )
    max_delta_miss: float = Field(
        default=0.05,
        gt=0,
        le=0.5,
        description="Largest difference between a chosen strike's absolute delta and its target.",
    )
    max_quotes_per_side: int = Field(
        default=24,
        ge=2,
        le=200,
        description="Most strikes quoted when searching one side of the chain for a delta.",
    )


class SignalConfig(ConfigPart):
    """Entry-signal inputs common to every template."""

    iv_rank_source: IvRankSource = Field(
        default=IvRankSource.VIX,
        description="vix: rank of the VIX close; underlying: rank of the underlying's own "
        "implied-volatility history.",
    )
    iv_rank_lookback_sessions: int = Field(
        default=252, ge=20, le=2520, description="Sessions in the IV-rank window (252 = 1y)."
    )
    avoid_half_days: bool = Field(
        default=True, description="No entries on sessions that close early."
    )


class MarginCheckConfig(ConfigPart):
    """The what-if margin check before every entry."""

    min_available_funds_after: float = Field(
        default=0.0,
        ge=0,
        description="Block an entry that would leave less available funds than this, in USD.",
    )
    max_margin_fraction: float = Field(
        default=1.0,
        gt=0,
        le=1,
        description="Block an entry whose initial margin exceeds this fraction of the "
        "available funds before it.",
    )


class ExecutionConfig(ConfigPart):
    """Strike selection, entry signals, order walking, exits and the margin check."""

    selection: SelectionConfig = SelectionConfig()
    signals: SignalConfig = SignalConfig()
    walk: PriceWalkConfig = PriceWalkConfig()
    exits: ExitConfig = ExitConfig()
    margin: MarginCheckConfig = MarginCheckConfig()

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        raise_conflicts([self._walk_has_a_step()])
        return self

    def _walk_has_a_step(self) -> Conflict | None:
        if self.walk.step_fraction <= self.walk.max_concession_fraction:
            return None
        return Conflict(
            "walk.step_fraction",
            self.walk.step_fraction,
            f"a number <= walk.max_concession_fraction ({self.walk.max_concession_fraction})",
        )
