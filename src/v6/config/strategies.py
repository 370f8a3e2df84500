"""Strategy templates: what the entry workflow may open, where, and on what terms."""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from v6.config._base import ConfigPart, Conflict, raise_conflicts

MINUTES_PER_FULL_SESSION = 390
CONDOR_MIN_CREDIT_FRACTION = 0.20
VERTICAL_MIN_CREDIT_FRACTION = 0.10


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
        default=0.20, ge=0.05, le=0.5, description="Absolute delta of each short strike."
    )
    wing_width: float = Field(
        default=5.0, gt=0, le=500, description="Distance from short to long strike, in dollars."
    )
    target_dte: int = Field(default=45, ge=1, le=365, description="Preferred days to expiry.")
    min_dte: int = Field(default=30, ge=0, le=365, description="Shortest acceptable DTE.")
    max_dte: int = Field(default=60, ge=1, le=365, description="Longest acceptable DTE.")
    min_credit_fraction: float = Field(
        default=CONDOR_MIN_CREDIT_FRACTION,
        gt=0,
        lt=1,
        description="Smallest acceptable credit at the mid as a fraction of the wing width, "
        "and the entry order's worst price (a fifth; the default verticals ask a tenth, as a "
        "vertical collects about half of what a condor of the same short delta does).",
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
    StrategyTemplate(
        name="index_bull_put",
        kind=StrategyKind.VERTICAL_BULL_PUT,
        min_credit_fraction=VERTICAL_MIN_CREDIT_FRACTION,
        trend_filter=True,
    ),
    StrategyTemplate(
        name="index_bear_call",
        kind=StrategyKind.VERTICAL_BEAR_CALL,
        min_credit_fraction=VERTICAL_MIN_CREDIT_FRACTION,
        trend_filter=True,
    ),
)
"""What a configuration without templates trades: 20-delta shorts with $5 wings, 30-60 DTE.

Chosen from the credits the builder measures (``tools/measure_template_credits.py``; the
table and the reasoning are in ``docs/strategy_defaults.md``). At the textbook 16 delta a $5
condor collects 0.17-0.27 of its width on the simulated chains and 0.21-0.23 on real SPY and
SPX chains, so a floor of a third opened nothing. At 20 delta a condor collects 0.23-0.34
(real: 0.28-0.34): the floor of a fifth lets it trade in every regime measured and still
rejects the thin calm-market 16-delta condor. A narrow vertical's credit is about the chance
of finishing beyond its strikes, and the put skew lowers a bull put's: 0.11-0.17 at 20 delta
(real: 0.11-0.13), a bear call 0.13-0.18 (real: 0.16-0.21); a third of the width would need a
short delta above the decision engine's 0.30 delta-breach rule, so the verticals ask a tenth,
which rejects the 16-delta put spreads of calm markets. 20 delta stays 0.10 below that rule,
so an entry is not an exit at once.
"""


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
