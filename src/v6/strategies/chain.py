"""Reading an option chain through the broker port, within the connection's message budget.

IB's ``reqSecDefOptParams`` gives the *union* of strikes over every expiration, and a
snapshot of a contract that is not listed fails the whole request (error 200). So
``ChainReader.quotes`` asks only for the contracts a builder chose, in requests of at most
``PacedBroker.batch`` contracts, and when a request fails with 200 it splits it in halves until
the unlisted contracts are isolated and dropped (a few extra messages, only when a strike is
missing).

Pacing: the reader sends through a ``PacedBroker`` (``v6.brokers.pacing``), so its messages
take their tokens from the bucket the sync worker and the order engine draw on too, and it
cannot push the connection past the broker's limit. A pacing error all the same (another
client of the account) is raised like any retryable error: the entry waits for a later cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from v6.brokers.errors import ContractNotFoundError
from v6.brokers.pacing import PacedBroker
from v6.brokers.types import OptionChainParams, Quote
from v6.clock import Clock
from v6.domain import Contract, StockContract


class ChainReader:
    """Chain parameters, spots and chosen quotes, read through the port.

    What it read is kept for the reader's life - one build, or the builds of one entry cycle
    (``StrategyBuilder.reader``) - so a chain or a contract is asked for once in it.
    """

    def __init__(self, broker: PacedBroker, clock: Clock) -> None:
        self._broker = broker
        self._clock = clock
        self._chains: dict[str, OptionChainParams] = {}
        self._quotes: dict[Contract, Quote] = {}
        self._unlisted: set[Contract] = set()

    @property
    def now(self) -> datetime:
        return self._clock.now()

    async def chain(self, symbol: str) -> OptionChainParams:
        chain = self._chains.get(symbol)
        if chain is None:
            chain = self._chains[symbol] = await self._broker.option_chain(symbol)
        return chain

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
        batch = self._broker.batch
        for start in range(0, len(wanted), batch):
            await self._fetch(wanted[start : start + batch])
        return {c: self._quotes[c] for c in contracts if c in self._quotes}

    async def _fetch(self, batch: list[Contract]) -> None:
        try:
            quotes = await self._broker.snapshot_quotes(batch)
        except ContractNotFoundError:
            if len(batch) == 1:
                self._unlisted.add(batch[0])
                return
            middle = len(batch) // 2
            await self._fetch(batch[:middle])
            await self._fetch(batch[middle:])
            return
        self._quotes.update(zip(batch, quotes, strict=True))
