"""Builders: iron condors, vertical spreads (credit and debit) and custom strategies, chosen
from the broker's real chain and priced from its quotes.

Every builder reads the chain through ``v6.strategies.selection`` (only candidate strikes are
quoted, within the pacing budget) and finishes the same way:

* the combo's market from the legs' quotes: mid, natural and bid/ask width;
* the spread filter: width over the absolute mid at most ``max_spread_fraction``. The broker
  port carries no open interest (IB reports it only on streaming generic ticks), so there is
  no open-interest filter;
* the premium rule: a credit below its minimum (``min_credit_fraction`` of the width for
  condors and credit verticals; the widest side for a condor) or a debit above its maximum is
  rejected. The minimum credit (maximum debit) becomes the order's limit, which the price walk
  never passes; a credit without a minimum is still never walked into a debit;
* the strategy (PENDING, priced at the mid), its payoff metrics, position Greeks and
  probability of profit (``v6.strategies.metrics``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from v6.brokers.pacing import PacedBroker
from v6.brokers.types import Quote
from v6.clock import NEW_YORK, Clock
from v6.config.execution import SelectionConfig
from v6.config.strategies import StrategyKind as TemplateKind
from v6.config.strategies import StrategyTemplate
from v6.domain import Leg, OptionContract, Right, Strategy, StrategyKind, normalise_strike
from v6.execution.pricing import combo_market, round_down, round_up
from v6.market.calendar import TradingCalendar, nyse_calendar
from v6.strategies.chain import ChainReader
from v6.strategies.metrics import position_greeks, probability_of_profit
from v6.strategies.results import BuildResult, BuiltStrategy, Rejection, RejectReason
from v6.strategies.selection import ChainSelector, ChainView, DteWindow, Miss, Wing


class VerticalSpread(StrEnum):
    """Two-leg spreads of one right. The *anchor* leg is chosen by delta, the other sits
    further out of the money by the wing: the short leg of a credit spread, the long leg of a
    debit spread."""

    BULL_PUT = "bull_put"
    BEAR_CALL = "bear_call"
    BULL_CALL = "bull_call"
    BEAR_PUT = "bear_put"

    @property
    def right(self) -> Right:
        return (
            Right.PUT if self in (VerticalSpread.BULL_PUT, VerticalSpread.BEAR_PUT) else Right.CALL
        )

    @property
    def is_credit(self) -> bool:
        return self in (VerticalSpread.BULL_PUT, VerticalSpread.BEAR_CALL)


_TEMPLATE_VERTICALS = {
    TemplateKind.VERTICAL_BULL_PUT: VerticalSpread.BULL_PUT,
    TemplateKind.VERTICAL_BEAR_CALL: VerticalSpread.BEAR_CALL,
}


@dataclass(frozen=True, slots=True)
class LegSpec:
    """One leg of a custom strategy: ``right``, signed ``ratio`` (+ buy, - sell) and either a
    ``strike`` or an absolute ``delta`` to choose it by."""

    right: Right
    ratio: int
    strike: Decimal | float | None = None
    delta: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.right, Right):
            raise ValueError(f"LegSpec.right = {self.right!r}: expected Right.CALL or Right.PUT")
        if isinstance(self.ratio, bool) or not isinstance(self.ratio, int) or self.ratio == 0:
            raise ValueError(f"LegSpec.ratio = {self.ratio!r}: expected a non-zero integer")
        if (self.strike is None) == (self.delta is None):
            raise ValueError(f"{self!r}: expected exactly one of strike and delta")
        if self.strike is not None:
            object.__setattr__(self, "strike", normalise_strike(self.strike))
        if self.delta is not None and not 0 < self.delta < 1:
            raise ValueError(f"LegSpec.delta = {self.delta!r}: expected 0 < delta < 1")


@dataclass(frozen=True, slots=True)
class _Premium:
    """The premium rule of one build: a minimum credit or a maximum debit (per share)."""

    min_credit: float | None = None
    max_debit: float | None = None


class StrategyBuilder:
    """Builds strategies on the broker's chain; one instance serves many builds.

    ``broker`` paces its messages within the connection's budget (``v6.brokers.pacing``);
    ``price_tick`` is the combo price increment (``execution.walk.price_tick``).
    """

    def __init__(
        self,
        broker: PacedBroker,
        clock: Clock,
        config: SelectionConfig,
        *,
        price_tick: float = 0.01,
        calendar: TradingCalendar | None = None,
    ) -> None:
        self._broker = broker
        self._clock = clock
        self._config = config
        self._tick = price_tick
        self._calendar = calendar if calendar is not None else nyse_calendar()

    def reader(self) -> ChainReader:
        """A chain reader for builds to share (their ``reader``): the builds of one entry
        cycle then ask for a chain or a quote once. Without one, each build reads afresh."""
        return ChainReader(self._broker, self._clock)

    def _selector(self, reader: ChainReader | None) -> ChainSelector:
        reader = reader if reader is not None else self.reader()
        return ChainSelector(reader, self._config, self._calendar)

    async def from_template(
        self,
        strategy_id: str,
        template: StrategyTemplate,
        symbol: str,
        *,
        reader: ChainReader | None = None,
    ) -> BuildResult:
        """The template's strategy on ``symbol``: its delta, wing width, DTE window, minimum
        credit and quantity."""
        wing = Wing(width=template.wing_width)
        window = DteWindow.of(template)
        if template.kind is TemplateKind.IRON_CONDOR:
            return await self.iron_condor(
                strategy_id,
                symbol,
                short_delta=template.short_delta,
                wing=wing,
                dte=window,
                min_credit_fraction=template.min_credit_fraction,
                quantity=template.quantity,
                reader=reader,
            )
        return await self.vertical(
            strategy_id,
            symbol,
            _TEMPLATE_VERTICALS[template.kind],
            delta=template.short_delta,
            wing=wing,
            dte=window,
            min_credit_fraction=template.min_credit_fraction,
            quantity=template.quantity,
            reader=reader,
        )

    async def iron_condor(
        self,
        strategy_id: str,
        symbol: str,
        *,
        short_delta: float,
        wing: Wing,
        dte: DteWindow,
        min_credit_fraction: float,
        quantity: int = 1,
        reader: ChainReader | None = None,
    ) -> BuildResult:
        """Short put and call at ``short_delta``, long wings beyond them; the credit must be
        at least ``min_credit_fraction`` of the wider wing."""
        selector = self._selector(reader)
        view = await selector.view(symbol, dte)
        if isinstance(view, Miss):
            return _rejected(strategy_id, symbol, view)
        shorts: list[Quote] = []
        longs: list[Quote] = []
        for right in (Right.PUT, Right.CALL):
            side = await _side(selector, view, right, short_delta, wing)
            if isinstance(side, Miss):
                return _rejected(strategy_id, symbol, side)
            shorts.append(side[0])
            longs.append(side[1])
        put_strike, call_strike = _strike(shorts[0]), _strike(shorts[1])
        if put_strike > call_strike:
            return Rejection(
                strategy_id,
                symbol,
                RejectReason.STRIKES_CROSSED,
                f"short put {put_strike} above short call {call_strike} at delta {short_delta}",
            )
        width = max(_width(shorts[0], longs[0]), _width(shorts[1], longs[1]))
        legs = [(longs[0], 1), (shorts[0], -1), (shorts[1], -1), (longs[1], 1)]
        premium = _Premium(min_credit=min_credit_fraction * width)
        return self._finish(strategy_id, StrategyKind.IRON_CONDOR, view, legs, quantity, premium)

    async def vertical(
        self,
        strategy_id: str,
        symbol: str,
        spread: VerticalSpread,
        *,
        delta: float,
        wing: Wing,
        dte: DteWindow,
        quantity: int = 1,
        min_credit_fraction: float | None = None,
        max_debit_fraction: float | None = None,
        reader: ChainReader | None = None,
    ) -> BuildResult:
        """A vertical whose anchor leg is at ``delta`` (see ``VerticalSpread``). A credit
        spread needs ``min_credit_fraction`` of its width as credit when given; a debit spread
        pays at most ``max_debit_fraction`` of its width (default: less than the width)."""
        if (min_credit_fraction is not None and not spread.is_credit) or (
            max_debit_fraction is not None and spread.is_credit
        ):
            raise ValueError(
                f"vertical {spread.value}: min_credit_fraction applies to credit spreads and "
                "max_debit_fraction to debit spreads"
            )
        selector = self._selector(reader)
        view = await selector.view(symbol, dte)
        if isinstance(view, Miss):
            return _rejected(strategy_id, symbol, view)
        side = await _side(selector, view, spread.right, delta, wing)
        if isinstance(side, Miss):
            return _rejected(strategy_id, symbol, side)
        anchor, other = side
        width = _width(anchor, other)
        sign = -1 if spread.is_credit else 1
        legs = [(anchor, sign), (other, -sign)]
        if spread.is_credit:
            fraction = min_credit_fraction
            premium = _Premium(min_credit=None if fraction is None else fraction * width)
        else:
            most = width - self._tick if max_debit_fraction is None else max_debit_fraction * width
            premium = _Premium(max_debit=most)
        return self._finish(strategy_id, StrategyKind.VERTICAL, view, legs, quantity, premium)

    async def custom(
        self,
        strategy_id: str,
        symbol: str,
        legs: Sequence[LegSpec],
        *,
        dte: DteWindow,
        quantity: int = 1,
        min_credit: float | None = None,
        max_debit: float | None = None,
        reader: ChainReader | None = None,
    ) -> BuildResult:
        """A defined-risk strategy of one expiry from leg specifications; the ratios must be
        in lowest terms. ``min_credit`` / ``max_debit`` are per share."""
        if not legs:
            raise ValueError("custom strategy: expected at least one LegSpec")
        if min_credit is not None and max_debit is not None:
            raise ValueError("custom strategy: give min_credit or max_debit, not both")
        selector = self._selector(reader)
        view = await selector.view(symbol, dte)
        if isinstance(view, Miss):
            return _rejected(strategy_id, symbol, view)
        chosen: list[tuple[Quote, int]] = []
        for spec in legs:
            quote = await _leg_quote(selector, view, spec)
            if isinstance(quote, Miss):
                return _rejected(strategy_id, symbol, quote)
            chosen.append((quote, spec.ratio))
        contracts = [quote.contract for quote, _ in chosen]
        if len(set(contracts)) != len(contracts):
            return Rejection(
                strategy_id,
                symbol,
                RejectReason.NO_STRIKE_NEAR_DELTA,
                "two leg specifications chose the same contract",
            )
        premium = _Premium(min_credit=min_credit, max_debit=max_debit)
        return self._finish(strategy_id, StrategyKind.CUSTOM, view, chosen, quantity, premium)

    def _finish(
        self,
        strategy_id: str,
        kind: StrategyKind,
        view: ChainView,
        chosen: list[tuple[Quote, int]],
        quantity: int,
        premium: _Premium,
    ) -> BuildResult:
        market = combo_market((ratio, quote) for quote, ratio in chosen)
        if market is None:
            return Rejection(
                strategy_id, view.symbol, RejectReason.NO_QUOTE, "a leg quote is not valid"
            )
        if market.spread_fraction > self._config.max_spread_fraction:
            return Rejection(
                strategy_id,
                view.symbol,
                RejectReason.SPREAD_TOO_WIDE,
                f"combo width {market.width:.2f} is {market.spread_fraction:.0%} of its mid "
                f"{abs(market.mid):.2f} (at most {self._config.max_spread_fraction:.0%})",
            )
        limit = self._limit(strategy_id, view.symbol, market.mid, market.natural, premium)
        if isinstance(limit, Rejection):
            return limit
        now = self._clock.now()
        strategy = Strategy.propose(
            strategy_id,
            kind,
            [Leg(_option(quote), ratio) for quote, ratio in chosen],
            as_of=now.astimezone(NEW_YORK).date(),
            quantity=quantity,
            entry_premium=-market.mid,
        )
        by_contract = {quote.contract: quote for quote, _ in chosen}
        quotes = tuple(by_contract[leg.contract] for leg in strategy.legs)
        return BuiltStrategy(
            strategy=strategy,
            quotes=quotes,
            mid_price=market.mid,
            natural_price=market.natural,
            limit_price=limit,
            spread_fraction=market.spread_fraction,
            probability_of_profit=probability_of_profit(strategy, quotes, view.forward, view.years),
            greeks=position_greeks(strategy.legs, quotes, quantity),
            spot=view.spot,
            forward=view.forward,
            built_at=now,
        )

    def _limit(
        self, strategy_id: str, symbol: str, mid: float, natural: float, premium: _Premium
    ) -> float | Rejection:
        """The order's limit (combo convention) from the premium rule, or the rejection."""
        credit = -mid
        if premium.min_credit is not None:
            if credit < premium.min_credit:
                return Rejection(
                    strategy_id,
                    symbol,
                    RejectReason.CREDIT_BELOW_MINIMUM,
                    f"credit {credit:.2f} at the mid is below the minimum {premium.min_credit:.2f}",
                )
            return -round_up(premium.min_credit, self._tick)
        if premium.max_debit is not None:
            if -credit > premium.max_debit:
                return Rejection(
                    strategy_id,
                    symbol,
                    RejectReason.DEBIT_ABOVE_MAXIMUM,
                    f"debit {-credit:.2f} at the mid is above the maximum {premium.max_debit:.2f}",
                )
            return round_down(premium.max_debit, self._tick)
        return -self._tick if credit > 0 else round_up(natural, self._tick)


async def _side(
    selector: ChainSelector, view: ChainView, right: Right, delta: float, wing: Wing
) -> tuple[Quote, Quote] | Miss:
    """The leg at ``delta`` and its wing further out of the money."""
    anchor = await selector.by_delta(view, right, delta)
    if isinstance(anchor, Miss):
        return anchor
    other = await selector.wing(view, anchor, right, wing)
    return other if isinstance(other, Miss) else (anchor, other)


async def _leg_quote(selector: ChainSelector, view: ChainView, spec: LegSpec) -> Quote | Miss:
    if spec.delta is not None:
        return await selector.by_delta(view, spec.right, spec.delta)
    assert isinstance(spec.strike, Decimal)  # normalised in LegSpec.__post_init__
    return await selector.at_strike(view, spec.strike, spec.right)


def _rejected(strategy_id: str, symbol: str, miss: Miss) -> Rejection:
    return Rejection(strategy_id, symbol, miss.reason, miss.detail)


def _option(quote: Quote) -> OptionContract:
    contract = quote.contract
    if not isinstance(contract, OptionContract):
        raise TypeError(f"expected an option quote, got {contract!r}")
    return contract


def _strike(quote: Quote) -> Decimal:
    return _option(quote).strike


def _width(short: Quote, long: Quote) -> float:
    return math.fabs(float(_strike(short) - _strike(long)))
