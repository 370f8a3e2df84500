"""The hybrid streamer: live quote lines for the legs of active strategies, within a budget.

Each cycle the registry's active strategies, most urgent first, are given lines whole (all
their legs or none) while the budget lasts: first the strategies in flight, then those
already streaming (so equally urgent strategies do not take lines from each other every
cycle), then the rest. The budget is ``sync.streaming_lines``, never more than the broker's
``market_data_lines``. Legs that get no line stay with the queue worker.

Reconnects: connectivity lost (IB 1100) or the market-data farm broken (2103) leaves every
line stale; connectivity restored (1101 data lost, 1102 data maintained), the API connection
coming back, or the farm OK again after it broke (2104 after 2103) makes the streamer cancel
and re-request every line at the next `apply`, so each comes back with a fresh quote. An API
disconnect drops every line at the broker, so they are requested anew.

Every subscribe and cancel takes one token from the shared `TokenBucket`. A contract the
broker refuses to stream (unknown or expired, 200) is not asked for again; it stays with the
queue worker.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from enum import Enum, auto

from v6.brokers.base import Broker
from v6.brokers.errors import MarketDataLimitError, PermanentBrokerError, RetryableBrokerError
from v6.brokers.events import BrokerEvent, ConnectionEvent, ErrorEvent, QuoteEvent
from v6.brokers.pacing import TokenBucket
from v6.brokers.types import Quote
from v6.clock import Clock
from v6.domain import OptionContract

log = logging.getLogger(__name__)

LOST_CODES = frozenset({1100, 2103})
RESTORED_CODES = frozenset({1101, 1102})
FARM_BROKEN, FARM_OK = 2103, 2104


def plan_lines(
    groups: Sequence[Sequence[OptionContract]],
    in_flight: int,
    streaming: Iterable[OptionContract],
    budget: int,
) -> list[OptionContract]:
    """The contracts to stream: ``groups`` (each strategy's legs, most urgent first, the
    first ``in_flight`` of them in flight) given lines whole while ``budget`` lasts - in
    flight first, then groups already fully ``streaming``, then the rest."""
    current = set(streaming)
    incumbent = [not set(group) - current for group in groups]
    passes = (
        list(range(in_flight)),
        [i for i in range(in_flight, len(groups)) if incumbent[i]],
        [i for i in range(in_flight, len(groups)) if not incumbent[i]],
    )
    chosen: dict[OptionContract, None] = {}
    for index in (i for indexes in passes for i in indexes):
        new = [c for c in dict.fromkeys(groups[index]) if c not in chosen]
        if len(chosen) + len(new) <= budget:
            chosen.update(dict.fromkeys(new))
    return list(chosen)


class Connectivity(Enum):
    """What a broker event did to the lines."""

    NOTHING = auto()
    LOST = auto()
    RESTORED = auto()
    DROPPED = auto()


class LineHealth:
    """What connection and farm messages mean for the lines (see the module docstring):
    ``stale`` while no quote can arrive, ``resubscribe`` once they can again and lines are
    held."""

    def __init__(self) -> None:
        self.stale = False
        self.resubscribe = False
        self._farm_broken = False

    def note(self, event: BrokerEvent, holding: bool) -> Connectivity:
        """Take in one event; ``holding`` says whether any line is held."""
        if isinstance(event, ErrorEvent):
            return self._code(event.code, holding)
        if not isinstance(event, ConnectionEvent):
            return Connectivity.NOTHING
        if event.code is not None:
            return self._code(event.code, holding)
        if not event.connected:
            self.stale = True
            return Connectivity.DROPPED
        self.stale = False
        self.resubscribe = self.resubscribe or holding
        return Connectivity.RESTORED

    def _code(self, code: int, holding: bool) -> Connectivity:
        if code in LOST_CODES:
            self.stale = True
            self._farm_broken = self._farm_broken or code == FARM_BROKEN
            return Connectivity.LOST
        restored = code in RESTORED_CODES
        if not (restored or (code == FARM_OK and self._farm_broken)):
            return Connectivity.NOTHING
        self.resubscribe = self.resubscribe or holding
        self.stale = self._farm_broken = False
        return Connectivity.RESTORED if restored else Connectivity.NOTHING

    def resubscribed(self) -> None:
        self.resubscribe = self.stale = False


class Streamer:
    """Streaming lines at the broker; see the module docstring."""

    def __init__(self, broker: Broker, clock: Clock, bucket: TokenBucket, budget: int) -> None:
        if budget < 0:
            raise ValueError(f"Streamer budget = {budget!r}: expected an integer >= 0")
        self._broker = broker
        self._clock = clock
        self._bucket = bucket
        self.budget = budget
        self._lines: dict[OptionContract, int] = {}
        self._contracts: dict[int, OptionContract] = {}
        self._health = LineHealth()
        self._refused: set[OptionContract] = set()
        self.resubscriptions = 0
        self.line_errors = 0

    @property
    def lines(self) -> Mapping[OptionContract, int]:
        """Contract -> request id of every line held."""
        return self._lines

    @property
    def refused(self) -> frozenset[OptionContract]:
        """Contracts the broker refused to stream (unknown, 200): never asked again."""
        return frozenset(self._refused)

    @property
    def live(self) -> bool:
        """True while the lines deliver quotes (no outage, nothing left to resubscribe)."""
        return not (self._health.stale or self._health.resubscribe)

    def quote_of(self, event: QuoteEvent) -> Quote | None:
        """The quote of a line this streamer holds (None for a line it no longer holds)."""
        contract = self._contracts.get(event.req_id)
        return event.quote if contract is not None else None

    def note(self, event: BrokerEvent) -> bool:
        """Take in a connection or farm event; True when connectivity came back."""
        change = self._health.note(event, bool(self._lines))
        if change is Connectivity.DROPPED:
            self._lines.clear()
            self._contracts.clear()
        return change is Connectivity.RESTORED

    async def apply(self, wanted: Sequence[OptionContract]) -> None:
        """Hold lines for exactly ``wanted`` (at most the budget): resubscribe if due, cancel
        the lines no longer wanted, open the new ones. A lost connection leaves the rest for
        the next call."""
        wanted = [c for c in dict.fromkeys(wanted) if c not in self._refused][: self.budget]
        keep = set(wanted)
        try:
            if self._health.resubscribe:
                await self._resubscribe_all()
            for contract in [c for c in self._lines if c not in keep]:
                await self._cancel(contract)
            for contract in wanted:
                if contract not in self._lines:
                    await self._open(contract)
        except RetryableBrokerError as error:
            log.info("streaming lines left for the next cycle: %s", error)

    async def _resubscribe_all(self) -> None:
        for contract in list(self._lines):
            await self._cancel(contract)
            await self._open(contract)
        self._health.resubscribed()
        self.resubscriptions += 1

    async def _cancel(self, contract: OptionContract) -> None:
        await self._bucket.acquire(1, self._clock)
        await self._broker.unsubscribe_quotes(contract)
        req_id = self._lines.pop(contract)
        self._contracts.pop(req_id, None)

    async def _open(self, contract: OptionContract) -> None:
        await self._bucket.acquire(1, self._clock)
        try:
            req_id = await self._broker.subscribe_quotes(contract)
        except MarketDataLimitError as error:
            self.line_errors += 1
            log.warning("no line for %s: %s", contract.occ_symbol, error)
            return
        except PermanentBrokerError as error:
            self._refused.add(contract)
            log.warning("%s cannot stream: %s", contract.occ_symbol, error)
            return
        self._lines[contract] = req_id
        self._contracts[req_id] = contract
