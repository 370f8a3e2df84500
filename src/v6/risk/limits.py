"""Portfolio limits: the pre-trade check of an entry with its Greeks added to the book, and
post-trade monitoring whose breaches feed rule 12 (reduce the biggest contributor).

Units are the portfolio units of DESIGN.md section 3: delta and gamma in share-equivalents,
theta in currency per day, vega in currency per vol point. A limit holds while the book's
absolute value is at or below it.

Risk capital is measured by maximum loss at expiry: buying power in use is the book's total
maximum loss (the margin of a defined-risk spread at IB) over the account's buying power, and
the concentration of an underlying is its maximum loss over the book's *risk base* - the larger
of that total and the risk budget (``max_buying_power_use`` x buying power). Measuring against
the total alone would refuse every entry of a small book on few underlyings (three symbols held
evenly are 33% each, above a 30% limit, however little of the budget they use); against the
budget, the limit says what it means - no underlying may take more than its share of the risk
the account is allowed to carry - and a book already past its budget is measured by its total.
Strategies whose maximum loss is unbounded or undefined (null in the book) do not count there;
strategies with an unknown Greek (no quote yet) count as zero in that Greek until marked.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Final

import numpy as np
import polars as pl

from v6.config.risk import PortfolioLimits
from v6.decisions.rules import LIMIT_TARGET_SCHEMA
from v6.domain import Greeks, IntentKind, OptionContract, OrderIntent, Strategy
from v6.risk.events import RiskEvent, RiskEventKind
from v6.table import Columns


class LimitName(StrEnum):
    DELTA = "delta"
    GAMMA = "gamma"
    VEGA = "vega"
    THETA = "theta"
    CONCENTRATION = "concentration"
    OPEN_STRATEGIES = "open_strategies"
    BUYING_POWER = "buying_power"


GREEK_LIMITS = (LimitName.DELTA, LimitName.GAMMA, LimitName.VEGA, LimitName.THETA)


def _greek_limit(limits: PortfolioLimits, name: LimitName) -> float:
    return {
        LimitName.DELTA: limits.max_abs_delta,
        LimitName.GAMMA: limits.max_abs_gamma,
        LimitName.VEGA: limits.max_abs_vega,
        LimitName.THETA: limits.max_abs_theta,
    }[name]


@dataclass(frozen=True, slots=True)
class EntryCandidate:
    """An entry intent with what it adds to the book: position Greeks for the whole intent,
    its maximum loss (currency) and its margin (what-if margin; the maximum loss if None)."""

    intent: OrderIntent
    underlying: str
    greeks: Greeks
    max_loss: float
    margin: float | None = None

    def __post_init__(self) -> None:
        if self.intent.intent not in (IntentKind.OPEN, IntentKind.ROLL):
            raise ValueError(
                f"EntryCandidate.intent.intent = {self.intent.intent.value!r}: expected open "
                "or roll (closing intents add no risk)"
            )
        for name in ("max_loss", "margin"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise ValueError(f"EntryCandidate.{name} = {value!r}: expected a number >= 0")

    @property
    def capital(self) -> float:
        return self.max_loss if self.margin is None else self.margin

    @classmethod
    def from_strategy(
        cls,
        intent: OrderIntent,
        strategy: Strategy,
        leg_greeks: Mapping[OptionContract, Greeks],
        margin: float | None = None,
    ) -> EntryCandidate:
        """The candidate of opening ``intent.quantity`` units of ``strategy`` (which carries
        its intended entry premium), from per-share textbook Greeks of each leg's contract."""
        missing = [
            leg.contract.occ_symbol for leg in strategy.legs if leg.contract not in leg_greeks
        ]
        if missing:
            raise ValueError(f"EntryCandidate.from_strategy: no Greeks for {missing}")
        greeks = sum(
            (
                leg_greeks[leg.contract].to_position_units(
                    leg.quantity * intent.quantity, leg.contract.multiplier
                )
                for leg in strategy.legs
            ),
            Greeks.zero(),
        )
        return cls(
            intent,
            strategy.underlyings[0],
            greeks,
            strategy.max_loss * intent.quantity,
            margin,
        )


@dataclass(frozen=True, slots=True)
class Exposure:
    """The book's aggregate risk: position Greeks, open strategies and maximum loss per
    underlying (see the module docstring for units)."""

    delta: float = 0.0
    gamma: float = 0.0
    theta: float = 0.0
    vega: float = 0.0
    open_strategies: int = 0
    max_loss_by_symbol: tuple[tuple[str, float], ...] = field(default=())

    @classmethod
    def of(cls, strategies: Columns) -> Exposure:
        """The exposure of the strategies (`v6.book.summarize` columns), managed or not:
        column sums (unknown Greeks count as zero) and the maximum loss per underlying of
        the strategies whose maximum loss is known."""
        return cls(
            open_strategies=strategies["strategy_id"].size,
            max_loss_by_symbol=_max_loss_by_symbol(strategies),
            **{name: float(np.nansum(strategies[name])) for name in _GREEKS},
        )

    @property
    def max_loss(self) -> float:
        return sum(loss for _, loss in self.max_loss_by_symbol)

    def greek(self, name: LimitName) -> float:
        return float(getattr(self, name.value))

    def plus(self, candidate: EntryCandidate) -> Exposure:
        losses = dict(self.max_loss_by_symbol)
        losses[candidate.underlying] = losses.get(candidate.underlying, 0.0) + candidate.capital
        return Exposure(
            delta=self.delta + candidate.greeks.delta,
            gamma=self.gamma + candidate.greeks.gamma,
            theta=self.theta + candidate.greeks.theta,
            vega=self.vega + candidate.greeks.vega,
            open_strategies=self.open_strategies + (candidate.intent.intent is IntentKind.OPEN),
            max_loss_by_symbol=tuple(sorted(losses.items())),
        )


_GREEKS: Final = ("delta", "gamma", "theta", "vega")


def _max_loss_by_symbol(strategies: Columns) -> tuple[tuple[str, float], ...]:
    """The known maximum losses summed per underlying, in symbol order."""
    totals: dict[str, float] = {}
    for symbol, loss in zip(
        strategies["underlying"].tolist(), strategies["max_loss"].tolist(), strict=True
    ):
        if not math.isnan(loss):
            totals[symbol] = totals.get(symbol, 0.0) + loss
    return tuple(sorted(totals.items()))


@dataclass(frozen=True, slots=True)
class LimitViolation:
    """A limit the book is (or would be) beyond: ``value`` reached against ``limit_value``;
    ``key`` tells symbol-specific breaches apart (``concentration:SPY``)."""

    limit: LimitName
    limit_value: float
    value: float
    reason: str
    symbol: str | None = None

    @property
    def key(self) -> str:
        return self.limit.value if self.symbol is None else f"{self.limit.value}:{self.symbol}"


def violations(
    exposure: Exposure, limits: PortfolioLimits, buying_power: float
) -> tuple[LimitViolation, ...]:
    """Every limit ``exposure`` is beyond; ``buying_power`` is the account's (currency)."""
    if not (math.isfinite(buying_power) and buying_power > 0):
        raise ValueError(f"buying_power = {buying_power!r}: expected a number > 0")
    found: list[LimitViolation] = []
    for name in GREEK_LIMITS:
        value, limit = exposure.greek(name), _greek_limit(limits, name)
        if abs(value) > limit:
            found.append(
                LimitViolation(name, limit, value, f"|{name.value}| {abs(value):.2f} > {limit:g}")
            )
    if exposure.open_strategies > limits.max_open_strategies:
        found.append(
            LimitViolation(
                LimitName.OPEN_STRATEGIES,
                limits.max_open_strategies,
                exposure.open_strategies,
                f"{exposure.open_strategies} open strategies > {limits.max_open_strategies}",
            )
        )
    found.extend(_concentration(exposure, limits, buying_power))
    used = exposure.max_loss / buying_power
    if used > limits.max_buying_power_use:
        found.append(
            LimitViolation(
                LimitName.BUYING_POWER,
                limits.max_buying_power_use,
                used,
                f"{used:.1%} of buying power {buying_power:,.0f} in use "
                f"> {limits.max_buying_power_use:.0%}",
            )
        )
    return tuple(found)


def _concentration(
    exposure: Exposure, limits: PortfolioLimits, buying_power: float
) -> Iterable[LimitViolation]:
    """Each underlying's maximum loss over the risk base (see the module docstring)."""
    base = max(exposure.max_loss, limits.max_buying_power_use * buying_power)
    if exposure.open_strategies < limits.concentration_min_strategies or base <= 0:
        return
    for symbol, loss in exposure.max_loss_by_symbol:
        share = loss / base
        if share > limits.max_symbol_concentration:
            yield LimitViolation(
                LimitName.CONCENTRATION,
                limits.max_symbol_concentration,
                share,
                f"{symbol} holds {share:.1%} of the book's risk base {base:,.0f} "
                f"> {limits.max_symbol_concentration:.0%}",
                symbol,
            )


def check_entry(
    exposure: Exposure, candidate: EntryCandidate, limits: PortfolioLimits, buying_power: float
) -> tuple[LimitViolation, ...]:
    """The limits the book would be beyond with ``candidate`` added; empty when it fits.
    An entry is refused while the book is beyond any limit, even one it would reduce."""
    return violations(exposure.plus(candidate), limits, buying_power)


@dataclass(frozen=True, slots=True)
class LimitBreach:
    """A limit the book is beyond after trading, and the managed strategy that contributes
    most to it (None when no managed strategy adds to it)."""

    violation: LimitViolation
    target: str | None
    contribution: float | None


def breaches(
    strategies: Columns,
    limits: PortfolioLimits,
    buying_power: float,
    exposure: Exposure | None = None,
) -> tuple[LimitBreach, ...]:
    """Every limit the book of ``strategies`` (`v6.book.summarize` columns) is beyond;
    ``exposure``, when the caller measured it on the same strategies, spares measuring
    again."""
    exposure = Exposure.of(strategies) if exposure is None else exposure
    found = violations(exposure, limits, buying_power)
    return tuple(_with_target(violation, strategies) for violation in found)


def _with_target(violation: LimitViolation, strategies: Columns) -> LimitBreach:
    """The breach with the managed strategy adding most to it (the first in book order on a
    tie): for a Greek, the largest contribution of the breach's sign; otherwise the largest
    maximum loss (on the breach's symbol, for concentration)."""
    if violation.limit in GREEK_LIMITS:
        share = strategies[violation.limit.value] * (1.0 if violation.value > 0 else -1.0)
    else:
        share = strategies["max_loss"]
        if violation.symbol is not None:
            share = np.where(strategies["underlying"] == violation.symbol, share, np.nan)
    share = np.where(strategies["managed"], share, np.nan)
    if not (share > 0).any():
        return LimitBreach(violation, None, None)
    best = int(np.nanargmax(share))
    return LimitBreach(violation, str(strategies["strategy_id"][best]), float(share[best]))


def limit_targets(found: Iterable[LimitBreach]) -> pl.DataFrame:
    """Rule 12's context (`LIMIT_TARGET_SCHEMA`): one strategy to reduce per breach."""
    rows = [
        (b.target, b.violation.key, b.violation.limit_value, b.violation.value, b.contribution)
        for b in found
        if b.target is not None
    ]
    if not rows:
        return _NO_TARGETS.clear()
    return pl.DataFrame(rows, schema=LIMIT_TARGET_SCHEMA, orient="row")


_NO_TARGETS: Final = LIMIT_TARGET_SCHEMA.to_frame()
"""Copied by `limit_targets` when no breach has a target (the usual cycle): building an
empty frame from a schema costs ~35 us, copying one ~1 us."""


@dataclass(frozen=True, slots=True)
class MonitorResult:
    """The next monitor, the breaches and rule 12's targets, the events to record, and the
    book's exposure they were measured on (the risk gate's starting exposure for the cycle)."""

    monitor: LimitMonitor
    breaches: tuple[LimitBreach, ...]
    targets: pl.DataFrame
    events: tuple[RiskEvent, ...]
    exposure: Exposure


@dataclass(frozen=True, slots=True)
class LimitMonitor:
    """Post-trade monitoring: remembers which limits were breached, so a breach is recorded
    once when it starts (LIMIT_BREACHED) and once when it ends (LIMIT_CLEARED). It is saved
    and restored with the rest of the risk state (`v6.risk.persistence`), so a restart does
    not record an ongoing breach again."""

    breached: frozenset[str] = frozenset()

    def update(
        self,
        strategies: Columns,
        limits: PortfolioLimits,
        buying_power: float,
        now: datetime,
    ) -> MonitorResult:
        exposure = Exposure.of(strategies)
        found = breaches(strategies, limits, buying_power, exposure)
        current = {b.violation.key: b for b in found}
        events = [
            _breach_event(current[key], now) for key in sorted(current) if key not in self.breached
        ]
        events.extend(
            RiskEvent(RiskEventKind.LIMIT_CLEARED, now, f"back within the {key} limit", limit=key)
            for key in sorted(self.breached - current.keys())
        )
        return MonitorResult(
            LimitMonitor(frozenset(current)), found, limit_targets(found), tuple(events), exposure
        )


def _breach_event(breach: LimitBreach, now: datetime) -> RiskEvent:
    violation = breach.violation
    target = (
        f"; reduce {breach.target} (contributes {breach.contribution:.2f})"
        if breach.target is not None
        else "; no managed strategy adds to it"
    )
    return RiskEvent(
        RiskEventKind.LIMIT_BREACHED,
        now,
        f"book over a limit: {violation.reason}{target}",
        strategy_id=breach.target,
        limit=violation.key,
        value=violation.value,
        limit_value=violation.limit_value,
    )
