"""Reading an option chain through the broker port, within IB's pacing.

IB's ``reqSecDefOptParams`` gives the *union* of strikes over every expiration, and a
snapshot of a contract that is not listed fails the whole request (error 200). So
``ChainReader.quotes`` asks only for the contracts a builder chose, in batches that fit the
message budget, and when a batch fails with 200 it splits it in halves until the unlisted
contracts are isolated and dropped (a few extra messages, only when a strike is missing).

Pacing: at most ``quotes_per_second`` snapshot quotes per second of clock time
(``QuotePacer``); when another part of V6 used the broker's budget and the broker still
answers 100, the reader waits a second and retries, a few times, then lets the error out.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from datetime import datetime, timedelta

from v6.brokers.base import Broker
from v6.brokers.errors import ContractNotFoundError, PacingViolationError
from v6.brokers.types import OptionChainParams, Quote
from v6.clock import Clock
from v6.domain import Contract, StockContract

PACING_WINDOW = timedelta(seconds=1)
PACING_RETRIES = 3


class QuotePacer:
    """At most ``per_second`` messages in any one-second window of ``clock`` time."""

    def __init__(self, clock: Clock, per_second: float) -> None:
        if not (math.isfinite(per_second) and per_second >= 1):
            raise ValueError(f"QuotePacer per_second = {per_second!r}: expected a number >= 1")
        self._clock = clock
        self.limit = int(per_second)
        self._sent: deque[tuple[datetime, int]] = deque()

    async def take(self, messages: int) -> None:
        """Wait until ``messages`` (at most ``limit``) fit in the window, then count them."""
        if not 0 < messages <= self.limit:
            raise ValueError(f"QuotePacer.take({messages}): expected 1..{self.limit} messages")
        while self._in_window() + messages > self.limit:
            oldest = self._sent[0][0]
            await self._clock.sleep_until(oldest + PACING_WINDOW)
        self._sent.append((self._clock.now(), messages))

    def _in_window(self) -> int:
        now = self._clock.now()
        while self._sent and self._sent[0][0] <= now - PACING_WINDOW:
            self._sent.popleft()
        return sum(count for _, count in self._sent)


class ChainReader:
    """One underlying's chain parameters, spot and chosen quotes, read through the port.

    Quotes are cached for the reader's life (one build), so a contract is asked for once.
    """

    def __init__(self, broker: Broker, clock: Clock, quotes_per_second: float) -> None:
        self._broker = broker
        self._clock = clock
        self._pacer = QuotePacer(clock, quotes_per_second)
        self._quotes: dict[Contract, Quote] = {}
        self._unlisted: set[Contract] = set()

    @property
    def now(self) -> datetime:
        return self._clock.now()

    async def chain(self, symbol: str) -> OptionChainParams:
        await self._pacer.take(1)
        return await self._broker.option_chain(symbol)

    async def spot(self, symbol: str) -> float | None:
        """The underlying's mid, or None without a valid quote."""
        quote = (await self.quotes([StockContract(symbol)])).get(StockContract(symbol))
        return quote.mid if quote is not None and quote.is_valid else None

    async def quotes(self, contracts: Sequence[Contract]) -> dict[Contract, Quote]:
        """Quotes of the listed ``contracts`` (unlisted ones are left out), cached."""
        wanted = [
            contract
            for contract in dict.fromkeys(contracts)
            if contract not in self._quotes and contract not in self._unlisted
        ]
        for start in range(0, len(wanted), self._pacer.limit):
            await self._fetch(wanted[start : start + self._pacer.limit])
        return {c: self._quotes[c] for c in contracts if c in self._quotes}

    async def _fetch(self, batch: list[Contract]) -> None:
        try:
            quotes = await self._snapshot(batch)
        except ContractNotFoundError:
            if len(batch) == 1:
                self._unlisted.add(batch[0])
                return
            middle = len(batch) // 2
            await self._fetch(batch[:middle])
            await self._fetch(batch[middle:])
            return
        self._quotes.update(zip(batch, quotes, strict=True))

    async def _snapshot(self, batch: list[Contract]) -> tuple[Quote, ...]:
        retries = 0
        while True:
            await self._pacer.take(len(batch))
            try:
                return await self._broker.snapshot_quotes(batch)
            except PacingViolationError:
                retries += 1
                if retries > PACING_RETRIES:
                    raise
                await self._clock.sleep(PACING_WINDOW.total_seconds())
