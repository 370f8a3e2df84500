"""Decision rules: the thresholds of the twelve exit/adjust rules and the market veto.

The rules are evaluated in a fixed priority order (the order of the fields of
`DecisionsConfig`); the highest-priority rule that fires wins. `enabled = false` turns a
rule off without changing the others.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field

from v6.config._base import ConfigPart

RuleSwitch = Annotated[bool, Field(description="false turns this rule off.")]


class HaltRule(ConfigPart):
    """Operator halt (from the commands table): while halted only closing orders and cancels
    pass; rolls become closes."""

    enabled: RuleSwitch = True
    close_positions: bool = Field(
        default=False, description="Also close every open position when a halt is ordered."
    )


class CatastrophicMoveRule(ConfigPart):
    """Close now, at a marketable price, when the underlying is far beyond a short strike or
    the loss nears the maximum loss. Never vetoed by the market veto."""

    enabled: RuleSwitch = True
    strike_breach_fraction: float = Field(
        default=0.03,
        gt=0,
        le=1,
        description="Fires when the underlying is beyond a short strike by more than this "
        "fraction of the strike (0.03 = 3%).",
    )
    max_loss_fraction: float = Field(
        default=0.75,
        gt=0,
        le=1,
        description="Fires when the loss is at or beyond this fraction of the maximum loss.",
    )


class ExpirationPinRule(ConfigPart):
    """Close when a short leg about to expire is near the money (pin risk)."""

    enabled: RuleSwitch = True
    pin_distance_fraction: float = Field(
        default=0.005,
        gt=0,
        le=0.2,
        description="Pinned when within this fraction of the price from a short strike.",
    )
    max_dte: int = Field(
        default=1, ge=0, le=30, description="Applies to short legs at or below this DTE."
    )


class EarlyAssignmentRule(ConfigPart):
    """Close short legs likely to be assigned early (little extrinsic value left)."""

    enabled: RuleSwitch = True
    min_extrinsic: float = Field(
        default=0.05,
        ge=0,
        description="Close an ITM short leg whose extrinsic value is below this, in dollars "
        "per share.",
    )
    ex_dividend_days: int = Field(
        default=2,
        ge=0,
        le=30,
        description="For short calls: also close when an ex-dividend date is at most this "
        "many days away (0 turns the dividend check off) and the dividend exceeds the "
        "extrinsic value.",
    )
    roll: bool = Field(default=False, description="Roll instead of closing.")


class StopLossRule(ConfigPart):
    """Close when the loss reaches a multiple of the credit received."""

    enabled: RuleSwitch = True
    credit_multiple: float = Field(
        default=2.0, gt=0, le=100, description="Loss limit as a multiple of the entry credit."
    )


class DeltaBreachRule(ConfigPart):
    """Close (or adjust) when a short leg's delta grows too large."""

    enabled: RuleSwitch = True
    max_short_delta: float = Field(
        default=0.30,
        gt=0,
        le=1,
        description="Fires when any short leg's absolute delta is at or above this.",
    )
    roll: bool = Field(default=False, description="Roll the tested side instead of closing.")


class GammaRiskRule(ConfigPart):
    """Close positions near expiry whose gamma has grown too large."""

    enabled: RuleSwitch = True
    max_dte: int = Field(default=7, ge=0, le=365, description="Applies at or below this DTE.")
    max_abs_gamma: float = Field(
        default=50.0,
        gt=0,
        description="Largest absolute position gamma, in share-equivalents per $1 move.",
    )


class EventRule(ConfigPart):
    """Close positions ahead of scheduled events (earnings, FOMC, CPI, ...)."""

    enabled: RuleSwitch = True
    days_before: int = Field(
        default=1, ge=0, le=30, description="Close this many calendar days before an event."
    )
    market_wide: tuple[date, ...] = Field(
        default=(), description="Event dates that affect every underlying (e.g. FOMC)."
    )
    per_symbol: dict[str, tuple[date, ...]] = Field(
        default_factory=dict, description="Event dates per underlying (e.g. earnings)."
    )

    def dates_for(self, symbol: str) -> tuple[date, ...]:
        """Every event date that concerns `symbol`, in order."""
        return tuple(sorted({*self.market_wide, *self.per_symbol.get(symbol, ())}))


class TrailingStopRule(ConfigPart):
    """Close when profit falls back from its peak; thresholds in `risk.trailing_stop`."""

    enabled: RuleSwitch = True


class TakeProfitRule(ConfigPart):
    """Close when enough of the maximum profit is captured."""

    enabled: RuleSwitch = True
    profit_fraction: float = Field(
        default=0.50,
        gt=0,
        le=1,
        description="Fraction of the maximum profit (a credit spread's entry credit) to capture.",
    )


class TimeExitRule(ConfigPart):
    """Close (or roll) positions when little time is left."""

    enabled: RuleSwitch = True
    max_dte: int = Field(default=21, ge=0, le=365, description="Exit at or below this DTE.")
    roll: bool = Field(
        default=False,
        description="Roll instead of closing (reopen the same template at its target DTE); "
        "execution closes instead when the roll does not meet the template's credit rules.",
    )


class PortfolioLimitRule(ConfigPart):
    """Reduce positions while the portfolio breaks a limit of `risk.portfolio`."""

    enabled: RuleSwitch = True


class MarketVeto(ConfigPart):
    """Refuse to send exits into absurd markets (rules 1-5 are never vetoed)."""

    enabled: RuleSwitch = True
    max_spread_fraction: float = Field(
        default=0.50,
        gt=0,
        le=2,
        description="Largest bid/ask width of a strategy's combo (the sum of its legs' widths) "
        "as a fraction of its net mid price; a crossed or missing quote is absurd too.",
    )


class DecisionsConfig(ConfigPart):
    """The rule book, highest priority first, and the market veto."""

    halt: HaltRule = HaltRule()
    catastrophic_move: CatastrophicMoveRule = CatastrophicMoveRule()
    expiration_pin: ExpirationPinRule = ExpirationPinRule()
    early_assignment: EarlyAssignmentRule = EarlyAssignmentRule()
    stop_loss: StopLossRule = StopLossRule()
    delta_breach: DeltaBreachRule = DeltaBreachRule()
    gamma_risk: GammaRiskRule = GammaRiskRule()
    event: EventRule = EventRule()
    trailing_stop: TrailingStopRule = TrailingStopRule()
    take_profit: TakeProfitRule = TakeProfitRule()
    time_exit: TimeExitRule = TimeExitRule()
    portfolio_limit: PortfolioLimitRule = PortfolioLimitRule()
    market_veto: MarketVeto = MarketVeto()
