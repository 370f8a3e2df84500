"""The one message budget of a broker connection: a token bucket every sender draws from.

IB refuses messages beyond about 50 per second (error 100), counted in a sliding one-second
window. A bucket of ``capacity`` tokens refilled at ``rate`` per second lets through at most
``capacity + rate * T`` messages in any span of ``T`` seconds, so ``capacity + rate`` at or
below the broker's limit keeps every one-second window within it. Waits are rounded up to the
next microsecond (the resolution of the clocks) and are never shorter than one, so a
waiter always makes progress.

That holds for the messages of all senders together only if each takes its tokens from the
same bucket just before it sends. The engine builds one bucket per connection
(``v6.engine.wire``) and shares it:

* the sync's queue worker and streamer take their tokens themselves (the worker must not wait
  past its deadline, so it asks ``wait_seconds`` and ``take``s);
* everything else - the strategy builder's chain reads, the entry signals, the order engine's
  quotes, what-ifs and orders - talks to the broker through a ``PacedBroker``, which takes the
  tokens of each request as the port counts its messages (``v6.brokers.base``): one per
  contract of a snapshot or a qualification (sent in batches of at most ``capacity``), three
  for a bracket, one for any other request (the completed orders included: IB answers them
  only when asked). Cached reads (account values, positions, open orders, executions) and
  events send nothing and take nothing.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Final, TypeVar

from v6.brokers.base import Broker
from v6.brokers.errors import PacingViolationError
from v6.brokers.events import EventStream, ExecutionEvent
from v6.brokers.types import AccountValues, OptionChainParams, OrderSpec, OrderState, Quote, WhatIf
from v6.clock import Clock, require_utc
from v6.domain import Contract, Position

MICROSECOND = 1e-6
BRACKET_MESSAGES: Final = 3
"""A bracket is three orders (parent, take-profit, stop) sent at once."""

_Reply = TypeVar("_Reply")


class PacingBudgetError(ValueError):
    """A bucket that could let more messages through in one second than the broker takes."""


class TokenBucket:
    """``capacity`` tokens, refilled at ``rate`` per second of clock time; starts full."""

    def __init__(self, rate: float, capacity: int, start: datetime) -> None:
        if not _is_positive_number(rate):
            raise ValueError(f"TokenBucket rate = {rate!r}: expected a finite number > 0")
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise ValueError(f"TokenBucket capacity = {capacity!r}: expected an integer >= 1")
        self.rate = float(rate)
        self.capacity = capacity
        self._tokens = float(capacity)
        self._at = require_utc(start, "TokenBucket start")

    @classmethod
    def within(cls, rate: float, capacity: int, limit: float, start: datetime) -> TokenBucket:
        """A bucket whose worst second (``capacity + rate``) stays within ``limit``."""
        bucket = cls(rate, capacity, start)
        if not _is_positive_number(limit):
            raise ValueError(
                f"broker.pacing_messages_per_second = {limit!r}: expected a finite number > 0"
            )
        if rate + capacity > limit:
            raise PacingBudgetError(
                f"sync.snapshot_rate_per_second + sync.snapshot_burst = {rate} + {capacity}: "
                f"expected at most broker.pacing_messages_per_second ({limit}), or one second "
                "could carry more messages than the broker accepts (error 100)"
            )
        return bucket

    def available(self, now: datetime) -> float:
        """Tokens that may be taken at ``now``."""
        self._refill(now)
        return self._tokens

    def wait_seconds(self, count: int, now: datetime) -> float:
        """Seconds from ``now`` until ``count`` tokens are available (0 when they are)."""
        self._check_count(count)
        missing = count - self.available(now)
        if missing <= 0:
            return 0.0
        micros = round(missing / self.rate / MICROSECOND, 6)
        return max(1, math.ceil(micros)) * MICROSECOND

    def take(self, count: int, now: datetime) -> bool:
        """Take ``count`` tokens if available at ``now``; False (and nothing taken) if not."""
        self._check_count(count)
        if self.available(now) < count:
            return False
        self._tokens -= count
        return True

    async def acquire(self, count: int, clock: Clock) -> None:
        """Wait on ``clock`` until ``count`` tokens can be taken, then take them."""
        while not self.take(count, clock.now()):
            now = clock.now()
            await clock.sleep_until(now + timedelta(seconds=self.wait_seconds(count, now)))

    def drain(self, now: datetime) -> None:
        """Empty the bucket (after a pacing error: let the broker's window pass)."""
        self._refill(now)
        self._tokens = 0.0

    def _refill(self, now: datetime) -> None:
        elapsed = (require_utc(now, "now") - self._at).total_seconds()
        if elapsed <= 0:
            return
        self._tokens = min(float(self.capacity), self._tokens + elapsed * self.rate)
        self._at = now

    def _check_count(self, count: int) -> None:
        if isinstance(count, bool) or not isinstance(count, int) or not count >= 1:
            raise ValueError(f"token count = {count!r}: expected an integer >= 1")
        if count > self.capacity:
            raise ValueError(
                f"token count = {count}: expected at most the bucket's capacity ({self.capacity})"
            )


def _is_positive_number(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


class PacedBroker(Broker):
    """``broker`` with every message taking its token from ``bucket`` first, waiting on
    ``clock`` while there is none (see the module docstring).

    A pacing error despite the bucket (another client of the account sending) empties the
    bucket, so every sender on it waits for fresh tokens, and is raised: it is retryable.
    """

    def __init__(self, broker: Broker, bucket: TokenBucket, clock: Clock) -> None:
        if isinstance(broker, PacedBroker):
            raise ValueError(
                "PacedBroker broker: expected an unpaced broker, got a PacedBroker (each "
                "message would take two tokens)"
            )
        self._broker = broker
        self._bucket = bucket
        self._clock = clock

    @property
    def batch(self) -> int:
        """The most contracts one snapshot request carries: the bucket's capacity."""
        return self._bucket.capacity

    async def _paced(self, messages: int, request: Callable[[], Awaitable[_Reply]]) -> _Reply:
        await self._bucket.acquire(messages, self._clock)
        try:
            return await request()
        except PacingViolationError:
            self._bucket.drain(self._clock.now())
            raise

    async def _per_contract(
        self,
        contracts: Sequence[Contract],
        request: Callable[[Sequence[Contract]], Awaitable[tuple[_Reply, ...]]],
    ) -> tuple[_Reply, ...]:
        """``request`` in batches of at most ``batch`` contracts, one token per contract."""
        replies: list[_Reply] = []
        for start in range(0, len(contracts), self.batch):
            batch = contracts[start : start + self.batch]
            replies.extend(await self._paced(len(batch), partial(request, batch)))
        return tuple(replies)

    @property
    def is_connected(self) -> bool:
        return self._broker.is_connected

    async def connect(self) -> None:
        await self._broker.connect()

    async def disconnect(self) -> None:
        await self._broker.disconnect()

    def events(self) -> EventStream:
        return self._broker.events()

    async def account_values(self) -> AccountValues:
        return await self._broker.account_values()

    async def positions(self) -> tuple[Position, ...]:
        return await self._broker.positions()

    async def open_orders(self) -> tuple[OrderState, ...]:
        return await self._broker.open_orders()

    async def completed_orders(self) -> tuple[OrderState, ...]:
        return await self._paced(1, self._broker.completed_orders)

    async def executions(self) -> tuple[ExecutionEvent, ...]:
        return await self._broker.executions()

    async def qualify(self, contracts: Sequence[Contract]) -> tuple[Contract, ...]:
        return await self._per_contract(contracts, self._broker.qualify)

    async def snapshot_quotes(self, contracts: Sequence[Contract]) -> tuple[Quote, ...]:
        return await self._per_contract(contracts, self._broker.snapshot_quotes)

    async def option_chain(self, symbol: str) -> OptionChainParams:
        return await self._paced(1, partial(self._broker.option_chain, symbol))

    async def subscribe_quotes(self, contract: Contract) -> int:
        return await self._paced(1, partial(self._broker.subscribe_quotes, contract))

    async def unsubscribe_quotes(self, contract: Contract) -> None:
        await self._paced(1, partial(self._broker.unsubscribe_quotes, contract))

    async def place_order(self, order: OrderSpec) -> OrderState:
        return await self._paced(1, partial(self._broker.place_order, order))

    async def place_bracket(
        self, parent: OrderSpec, take_profit_price: float, stop_loss_price: float
    ) -> tuple[OrderState, OrderState, OrderState]:
        send = partial(self._broker.place_bracket, parent, take_profit_price, stop_loss_price)
        return await self._paced(BRACKET_MESSAGES, send)

    async def modify_order(
        self,
        order_id: int,
        *,
        quantity: int | None = None,
        limit_price: float | None = None,
        stop_price: float | None = None,
    ) -> OrderState:
        send = partial(
            self._broker.modify_order,
            order_id,
            quantity=quantity,
            limit_price=limit_price,
            stop_price=stop_price,
        )
        return await self._paced(1, send)

    async def cancel_order(self, order_id: int) -> OrderState:
        return await self._paced(1, partial(self._broker.cancel_order, order_id))

    async def what_if(self, order: OrderSpec) -> WhatIf:
        return await self._paced(1, partial(self._broker.what_if, order))
