"""Strategy templates: what the entry workflow may open, where, and on what terms."""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from v6.config._base import ConfigPart, Conflict, raise_conflicts

MINUTES_PER_FULL_SESSION = 390
ONE_THIRD = 1 / 3


class StrategyKind(StrEnum):
    """The defined-risk structures a template can open."""

    IRON_CONDOR = "iron_condor"
    VERTICAL_BULL_PUT = "vertical_bull_put"
    VERTICAL_BEAR_CALL = "vertical_bear_call"

    @property
    def is_vertical(self) -> bool:
        """True for two-leg credit spreads (the kinds a trend filter applies to)."""
        return self is not StrategyKind.IRON_CONDOR


class StrategyTemplate(ConfigPart):
    """One template: the entry workflow opens it on each underlying when its filters pass."""

    name: str = Field(min_length=1, description="Unique name; recorded with each strategy.")
    kind: StrategyKind = Field(description="iron_condor, vertical_bull_put or vertical_bear_call.")
    enabled: bool = Field(default=True, description="false keeps the template but opens nothing.")
    underlyings: tuple[str, ...] = Field(
        default=("SPY", "QQQ", "IWM"), min_length=1, description="Symbols to open it on."
    )
    short_delta: float = Field(
        default=0.16, ge=0.05, le=0.5, description="Absolute delta of each short strike."
    )
    wing_width: float = Field(
        default=5.0, gt=0, le=500, description="Distance from short to long strike, in dollars."
    )
    target_dte: int = Field(default=45, ge=1, le=365, description="Preferred days to expiry.")
    min_dte: int = Field(default=30, ge=0, le=365, description="Shortest acceptable DTE.")
    max_dte: int = Field(default=60, ge=1, le=365, description="Longest acceptable DTE.")
    min_credit_fraction: float = Field(
        default=ONE_THIRD,
        gt=0,
        lt=1,
        description="Smallest acceptable credit as a fraction of wing width (1/3 by default).",
    )
    min_iv_rank: float = Field(
        default=0.0,
        ge=0,
        le=100,
        description="Open only when the underlying's IV rank (0-100) is at least this.",
    )
    trend_filter: bool = Field(
        default=False,
        description="Verticals only: bull puts only above, bear calls only below the "
        "trend_sma_days moving average of the close.",
    )
    trend_sma_days: int = Field(
        default=50, ge=2, le=400, description="Length of that moving average, in sessions."
    )
    max_concurrent_per_symbol: int = Field(
        default=1, ge=1, le=100, description="Open strategies of this template per underlying."
    )
    quantity: int = Field(default=1, ge=1, le=1000, description="Contracts per leg.")
    entry_after_open_minutes: int = Field(
        default=15, ge=0, le=MINUTES_PER_FULL_SESSION, description="No entries before this."
    )
    entry_before_close_minutes: int = Field(
        default=15, ge=0, le=MINUTES_PER_FULL_SESSION, description="No entries after this."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        raise_conflicts(
            [
                self._dte_window(),
                self._entry_window_not_empty(),
                self._trend_filter_only_on_verticals(),
            ]
        )
        return self

    def _dte_window(self) -> Conflict | None:
        if self.max_dte < self.min_dte:
            return Conflict("max_dte", self.max_dte, f"a number >= min_dte ({self.min_dte})")
        if not self.min_dte <= self.target_dte <= self.max_dte:
            return Conflict(
                "target_dte",
                self.target_dte,
                f"a number from min_dte ({self.min_dte}) to max_dte ({self.max_dte})",
            )
        return None

    def _entry_window_not_empty(self) -> Conflict | None:
        closed = self.entry_after_open_minutes + self.entry_before_close_minutes
        if closed < MINUTES_PER_FULL_SESSION:
            return None
        return Conflict(
            "entry_before_close_minutes",
            self.entry_before_close_minutes,
            f"entry_after_open_minutes + entry_before_close_minutes < "
            f"{MINUTES_PER_FULL_SESSION} (a regular session's minutes)",
        )

    def _trend_filter_only_on_verticals(self) -> Conflict | None:
        if not self.trend_filter or self.kind.is_vertical:
            return None
        return Conflict("trend_filter", True, f"false for {self.kind.value} (verticals only)")


DEFAULT_TEMPLATES = (
    StrategyTemplate(name="index_iron_condor", kind=StrategyKind.IRON_CONDOR),
    StrategyTemplate(name="index_bull_put", kind=StrategyKind.VERTICAL_BULL_PUT, trend_filter=True),
    StrategyTemplate(
        name="index_bear_call", kind=StrategyKind.VERTICAL_BEAR_CALL, trend_filter=True
    ),
)


class StrategiesConfig(ConfigPart):
    """The templates the entry workflow works from (`[[strategies.templates]]` in TOML)."""

    templates: tuple[StrategyTemplate, ...] = Field(
        default=DEFAULT_TEMPLATES,
        description="Strategy templates; listing any replaces the whole default list.",
    )

    @model_validator(mode="after")
    def _unique_names(self) -> Self:
        names = [template.name for template in self.templates]
        raise_conflicts(
            Conflict(f"templates[{index}].name", name, "a name no other template uses")
            for index, name in enumerate(names)
            if name in names[:index]
        )
        return self

    def enabled(self) -> tuple[StrategyTemplate, ...]:
        """The templates that may open strategies."""
        return tuple(template for template in self.templates if template.enabled)
