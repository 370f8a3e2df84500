"""Faults the simulated exchange injects: on demand through this API, or at random at the
rates of ``broker.sim.faults`` in the configuration.

* ``disconnect(seconds)`` - connectivity to the exchange is lost (1100, 2103) for that long,
  then restored (1102, 2104). Orders keep working meanwhile; their events arrive on restore.
  The configured ``disconnect_rate`` is a chance per market step, for
  ``RANDOM_OUTAGE_SECONDS``.
* ``reject_next_orders(k)`` - the next k orders are rejected (201).
* ``partial_fills(k)`` - the next k fills of multi-unit orders fill about half of what they
  would have, leaving the rest working.
* ``stale_quotes(k)`` - the next k quotes delivered repeat the contract's previous quote,
  time stamp included.
* ``bad_quotes(k, kind)`` - the next k quotes delivered are bad: NaN, zero, negative or crossed.
  Random bad quotes draw their kind.

Faults change what V6 *sees* (quotes) and how the exchange *answers* (rejections, partial
fills, outages); the market and the fill model underneath stay clean. Every decision comes from
a seeded generator whose state is journaled, so a run with faults is as deterministic as one
without. Quote faults draw from their own generator: how many quotes V6 asks for never
changes a fill, a rejection or an outage (a client resuming after a crash re-subscribes, and
its quotes' faults may then differ from the run that did not crash; nothing else does).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from v6.brokers.types import Quote
from v6.config.broker import FaultInjectionConfig
from v6.domain import Contract

RANDOM_OUTAGE_SECONDS = 60.0
"""How long a random outage lasts (the configuration gives only its rate)."""


class BadQuoteKind(StrEnum):
    NAN = "nan"
    ZERO = "zero"
    NEGATIVE = "negative"
    CROSSED = "crossed"


@dataclass(slots=True)
class FaultCounters:
    """Pending on-demand faults (journaled with the exchange's state)."""

    reject_orders: int = 0
    partial_fills: int = 0
    stale_quotes: int = 0
    bad_quotes: int = 0
    bad_kind: BadQuoteKind = BadQuoteKind.NAN


def _nothing() -> None:
    return None


def _count(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} = {value!r}: expected an integer >= 0")
    return value


class Faults:
    """On-demand faults and random faults at the configured rates."""

    def __init__(
        self,
        config: FaultInjectionConfig,
        rng: np.random.Generator,
        quote_rng: np.random.Generator,
        counters: FaultCounters | None = None,
    ) -> None:
        self._config = config
        self._rng = rng
        self._quote_rng = quote_rng
        self.counters = counters if counters is not None else FaultCounters()
        self._on_disconnect: Callable[[float], None] | None = None
        self._on_change: Callable[[], None] = _nothing
        self._last_quotes: dict[Contract, Quote] = {}

    def bind(self, disconnect: Callable[[float], None], changed: Callable[[], None]) -> None:
        """The exchange's handler for ``disconnect``, and what to call after a change (the
        exchange journals it)."""
        self._on_disconnect = disconnect
        self._on_change = changed

    def disconnect(self, seconds: float) -> None:
        """Lose connectivity now, for ``seconds`` of clock time."""
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not seconds > 0:
            raise ValueError(f"disconnect seconds = {seconds!r}: expected a number > 0")
        if self._on_disconnect is None:
            raise RuntimeError("Faults.disconnect: not bound to an exchange")
        self._on_disconnect(float(seconds))

    def reject_next_orders(self, count: int) -> None:
        self.counters.reject_orders = _count(count, "reject_next_orders count")
        self._on_change()

    def partial_fills(self, count: int) -> None:
        self.counters.partial_fills = _count(count, "partial_fills count")
        self._on_change()

    def stale_quotes(self, count: int) -> None:
        self.counters.stale_quotes = _count(count, "stale_quotes count")
        self._on_change()

    def bad_quotes(self, count: int, kind: BadQuoteKind = BadQuoteKind.NAN) -> None:
        self.counters.bad_quotes = _count(count, "bad_quotes count")
        self.counters.bad_kind = BadQuoteKind(kind)
        self._on_change()

    def _chance(self, rate: float, rng: np.random.Generator | None = None) -> bool:
        return rate > 0 and bool((rng or self._rng).random() < rate)

    def outage_starts(self) -> bool:
        """Decided once per market step."""
        return self._chance(self._config.disconnect_rate)

    def rejects_order(self) -> bool:
        if self.counters.reject_orders > 0:
            self.counters.reject_orders -= 1
            return True
        return self._chance(self._config.reject_rate)

    def partial_units(self, units: int, remaining: int) -> int:
        """The units a fill of ``units`` (of ``remaining``) actually fills."""
        if remaining < 2:
            return units
        forced = self.counters.partial_fills > 0
        if forced:
            self.counters.partial_fills -= 1
        if forced or self._chance(self._config.partial_fill_rate):
            return max(1, min(units, remaining // 2))
        return units

    @property
    def draws_quote_faults(self) -> bool:
        """A quote fault is pending or configured: delivering quotes may use up a pending
        fault or draw from the quote generator (else it changes nothing journaled)."""
        pending = self.counters.stale_quotes > 0 or self.counters.bad_quotes > 0
        return pending or self._config.stale_quote_rate > 0 or self._config.bad_quote_rate > 0

    def deliver_all(self, quotes: Sequence[Quote]) -> list[Quote]:
        """``deliver`` for each quote, in order. Without a quote fault pending or configured
        every quote goes out clean (no generator draws); it is only remembered."""
        if self.draws_quote_faults:
            return [self.deliver(quote) for quote in quotes]
        self._last_quotes.update((quote.contract, quote) for quote in quotes)
        return list(quotes)

    def deliver(self, quote: Quote) -> Quote:
        """The quote V6 receives for a clean ``quote``: itself, a stale one or a bad one."""
        previous = self._last_quotes.get(quote.contract)
        delivered = self._faulty(quote, previous)
        self._last_quotes[quote.contract] = delivered
        return delivered

    def _faulty(self, quote: Quote, previous: Quote | None) -> Quote:
        counters = self.counters
        if counters.stale_quotes > 0 and previous is not None:
            counters.stale_quotes -= 1
            return previous
        if counters.bad_quotes > 0:
            counters.bad_quotes -= 1
            return spoil(quote, counters.bad_kind)
        if previous is not None and self._chance(self._config.stale_quote_rate, self._quote_rng):
            return previous
        if self._chance(self._config.bad_quote_rate, self._quote_rng):
            kinds = list(BadQuoteKind)
            return spoil(quote, kinds[int(self._quote_rng.integers(len(kinds)))])
        return quote


def spoil(quote: Quote, kind: BadQuoteKind) -> Quote:
    """``quote`` made bad in the given way."""
    if kind is BadQuoteKind.NAN:
        return dataclasses.replace(quote, bid=math.nan, ask=math.nan, last=math.nan)
    if kind is BadQuoteKind.ZERO:
        return dataclasses.replace(quote, bid=0.0, ask=0.0, bid_size=0, ask_size=0)
    if kind is BadQuoteKind.NEGATIVE:
        return dataclasses.replace(quote, bid=-abs(quote.bid) - 1.0)
    return dataclasses.replace(quote, bid=quote.ask + 0.05, ask=quote.bid)
