"""PositionSync: what the engine calls each cycle to know its positions and their marks.

Each engine cycle::

    result = await sync.cycle(strategies, in_flight=exiting_now)
    ... decisions on result.book, strategies = result.strategies ...
    await sync.run_until(next_cycle_time)      # or sync.start() once, with a live clock

`cycle` (1) applies the broker events that arrived (streamed quotes, connection and farm
messages), (2) reconciles with the broker at start-up, every ``reconcile_every``, after a
reconnect or on request, (3) builds the book frame of the OPEN and CLOSING strategies with
their latest marks, (4) lets the registry decide the active strategies, (5) moves the
streaming lines to them, (6) hands every other leg to the queue with its priority and
(7) records the marks that changed to ``position_snapshots`` (through the store's batched
writer; the engine flushes). It returns the book, the strategies after reconciliation (the
engine continues with these), the registry's verdict, the reconciliation and a status.

Between cycles the queue worker refreshes the legs without lines (`run_until`, or the
background task of `start`). Requests to the broker - snapshots and line changes - share one
token bucket within the broker's pacing limit (`bucket`: the engine's one message budget of
the connection, `v6.brokers.pacing`, which every other sender draws from too).

Strategies whose legs are in flight - PENDING (being entered) and CLOSING (being exited), plus
any the engine names - are always active. Adopted broker positions are unmanaged: in the book
with ``managed`` false, never active by proximity.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Final

import numpy as np
import polars as pl

from v6.brokers.base import Broker
from v6.brokers.errors import RetryableBrokerError
from v6.brokers.events import QuoteEvent
from v6.brokers.pacing import TokenBucket
from v6.clock import NEW_YORK, Clock
from v6.config import V6Config
from v6.config.broker import BrokerConfig
from v6.config.decisions import DecisionsConfig
from v6.config.sync import SyncConfig
from v6.domain import (
    Alert,
    Contract,
    OptionContract,
    Position,
    StockContract,
    Strategy,
    StrategyStatus,
)
from v6.store import Store
from v6.sync.frame import BookFrames
from v6.sync.marks import NEVER, FloatArray, IntArray, MarkBook, micros
from v6.sync.queue import PositionQueue, weights_for
from v6.sync.reconcile import (
    AGREED,
    BrokerBook,
    Reconciliation,
    agrees,
    held_options,
    new_york_date,
    reconcile,
)
from v6.sync.registry import Activity, StrategyRegistry
from v6.sync.snapshots import snapshot_table
from v6.sync.streamer import Streamer, plan_lines
from v6.sync.worker import QueueWorker, WorkerStats

log = logging.getLogger(__name__)

AlertSink = Callable[[Iterable[Alert]], object]
"""Where reconciliation alerts go: the engine's AlertManager.raise_alerts, or the table."""

_IN_FLIGHT: Final = frozenset({StrategyStatus.PENDING, StrategyStatus.CLOSING})
_HELD: Final = frozenset({StrategyStatus.OPEN, StrategyStatus.CLOSING})


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """How sync is doing. ``oldest_mark_seconds`` is the age of the oldest mark among the
    queue's legs (None without legs, infinite while one has never been marked);
    ``queue_depth`` counts the legs overdue (see `PositionQueue.depth`) and
    ``rotation_seconds`` is how long a far leg waits between two snapshots."""

    at: datetime
    lines: int
    line_budget: int
    lines_live: bool
    queue_legs: int
    queue_depth: int
    rotation_seconds: float
    oldest_mark_seconds: float | None
    unmarked_legs: int
    bad_quotes: int
    resubscriptions: int
    worker: WorkerStats


@dataclass(frozen=True, slots=True)
class SyncCycle:
    """One cycle's result; ``strategies`` are the live strategies after reconciliation."""

    book: pl.DataFrame
    strategies: tuple[Strategy, ...]
    activity: Activity
    reconciliation: Reconciliation | None
    status: SyncStatus


@dataclass(frozen=True, slots=True)
class _Legs:
    """The live strategies' legs: ``index`` gives each strategy's position (in the order of
    the live strategies), ``strategy`` each leg's strategy position and ``leg_rows`` the mark
    row of its contract; ``rows`` holds every contract's mark row once, ``contracts`` each
    strategy's contracts and ``holders`` the strategies holding each row's contract (OPEN
    and CLOSING ones: those whose marks are recorded), whose rows are ``held_rows``."""

    index: dict[str, int]
    strategy: IntArray
    leg_rows: IntArray
    rows: IntArray
    contracts: dict[str, list[OptionContract]]
    holders: dict[int, tuple[str, ...]]
    held_rows: IntArray

    @classmethod
    def of(cls, strategies: Sequence[Strategy], marks: MarkBook) -> _Legs:
        positions: list[int] = []
        rows: list[int] = []
        holders: dict[int, list[str]] = {}
        for position, strategy in enumerate(strategies):
            sid, is_held = strategy.strategy_id, strategy.status in _HELD
            for leg in strategy.legs:
                row = marks.row(leg.contract)
                positions.append(position)
                rows.append(row)
                if is_held:
                    holders.setdefault(row, []).append(sid)
        leg_rows = np.array(rows, dtype=np.int64)
        return cls(
            index={s.strategy_id: position for position, s in enumerate(strategies)},
            strategy=np.array(positions, dtype=np.int64),
            leg_rows=leg_rows,
            rows=np.unique(leg_rows),
            contracts={s.strategy_id: [leg.contract for leg in s.legs] for s in strategies},
            holders={row: tuple(ids) for row, ids in holders.items()},
            held_rows=np.fromiter(holders, dtype=np.int64, count=len(holders)),
        )

    def distances(self, activity: Activity) -> FloatArray:
        """Each leg's strategy distance (NaN: unknown; in flight counts as beyond a
        trigger, -inf)."""
        by_strategy = np.full(len(self.index), np.nan)
        by_strategy[[self.index[sid] for sid in activity.strategy_ids]] = activity.distances
        by_strategy[[self.index[sid] for sid in activity.in_flight if sid in self.index]] = -np.inf
        return by_strategy[self.strategy]


class _SavedPositions:
    """The account's positions as the ``positions`` table holds them: ``every`` one by
    contract, flat ones too (a position reported flat again is unchanged), and the ``open``
    ones - all a reconciliation goes through each time (flat positions pile up all year)."""

    def __init__(self, positions: Iterable[Position]) -> None:
        self.every: dict[Contract, Position] = {}
        self.open: dict[Contract, Position] = {}
        self.update(positions)

    def update(self, positions: Iterable[Position]) -> None:
        for position in positions:
            self.every[position.contract] = position
            if position.quantity:
                self.open[position.contract] = position
            else:
                self.open.pop(position.contract, None)


class PositionSync:
    """Registry, streamer, queue and worker, reconciliation and persistence, wired."""

    def __init__(
        self,
        broker: Broker,
        clock: Clock,
        store: Store,
        *,
        sync: SyncConfig,
        decisions: DecisionsConfig,
        limits: BrokerConfig,
        reconcile_every: timedelta,
        raise_alerts: AlertSink | None = None,
        bucket: TokenBucket | None = None,
    ) -> None:
        """``raise_alerts`` receives reconciliation alerts (the engine passes its
        AlertManager's, which de-duplicates and notifies); by default they are saved as they are.
        ``bucket`` is the connection's message budget shared with every other sender (the
        engine passes its own); by default sync gets one of its own."""
        self._broker = broker
        self._clock = clock
        self._store = store
        self._raise_alerts: AlertSink = raise_alerts or store.alerts.save
        self._config = sync
        if bucket is None:
            bucket = TokenBucket.within(
                sync.snapshot_rate_per_second,
                sync.snapshot_burst,
                limits.pacing_messages_per_second,
                clock.now(),
            )
        self.bucket = bucket
        self._marks = MarkBook()
        self._queue = PositionQueue(sync.snapshot_rate_per_second)
        self._registry = StrategyRegistry(sync, decisions)
        budget = min(sync.streaming_lines, limits.market_data_lines)
        self._streamer = Streamer(broker, clock, self.bucket, budget)
        self._worker = QueueWorker(
            broker, clock, self._queue, self._marks, self.bucket, sync.snapshot_burst, self._drain
        )
        self._frames = BookFrames(self._marks)
        self._events = broker.events()
        self._reconcile_every = reconcile_every
        self._last_reconciled: datetime | None = None
        self._reconcile_requested = True
        self._recorded: set[str] | None = None
        self._account: str | None = None
        self._positions: _SavedPositions | None = None
        self._live: list[Strategy] = []
        self._held: tuple[Sequence[Strategy], dict[OptionContract, int]] = ((), {})
        self._legs = _Legs.of([], self._marks)
        self._dividends: pl.DataFrame | None = None
        self._stale_frames = True
        self._persisted = np.empty(0, dtype=np.int64)
        self._book = self._frames.book()

    @classmethod
    def from_config(
        cls,
        broker: Broker,
        clock: Clock,
        store: Store,
        config: V6Config,
        raise_alerts: AlertSink | None = None,
        bucket: TokenBucket | None = None,
    ) -> PositionSync:
        return cls(
            broker,
            clock,
            store,
            sync=config.sync,
            decisions=config.decisions,
            limits=config.broker,
            reconcile_every=timedelta(minutes=config.engine.reconcile_interval_minutes),
            raise_alerts=raise_alerts,
            bucket=bucket,
        )

    # -- what the engine calls --------------------------------------------------------------

    async def cycle(
        self, strategies: Iterable[Strategy], *, in_flight: Collection[str] = ()
    ) -> SyncCycle:
        """One sync cycle (see the module docstring)."""
        self._drain()
        live = [s for s in strategies if not s.is_terminal]
        reconciliation = None
        if self._reconcile_due(self._clock.now()):
            reconciliation = await self._reconcile(live)
            if reconciliation is not None:
                live = reconciliation.live(live)
        self._use(live)
        now = self._clock.now()
        book = self._frames.book()
        flying = {s.strategy_id for s in live if s.status in _IN_FLIGHT} | set(in_flight)
        inputs = self._frames.trigger_inputs(new_york_date(now))
        activity = self._registry.update_from(inputs, now, flying)
        await self._streamer.apply(self._wanted(activity))
        self._feed_queue(activity)
        self._persist()
        self._book = book
        return SyncCycle(book, tuple(live), activity, reconciliation, self.status())

    async def run_until(self, deadline: datetime) -> None:
        """Refresh marks with paced snapshots until the clock reaches ``deadline``."""
        await self._worker.run_until(deadline)

    def start(self) -> None:
        """Run the queue worker as a background task (clocks that move by themselves)."""
        self._worker.start()

    async def stop(self) -> None:
        await self._worker.stop()

    def book(self) -> pl.DataFrame:
        """The book frame of the last cycle."""
        return self._book

    def quotes(self) -> pl.DataFrame:
        """The latest mark of every contract that has one (``v6.book.QUOTES_SCHEMA``)."""
        return self._marks.quotes()

    @property
    def queue_legs(self) -> int:
        """The legs the queue worker refreshes: `SyncStatus.queue_legs` alone, for a caller
        that needs no more of the status."""
        return len(self._queue)

    @property
    def lines(self) -> Mapping[OptionContract, int]:
        """The contracts streaming now, with their request ids."""
        return self._streamer.lines

    def force_full_sync(self) -> None:
        """Command: snapshot every queued leg again, closest to a trigger first."""
        self._queue.force_full_sync()

    def clear_queue(self) -> None:
        """Command: drop the queue's backlog (see `PositionQueue.clear`)."""
        self._queue.clear(self._clock.now())

    def request_reconciliation(self) -> None:
        """Reconcile at the next cycle."""
        self._reconcile_requested = True

    def set_dividends(self, dividends: pl.DataFrame) -> None:
        """The next ex-dividend date and amount per underlying (``v6.book.DIVIDENDS_SCHEMA``)."""
        self._dividends = dividends
        self._stale_frames = True

    def close(self) -> None:
        """Stop listening to the broker's events."""
        self._events.close()

    def status(self) -> SyncStatus:
        """Lines, queue depth, mark ages and counters now (see `SyncStatus`)."""
        now = self._clock.now()
        members = self._queue.members
        refreshed = self._marks.refreshed_micros(members)
        unmarked = int(np.count_nonzero(refreshed == NEVER))
        oldest: float | None = None
        if len(members):
            oldest = np.inf if unmarked else (micros(now) - int(refreshed.min())) / 1e6
        return SyncStatus(
            at=now,
            lines=len(self._streamer.lines),
            line_budget=self._streamer.budget,
            lines_live=self._streamer.live,
            queue_legs=len(members),
            queue_depth=self._queue.depth(now),
            rotation_seconds=self._queue.rotation_seconds,
            oldest_mark_seconds=oldest,
            unmarked_legs=unmarked,
            bad_quotes=self._marks.bad_quotes,
            resubscriptions=self._streamer.resubscriptions,
            worker=self._worker.stats,
        )

    # -- inside a cycle ----------------------------------------------------------------------

    def _drain(self) -> None:
        """Apply the broker events that arrived: streamed quotes, connectivity news."""
        quotes = []
        for event in self._events.drain():
            if isinstance(event, QuoteEvent):
                quote = self._streamer.quote_of(event)
                if quote is not None:
                    quotes.append(quote)
            elif self._streamer.note(event):
                self._reconcile_requested = True
        if quotes:
            self._marks.apply(quotes, self._clock.now())

    def _use(self, live: list[Strategy]) -> None:
        """Take the live strategies; rebuild what depends on them when they changed."""
        if live == self._live and not self._stale_frames:
            return
        old = self._legs.holders
        self._live = live
        self._legs = _Legs.of(live, self._marks)
        self._frames.update(live, self._dividends)
        self._stale_frames = False
        if len(self._persisted) < len(self._marks):
            grown = np.full(len(self._marks), NEVER, dtype=np.int64)
            grown[: len(self._persisted)] = self._persisted
            self._persisted = grown
        for row, ids in self._legs.holders.items():
            if old.get(row) != ids:
                self._persisted[row] = NEVER

    def _wanted(self, activity: Activity) -> list[OptionContract]:
        contracts, refused = self._legs.contracts, self._streamer.refused
        active = [sid for sid in activity.active if sid in contracts]
        groups = [[c for c in contracts[sid] if c not in refused] for sid in active]
        in_flight = sum(1 for sid in active if sid in activity.in_flight)
        return plan_lines(groups, in_flight, self._streamer.lines, self._streamer.budget)

    def _feed_queue(self, activity: Activity) -> None:
        """Every leg without a line goes to the queue with its distance (the closest of the
        strategies holding it; in flight counts as beyond a trigger) and its weight."""
        distances = np.full(len(self._marks), np.nan)
        np.fmin.at(distances, self._legs.leg_rows, self._legs.distances(activity))
        streamed_rows = self._marks.rows(self._streamer.lines)
        streamed = np.zeros(len(self._marks), dtype=bool)
        streamed[streamed_rows] = True
        members = self._legs.rows[~streamed[self._legs.rows]]
        fraction = self._config.priority_distance_fraction
        self._queue.update(members, weights_for(distances[members], fraction), distances[members])

    def _persist(self) -> None:
        """Record every held leg whose mark changed since it was last recorded."""
        rows = self._legs.held_rows
        marked = self._marks.mark_micros(rows)
        newer = marked > self._persisted[rows]
        if newer.any():
            changed = snapshot_table(self._marks, rows[newer], self._legs.holders)
            self._store.snapshots.record_frame(changed)
        self._persisted[rows[newer]] = marked[newer]

    # -- reconciliation -----------------------------------------------------------------------

    def _reconcile_due(self, now: datetime) -> bool:
        last = self._last_reconciled
        return self._reconcile_requested or last is None or now - last >= self._reconcile_every

    async def _reconcile(self, live: Sequence[Strategy]) -> Reconciliation | None:
        """Reconcile and persist the outcome; None when the broker cannot be reached now. The
        broker's executions and open orders are asked for only when its positions disagree
        with the strategies (see `agrees`: otherwise there is no conflict to explain)."""
        try:
            positions = await self._broker.positions()
            account = await self._account_id(positions)
            saved = self._saved_positions(account)
            known_stock = {
                c.symbol: p.quantity for c, p in saved.open.items() if isinstance(c, StockContract)
            }
            book = None
            if not agrees(self._held_options(live), positions, known_stock):
                executions = await self._broker.executions()
                book = BrokerBook(account, positions, executions, await self._broker.open_orders())
        except RetryableBrokerError as error:
            log.info("reconciliation postponed: %s", error)
            return None
        now = self._clock.now()
        result = AGREED if book is None else reconcile(live, book, known_stock, now)
        self._record(result, account, positions, saved, now)
        self._last_reconciled = now
        self._reconcile_requested = False
        return result

    def _held_options(self, live: Sequence[Strategy]) -> dict[OptionContract, int]:
        """`held_options` of the live strategies, computed again only when they changed."""
        strategies, held = self._held
        if live != strategies:
            held = held_options(live)
            self._held = (live, held)
        return held

    async def _account_id(self, positions: Sequence[Position]) -> str:
        """The account, from its positions (the summary costs the broker a margin run)."""
        if self._account is None:
            found = positions[0].account if positions else None
            self._account = found or (await self._broker.account_values()).account
        return self._account

    def _saved_positions(self, account: str) -> _SavedPositions:
        """The account's positions as the ``positions`` table holds them (flat ones too):
        read once, at the first reconciliation (a restart continues from the table), then
        kept as `_record` saves them - sync is the table's only writer, so the table never
        differs from this copy and is never read again."""
        if self._positions is None:
            stored = self._store.positions.current(account, include_flat=True)
            self._positions = _SavedPositions(stored)
        return self._positions

    def _record(
        self,
        result: Reconciliation,
        account: str,
        positions: Sequence[Position],
        saved: _SavedPositions,
        now: datetime,
    ) -> None:
        """Persist a reconciliation: strategies, new events and their alerts, and the
        positions that changed since they were saved (those the broker stopped reporting
        become flat)."""
        recorded = self._recorded_ids(now)
        fresh = {e.event_id for e in result.events} - recorded
        self._store.strategies.save([*result.changed, *result.adopted], now)
        self._store.reconciliation.record(e for e in result.events if e.event_id in fresh)
        self._raise_alerts([a for a in result.alerts if a.alert_id in fresh])
        reported = {p.contract for p in positions}
        vanished = [Position(account, c, 0, 0.0) for c in saved.open if c not in reported]
        changed = [p for p in (*positions, *vanished) if saved.every.get(p.contract) != p]
        self._store.positions.save(changed, now)
        saved.update(changed)
        recorded |= fresh

    def _recorded_ids(self, now: datetime) -> set[str]:
        """Event ids already recorded today (ids carry the New York date)."""
        if self._recorded is None:
            start = datetime.combine(new_york_date(now), time(), NEW_YORK)
            self._recorded = {e.event_id for e in self._store.reconciliation.since(start)}
        return self._recorded
