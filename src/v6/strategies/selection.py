"""Strike selection from the broker's real chain, quoting only candidate strikes.

For one underlying and a DTE window (``ChainSelector.view``):

1. the chain parameters give the expirations; the one nearest the target DTE inside the
   window is chosen;
2. the underlying's quote gives the spot; a call and a put of the listed strike nearest to it
   give the at-the-money implied volatility and the parity forward ``K + C - P``;
3. to find a strike by delta, Black-Scholes at that volatility (forward measure) inverts the
   target delta into a first-guess strike, and a window of strikes from a third of the target
   delta to twice it (capped at 0.5) is quoted - at most ``max_quotes_per_side`` of them,
   nearest the guess first. The window is wide because the skew moves the real delta away from
   the flat-volatility guess (out-of-the-money puts carry more volatility than at the money,
   calls less). The quoted strike whose model delta is nearest the target wins, if within
   ``max_delta_miss``;
4. a wing is the listed strike nearest to ``width`` dollars beyond the short strike (the actual
   width then counts), or the strike beyond it whose delta is nearest a wing delta.

A failed step is a ``Miss`` with its reason; the builder turns it into a ``Rejection``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from statistics import NormalDist

from v6.brokers.types import Quote
from v6.clock import NEW_YORK
from v6.config.execution import SelectionConfig
from v6.config.strategies import StrategyTemplate
from v6.domain import OptionContract, Right
from v6.market.calendar import TradingCalendar
from v6.strategies.chain import ChainReader
from v6.strategies.metrics import parity_forward, years_to_expiry
from v6.strategies.results import RejectReason

ATM_CANDIDATES = 3
"""Strikes nearest the spot tried for the at-the-money call and put."""
WING_CANDIDATES = 3
"""Listed strikes nearest the wing target quoted in one request."""
MAX_SEARCH_DELTA = 0.5
_NORMAL = NormalDist()


@dataclass(frozen=True, slots=True)
class DteWindow:
    """Days to expiry wanted: ``target`` inside ``minimum..maximum``."""

    target: int
    minimum: int
    maximum: int

    def __post_init__(self) -> None:
        if not 0 <= self.minimum <= self.target <= self.maximum:
            raise ValueError(
                f"DteWindow({self.target}, {self.minimum}, {self.maximum}): expected "
                "0 <= minimum <= target <= maximum"
            )

    @classmethod
    def of(cls, template: StrategyTemplate) -> DteWindow:
        return cls(template.target_dte, template.min_dte, template.max_dte)


@dataclass(frozen=True, slots=True)
class Wing:
    """How far the protective leg sits beyond the short one: ``width`` dollars, or the strike
    whose absolute ``delta`` is nearest this; exactly one of them."""

    width: float | None = None
    delta: float | None = None

    def __post_init__(self) -> None:
        if (self.width is None) == (self.delta is None):
            raise ValueError(f"{self!r}: expected exactly one of width and delta")
        if self.width is not None and not (math.isfinite(self.width) and self.width > 0):
            raise ValueError(f"Wing.width = {self.width!r}: expected dollars > 0")
        if self.delta is not None and not 0 < self.delta < 1:
            raise ValueError(f"Wing.delta = {self.delta!r}: expected 0 < delta < 1")


@dataclass(frozen=True, slots=True)
class Miss:
    """A selection step that found nothing acceptable."""

    reason: RejectReason
    detail: str


@dataclass(frozen=True, slots=True)
class ChainView:
    """What selection knows of one expiry: spot, parity forward, at-the-money volatility,
    years to the expiry's close and the listed strikes (the union over expirations)."""

    symbol: str
    expiry: date
    spot: float
    forward: float
    atm_vol: float
    years: float
    strikes: tuple[Decimal, ...]
    multiplier: int

    def contract(self, strike: Decimal, right: Right) -> OptionContract:
        return OptionContract(self.symbol, self.expiry, strike, right, self.multiplier)


def choose_expiry(expirations: Sequence[date], today: date, window: DteWindow) -> date | None:
    """The expiry inside the window nearest the target DTE (the earlier one on a tie)."""
    inside = [e for e in expirations if window.minimum <= (e - today).days <= window.maximum]
    if not inside:
        return None
    return min(inside, key=lambda e: (abs((e - today).days - window.target), e))


def delta_strike(forward: float, vol: float, years: float, right: Right, abs_delta: float) -> float:
    """The strike whose Black-Scholes delta (forward measure, flat ``vol``) is ``abs_delta``."""
    spread = vol * math.sqrt(years)
    quantile = _NORMAL.inv_cdf(abs_delta)
    d1 = quantile if right is Right.CALL else -quantile
    return forward * math.exp(spread * spread / 2 - d1 * spread)


def search_strikes(view: ChainView, right: Right, target_delta: float, limit: int) -> list[Decimal]:
    """The listed strikes to quote when looking for ``target_delta`` (see the module doc)."""
    guess = delta_strike(view.forward, view.atm_vol, view.years, right, target_delta)
    near = delta_strike(
        view.forward, view.atm_vol, view.years, right, min(2 * target_delta, MAX_SEARCH_DELTA)
    )
    far = delta_strike(view.forward, view.atm_vol, view.years, right, target_delta / 3)
    low, high = min(near, far), max(near, far)
    by_nearness = sorted(view.strikes, key=lambda k: abs(float(k) - guess))
    inside = [k for k in by_nearness if low <= float(k) <= high]
    return sorted(inside[:limit] or by_nearness[:2])


def best_by_delta(quotes: Sequence[Quote], target_delta: float) -> Quote | None:
    """The valid quote with model Greeks whose absolute delta is nearest the target (the
    further out of the money on a tie)."""
    usable = [q for q in quotes if q.is_valid and q.greeks is not None]
    if not usable:
        return None
    return min(usable, key=lambda q: (abs(_abs_delta(q) - target_delta), _abs_delta(q)))


def wing_strikes(
    strikes: Sequence[Decimal], short: Decimal, right: Right, width: float
) -> list[Decimal]:
    """Listed strikes beyond ``short`` (lower for puts, higher for calls), nearest to
    ``width`` dollars away first."""
    target = float(short) - width if right is Right.PUT else float(short) + width
    beyond = [k for k in strikes if (k < short if right is Right.PUT else k > short)]
    return sorted(beyond, key=lambda k: (abs(float(k) - target), abs(k - short)))[:WING_CANDIDATES]


def _abs_delta(quote: Quote) -> float:
    assert quote.greeks is not None  # filtered by the callers
    return abs(quote.greeks.delta)


def _is_beyond(strike: Decimal, short: Decimal, right: Right) -> bool:
    return strike < short if right is Right.PUT else strike > short


class ChainSelector:
    """Selection for one build, reading the chain through a ``ChainReader``."""

    def __init__(
        self, reader: ChainReader, config: SelectionConfig, calendar: TradingCalendar
    ) -> None:
        self._reader = reader
        self._config = config
        self._calendar = calendar

    async def view(self, symbol: str, window: DteWindow) -> ChainView | Miss:
        params = await self._reader.chain(symbol)
        today = self._reader.now.astimezone(NEW_YORK).date()
        expiry = choose_expiry(params.expirations, today, window)
        if expiry is None:
            return Miss(
                RejectReason.NO_EXPIRY,
                f"no {symbol} expiry {window.minimum}..{window.maximum} days after {today}",
            )
        spot = await self._reader.spot(symbol)
        if spot is None:
            return Miss(RejectReason.NO_QUOTE, f"no valid quote for {symbol}")
        strikes = tuple(sorted(params.strikes))
        contract = functools.partial(OptionContract, symbol, expiry, multiplier=params.multiplier)
        at_the_money = await self._at_the_money(strikes, spot, contract)
        if isinstance(at_the_money, Miss):
            return at_the_money
        forward, vol = at_the_money
        years = years_to_expiry(self._reader.now, expiry, self._calendar)
        return ChainView(symbol, expiry, spot, forward, vol, years, strikes, params.multiplier)

    async def _at_the_money(
        self,
        strikes: Sequence[Decimal],
        spot: float,
        contract: Callable[[Decimal, Right], OptionContract],
    ) -> tuple[float, float] | Miss:
        """(parity forward, at-the-money vol) from the first listed strike near the spot
        whose call and put both have a valid quote and an implied volatility."""
        nearest = sorted(strikes, key=lambda k: abs(float(k) - spot))[:ATM_CANDIDATES]
        pairs = [(contract(k, Right.CALL), contract(k, Right.PUT)) for k in nearest]
        quotes = await self._reader.quotes([c for pair in pairs for c in pair])
        for call, put in pairs:
            call_quote, put_quote = quotes.get(call), quotes.get(put)
            if call_quote is None or put_quote is None:
                continue
            vols = (call_quote.iv, put_quote.iv)
            if call_quote.is_valid and put_quote.is_valid and all(v > 0 for v in vols):
                return parity_forward(float(call.strike), call_quote, put_quote), sum(vols) / 2
        return Miss(RejectReason.NO_QUOTE, f"no valid at-the-money call and put near {spot}")

    async def by_delta(
        self,
        view: ChainView,
        right: Right,
        target_delta: float,
        beyond: Decimal | None = None,
    ) -> Quote | Miss:
        """The quote nearest ``target_delta`` (beyond strike ``beyond`` if given)."""
        strikes = search_strikes(view, right, target_delta, self._config.max_quotes_per_side)
        if beyond is not None:
            strikes = [k for k in strikes if _is_beyond(k, beyond, right)]
        quotes = await self._reader.quotes([view.contract(k, right) for k in strikes])
        best = best_by_delta(list(quotes.values()), target_delta)
        label = f"{view.symbol} {view.expiry} {right.name.lower()}"
        if best is None:
            return Miss(RejectReason.NO_QUOTE, f"no quoted {label} with model Greeks")
        miss = abs(_abs_delta(best) - target_delta)
        if miss > self._config.max_delta_miss:
            return Miss(
                RejectReason.NO_STRIKE_NEAR_DELTA,
                f"nearest {label} to delta {target_delta:.2f} is strike "
                f"{_strike_of(best)} at {_abs_delta(best):.3f} (more than "
                f"{self._config.max_delta_miss} away)",
            )
        return best

    async def wing(self, view: ChainView, short: Quote, right: Right, wing: Wing) -> Quote | Miss:
        """The protective leg beyond ``short``."""
        short_strike = _strike_of(short)
        if wing.delta is not None:
            return await self.by_delta(view, right, wing.delta, beyond=short_strike)
        assert wing.width is not None  # exactly one is set (Wing.__post_init__)
        strikes = wing_strikes(view.strikes, short_strike, right, wing.width)
        quotes = await self._reader.quotes([view.contract(k, right) for k in strikes])
        for strike in strikes:
            quote = quotes.get(view.contract(strike, right))
            if quote is not None and quote.is_valid and quote.greeks is not None:
                return quote
        return Miss(
            RejectReason.NO_WING_STRIKE,
            f"no quoted {view.symbol} {view.expiry} {right.name.lower()} about {wing.width} "
            f"beyond {short_strike}",
        )

    async def at_strike(self, view: ChainView, strike: Decimal, right: Right) -> Quote | Miss:
        contract = view.contract(strike, right)
        quote = (await self._reader.quotes([contract])).get(contract)
        if quote is None or not quote.is_valid or quote.greeks is None:
            return Miss(RejectReason.NO_QUOTE, f"no valid quote for {contract.occ_symbol}")
        return quote


def _strike_of(quote: Quote) -> Decimal:
    contract = quote.contract
    assert isinstance(contract, OptionContract)  # selection quotes options only
    return contract.strike
