"""The one message budget of a broker connection: a token bucket every sender draws from.

IB refuses messages beyond about 50 per second (error 100), counted in a sliding one-second
window. A bucket of ``capacity`` tokens refilled at ``rate`` per second lets through at most
``capacity + rate * T`` messages in any span of ``T`` seconds, so ``capacity + rate`` at or
below the broker's limit keeps every one-second window within it. Waits are rounded up to the
next microsecond (the resolution of the clocks) and are never shorter than one, so a
waiter always makes progress.

That holds for the messages of all senders together only if they all take their tokens from
the same bucket, just before they send: the engine builds one per connection
(``v6.engine.wire``) and hands it to every part that talks to the broker. One token per
message, as the port counts them (``v6.brokers.base``): a snapshot takes one per contract
(``snapshot_quotes`` sends batches of at most ``capacity``), a bracket three, and every other
request - line subscribe or cancel, chain parameters, what-if, place, modify, cancel - one.
Cached reads (account values, positions, open orders, executions) send nothing.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from v6.clock import Clock, require_utc

MICROSECOND = 1e-6


class PacingBudgetError(ValueError):
    """A bucket that could let more messages through in one second than the broker takes."""


class TokenBucket:
    """``capacity`` tokens, refilled at ``rate`` per second of clock time; starts full."""

    def __init__(self, rate: float, capacity: int, start: datetime) -> None:
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not rate > 0:
            raise ValueError(f"TokenBucket rate = {rate!r}: expected a number > 0")
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise ValueError(f"TokenBucket capacity = {capacity!r}: expected an integer >= 1")
        self.rate = float(rate)
        self.capacity = capacity
        self._tokens = float(capacity)
        self._at = require_utc(start, "TokenBucket start")

    @classmethod
    def within(cls, rate: float, capacity: int, limit: float, start: datetime) -> TokenBucket:
        """A bucket whose worst second (``capacity + rate``) stays within ``limit``."""
        if rate + capacity > limit:
            raise PacingBudgetError(
                f"sync.snapshot_rate_per_second + sync.snapshot_burst = {rate} + {capacity}: "
                f"expected at most broker.pacing_messages_per_second ({limit}), or one second "
                "could carry more messages than the broker accepts (error 100)"
            )
        return cls(rate, capacity, start)

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
