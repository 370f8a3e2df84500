"""QueueWorker: refreshes the queue's legs with paced snapshot requests.

The worker asks the `PositionQueue` for its most urgent legs, at most ``batch`` contracts per
request, whenever the shared `TokenBucket` holds a token per contract; otherwise it sleeps on
the clock until it does. So it never sends faster than the bucket, which stays within the
broker's pacing limit: it causes no pacing error. Should one come anyway (another client of
the account sending too), it empties the bucket, waits a second and retries those legs first.

Failures: a lost connection (retryable) puts the batch back and retries every
``RETRY_SECONDS``; a permanent refusal (an unknown or expired contract, error 200) of a batch
of several contracts re-requests them one at a time, so one bad contract cannot block the
others, and a contract refused on its own waits for its next turn in the rotation.

Two ways to run it, the same loop either way:

* ``await worker.run_until(deadline)`` - the caller's own task spends the time up to
  ``deadline`` refreshing marks. With an accelerated ``SimClock`` this is the way: such a
  clock moves only when someone sleeps on it, so one task must drive it (a second sleeper
  would add its sleeps to the driver's).
* ``worker.start()`` / ``await worker.stop()`` - the loop as a background asyncio task, for
  a clock that moves by itself (live, paper, replay).

``before_batch`` (given by `PositionSync`) runs before every request; it applies the broker
events that arrived meanwhile, so streamed quotes are taken in while the worker runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import numpy as np

from v6.brokers.base import Broker
from v6.brokers.errors import BrokerError, PacingViolationError, RetryableBrokerError
from v6.brokers.pacing import TokenBucket
from v6.clock import Clock
from v6.domain import OptionContract
from v6.sync.marks import IntArray, MarkBook
from v6.sync.queue import PositionQueue

log = logging.getLogger(__name__)

RETRY_SECONDS: Final = 1.0
"""Wait after a lost connection before the next request."""

PACING_PENALTY_SECONDS: Final = 1.0
"""Wait after a pacing error: the broker's one-second window."""


@dataclass(slots=True)
class WorkerStats:
    """Counters since the worker was made."""

    requests: int = 0
    contracts: int = 0
    good_quotes: int = 0
    pacing_errors: int = 0
    connection_errors: int = 0
    refused: int = 0


def _nothing() -> None:
    return None


class QueueWorker:
    """Paced snapshot requests for the queue's legs; see the module docstring."""

    def __init__(
        self,
        broker: Broker,
        clock: Clock,
        queue: PositionQueue,
        marks: MarkBook,
        bucket: TokenBucket,
        batch: int,
        before_batch: Callable[[], None] = _nothing,
    ) -> None:
        if batch < 1 or batch > bucket.capacity:
            raise ValueError(
                f"QueueWorker batch = {batch!r}: expected 1 .. the bucket's capacity "
                f"({bucket.capacity})"
            )
        self._broker = broker
        self._clock = clock
        self._queue = queue
        self._marks = marks
        self._bucket = bucket
        self._batch = batch
        self._before_batch = before_batch
        self._solo: deque[int] = deque()
        self._task: asyncio.Task[None] | None = None
        self.stats = WorkerStats()

    @property
    def running(self) -> bool:
        """True while the background task runs."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Run the loop as a background task until `stop`."""
        if self.running:
            return
        self._task = asyncio.get_running_loop().create_task(self.run_until(None))

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def run_until(self, deadline: datetime | None) -> None:
        """Refresh legs until the clock reaches ``deadline`` (None: until cancelled)."""
        clock = self._clock
        while not clock.finished:
            self._before_batch()
            now = clock.now()
            if deadline is not None and now >= deadline:
                return
            solo = bool(self._solo)
            count = 1 if solo else min(self._batch, len(self._queue))
            if count == 0:
                await self._pause(now, RETRY_SECONDS, deadline)
                continue
            wait = self._bucket.wait_seconds(count, now)
            if wait > 0:
                await self._pause(now, wait, deadline)
                continue
            self._bucket.take(count, now)
            if solo:
                rows = np.array([self._solo.popleft()], dtype=np.int64)
            else:
                rows = self._queue.take(count, now)
            await self._request(rows, solo, deadline)

    async def _pause(self, now: datetime, seconds: float, deadline: datetime | None) -> None:
        until = now + timedelta(seconds=seconds)
        await self._clock.sleep_until(until if deadline is None else min(until, deadline))

    async def _request(self, rows: IntArray, solo: bool, deadline: datetime | None) -> None:
        contracts = [self._marks.contracts[row] for row in rows.tolist()]
        now = self._clock.now()
        self.stats.requests += 1
        self.stats.contracts += len(contracts)
        try:
            quotes = await self._broker.snapshot_quotes(contracts)
        except PacingViolationError as error:
            self.stats.pacing_errors += 1
            self._bucket.drain(now)
            self._retry_first(rows, solo)
            log.warning("pacing error despite the token bucket (another sender?): %s", error)
            await self._pause(now, PACING_PENALTY_SECONDS, deadline)
        except RetryableBrokerError as error:
            self.stats.connection_errors += 1
            self._retry_first(rows, solo)
            log.info("snapshots paused: %s", error)
            await self._pause(now, RETRY_SECONDS, deadline)
        except BrokerError as error:
            self._on_refusal(rows, contracts, error)
        else:
            self.stats.good_quotes += self._marks.apply(quotes, self._clock.now())

    def _retry_first(self, rows: IntArray, solo: bool) -> None:
        if solo:
            self._solo.appendleft(int(rows[0]))
        else:
            self._queue.requeue(rows)

    def _on_refusal(
        self, rows: IntArray, contracts: list[OptionContract], error: BrokerError
    ) -> None:
        """A batch refused as a whole is retried one contract at a time; a contract refused
        on its own waits for its next turn."""
        if len(rows) > 1:
            self._solo.extend(rows.tolist())
            return
        self.stats.refused += 1
        log.warning("snapshot of %s refused: %s", contracts[0].occ_symbol, error)
