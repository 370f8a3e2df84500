"""The trading engine: the one composition root (config -> adapters -> parts) and the cycle.

`build_engine` wires a configuration into a `TradingEngine`: the broker (the embedded
simulated exchange; IB is not built yet), the clock it runs on, the store, position sync, the
decision engine, the risk gate with its restored state, the order engine and the workflows.

Each cycle (`TradingEngine.cycle`)::

    orders      apply the broker's order events, step price walks, collect ended requests
                -> strategies OPEN / CANCELLED / CLOSED (v6.execution.workflows)
    sync        broker events -> marks, reconciliation when due, the book frame
    risk        account values, trailing stops, limit monitor, gate.begin_cycle
    decisions   the rule book on the book (with the risk cycle above)
    exits       actionable decisions -> gate -> CLOSE orders
    entries     templates -> signals -> builds -> what-if -> gate -> OPEN orders
    persist     strategies, orders, fills, equity, decisions, risk events/state, alerts,
                heartbeats; made durable (the store's write-ahead log) at once when a
                strategy or order moved, committed when the store's batched writer is due
    commands    the dashboard's commands (at most once per real second), marked done

and between cycles the sync's paced queue worker refreshes marks until the next cycle time
(`sync.run_until`): that is the one task that moves a simulated clock. On a simulated clock the
cycle interval is at least one market step, as nothing changes between two steps.

Restart (``--resume``): the exchange resumes from its journal, strategies come back from the
store, the order engine adopts V6's working orders, the broker's executions fill in what the
store missed (executions, ended orders, entries that filled, units closed), in-flight walks are
cancelled (their reports settle the strategies: an entry that filled opens, one that did not is
cancelled; an exit that did not fill reopens the strategy), an OPEN strategy without resting
exits gets them again (``v6.execution.restart``), and reconciliation runs at the first cycle.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl

from v6.alerts import AlertManager, decision_alert, notifiers_from_config, order_alert
from v6.brokers.base import Broker
from v6.brokers.errors import BrokerError
from v6.brokers.pacing import PacedBroker, TokenBucket
from v6.brokers.sim import Simulation, open_simulation
from v6.clock import NEW_YORK, Clock
from v6.config import V6Config
from v6.config.broker import BrokerKind
from v6.decisions import CycleContext, CycleDecisions, DecisionEngine
from v6.domain import Decision, Strategy, StrategyStatus
from v6.execution import ExecutionReport, OrderEngine, restart
from v6.execution.exits import ExitPlan
from v6.execution.tickets import strategy_of
from v6.execution.workflows import (
    EntryWorkflow,
    ExitWorkflow,
    StrategyBook,
    as_stored_order,
)
from v6.health.monitor import Component, HealthMonitor, Number, heartbeat
from v6.market.calendar import nyse_calendar
from v6.market.simulated import SimulatedMarket
from v6.risk import RiskEvent, RiskGate, TradingState, TrailingStopManager
from v6.risk.persistence import CycleRecorder, RiskState, restore
from v6.store import AccountSnapshot, Command, CommandStatus, HealthStatus, Store
from v6.strategies import EntrySignals, StrategyBuilder
from v6.sync import PositionSync, SyncStatus

log = logging.getLogger(__name__)

ENGINE_APP_ID = "engine"
COMMAND_POLL_SECONDS = 1.0
"""Real seconds between two reads of the commands table: commands come from people."""
STAGES = ("orders", "sync", "decisions", "exits", "entries", "persist", "commands", "wait")
STEP_PAST_SECONDS = 1e-6
"""Slept before each cycle, so the cycle never starts at the instant a simulated market closes
(its last step): a simulated clock asked to move past a closed market jumps to the next open
(or finishes the run), and a wait for message tokens inside a cycle started at the close
would carry the rest of that cycle into the next session."""
REFRESH_SLACK_SECONDS = 0.25
"""Extra time the sync worker gets before a cycle beyond one snapshot of each queued leg (a
quarter second: a whole one re-snapshotted each leg about four times a cycle)."""
COMPONENTS = ("broker", "sync", "queue", "decisions", "execution", "writer")
WAIT_BEAT_SECONDS = 15.0
"""Real seconds between heartbeats besides the cycles': on the real clock a closed market can
stretch the wait for the next cycle to an hour (a weekend replaying a weeknight), and /readyz
must still see the engine alive."""


class UnsupportedBrokerError(RuntimeError):
    """The configured broker kind has no adapter yet."""


@dataclass(slots=True)
class RunStats:
    """What a run did: cycles, entries, exits, rule triggers and where the (real) time went."""

    cycles: int = 0
    entries_sent: int = 0
    entries_refused: int = 0
    exits_sent: int = 0
    reports: int = 0
    rule_triggers: Counter[str] = field(default_factory=Counter)
    stage_seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    first_cycle_at: datetime | None = None
    last_cycle_at: datetime | None = None


@dataclass(slots=True)
class EngineParts:
    """Everything `build_engine` wires; tests reach the parts through it."""

    config: V6Config
    broker: Broker
    paced: PacedBroker
    """``broker`` drawing on the connection's one message budget (the token bucket)."""
    clock: Clock
    store: Store
    sync: PositionSync
    orders: OrderEngine
    decisions: DecisionEngine
    gate: RiskGate
    risk: RiskState
    trailing: TrailingStopManager
    alerts: AlertManager
    recorder: CycleRecorder
    health: HealthMonitor
    entries: EntryWorkflow
    exits: ExitWorkflow
    simulation: Simulation | None = None


def simulation_config(
    config: V6Config, start: date, days: int, seed: int | None = None
) -> V6Config:
    """``config`` with its simulated exchange replaying ``days`` sessions from ``start``."""
    if days < 1:
        raise ValueError(f"days = {days!r}: expected at least 1 session")
    calendar = nyse_calendar()
    first = start if calendar.is_session(start) else calendar.next_session(start)
    last = first
    for _ in range(days - 1):
        last = calendar.next_session(last)
    sim = config.broker.sim.model_copy(
        update={"start_date": first, "end_date": last, "seed": config.broker.sim.seed}
    )
    if seed is not None:
        sim = sim.model_copy(update={"seed": seed})
    return config.model_copy(update={"broker": config.broker.model_copy(update={"sim": sim})})


def with_data_dir(config: V6Config, data_dir: Path) -> V6Config:
    """``config`` storing its tables under ``data_dir``."""
    storage = config.storage.model_copy(update={"location": str(data_dir)})
    return config.model_copy(update={"storage": storage})


def build_engine(
    config: V6Config,
    *,
    data_dir: Path | None = None,
    dry_run: bool | None = None,
    replay_on: date | None = None,
) -> TradingEngine:
    """Wire ``config`` into an engine (see the module docstring). ``data_dir`` holds the
    tables and the exchange journal (default: the storage location); ``replay_on`` runs the
    simulated exchange on the real clock from that real day (``engine.time_acceleration``
    > 0 runs that clock so many times faster than the wall clock); ``dry_run`` overrides
    ``engine.dry_run``."""
    if config.broker.kind is not BrokerKind.SIM:
        raise UnsupportedBrokerError(
            f"broker.kind = {config.broker.kind.value!r}: the IB adapter is not built yet; "
            "use broker.kind = 'sim'"
        )
    if data_dir is not None:
        config = with_data_dir(config, data_dir)
    root = Path(config.storage.location)
    sim = open_simulation(
        SimulatedMarket(config.broker.sim),
        config.broker,
        data_dir=root,
        replay_on=replay_on,
        pace=config.engine.time_acceleration,
    )
    store = Store.from_config(config.storage, app_id=ENGINE_APP_ID)
    return TradingEngine(wire(config, sim.broker, sim.clock, store, dry_run, sim))


def wire(
    config: V6Config,
    broker: Broker,
    clock: Clock,
    store: Store,
    dry_run: bool | None = None,
    simulation: Simulation | None = None,
) -> EngineParts:
    """The parts on a given broker, clock and store. Every message to the broker draws on
    one token bucket (``v6.brokers.pacing``): the sync takes its tokens itself, the builder,
    the entry signals and the order engine send through a ``PacedBroker``."""
    risk = restore(store)
    bucket = TokenBucket.within(
        config.sync.snapshot_rate_per_second,
        config.sync.snapshot_burst,
        config.broker.pacing_messages_per_second,
        clock.now(),
    )
    paced = PacedBroker(broker, bucket, clock)
    orders = OrderEngine(
        paced,
        clock,
        config.execution,
        dry_run=config.engine.dry_run if dry_run is None else dry_run,
    )
    alerts = AlertManager(store, config.alerts, notifiers_from_config(config.alerts))
    builder = StrategyBuilder(
        paced, clock, config.execution.selection, price_tick=config.execution.walk.price_tick
    )
    signals = EntrySignals(config.execution.signals, config.decisions.event)
    return EngineParts(
        config=config,
        broker=broker,
        paced=paced,
        clock=clock,
        store=store,
        sync=PositionSync.from_config(
            broker, clock, store, config, alerts.raise_alerts, bucket=bucket
        ),
        orders=orders,
        decisions=DecisionEngine(config.decisions),
        gate=RiskGate(config.risk, risk.breaker),
        risk=risk,
        trailing=TrailingStopManager(config.risk.trailing_stop),
        alerts=alerts,
        recorder=CycleRecorder(store, alerts),
        health=HealthMonitor(store),
        entries=EntryWorkflow(
            paced, clock, config, orders, builder, signals, before_send=_write_ahead(store)
        ),
        exits=ExitWorkflow(orders),
        simulation=simulation,
    )


def _write_ahead(store: Store) -> Callable[[Strategy, datetime], None]:
    """Make a strategy durable in the store (its writer's write-ahead log) before its first
    order goes out, so a crash between the broker accepting the order and the next persist
    leaves the strategy known."""

    def save(strategy: Strategy, now: datetime) -> None:
        store.strategies.save([strategy], now)
        store.make_durable()

    return save


class TradingEngine:
    """Runs the cycle of the module docstring on its parts."""

    def __init__(self, parts: EngineParts) -> None:
        self.parts = parts
        self.book = StrategyBook()
        self.stats = RunStats()
        self._interval = self._cycle_interval()
        self._next_command_poll = 0.0
        self._account = ""
        self._buying_power = 0.0
        self._equity: float | None = None
        self._monitor_events: tuple[RiskEvent, ...] = ()

    def _cycle_interval(self) -> timedelta:
        seconds = self.parts.config.engine.cycle_interval_seconds
        if self.parts.simulation is not None:
            seconds = max(seconds, self.parts.config.broker.sim.bar_step_minutes * 60.0)
        return timedelta(seconds=seconds)

    @property
    def cycle_interval(self) -> timedelta:
        """The clock time from one cycle to the next."""
        return self._interval

    @property
    def equity(self) -> float | None:
        """The last net liquidation value the broker reported."""
        return self._equity

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect, adopt V6's working orders, record what the broker's executions say the
        store missed, settle what a crash left in flight and rest the exits an OPEN
        strategy lacks (``v6.execution.restart``)."""
        parts, now = self.parts, self.parts.clock.now()
        await parts.broker.connect()
        await parts.orders.start()
        self.book = StrategyBook.of(parts.store.strategies.with_status(list(StrategyStatus)))
        recovery = await restart.recover(parts.paced, parts.store, parts.orders, self.book, now)
        working = parts.orders.working()
        for key in working:
            if "/" not in key:
                await parts.orders.cancel(key)
        attended = {strategy_of(key) for key in working if "/" not in key}
        await restart.settle_unattended(self.book, parts.orders, recovery, attended, now)
        plan = ExitPlan.from_decisions(parts.config.decisions)
        await restart.rearm_exits(self.book, parts.orders, plan, attended)
        parts.store.strategies.save(self.book.take_changed(), now)
        parts.store.flush()

    async def stop(self) -> None:
        """Persist everything buffered and let go of the broker."""
        parts = self.parts
        await self._settle_reports()
        parts.store.flush()
        await parts.sync.stop()
        parts.sync.close()
        parts.orders.close()
        await parts.broker.disconnect()

    async def run(
        self,
        *,
        until: datetime | None = None,
        on_cycle: Callable[[TradingEngine], None] | None = None,
    ) -> RunStats:
        """Cycle until the simulated market ends (or ``until``), then stop."""
        await self.start()
        clock = self.parts.clock
        beating = asyncio.create_task(self._beat_while_running())
        try:
            while not self._over(until):
                deadline = clock.now() + self._interval
                await self._timed("wait", clock.sleep(STEP_PAST_SECONDS))
                if self._over(until):
                    break
                await self.cycle()
                if on_cycle is not None:
                    on_cycle(self)
                await self._timed("wait", self._refresh_until(deadline))
        finally:
            beating.cancel()
            await self.stop()
        return self.stats

    def _over(self, until: datetime | None) -> bool:
        clock = self.parts.clock
        return clock.finished or (until is not None and clock.now() >= until)

    async def _refresh_until(self, deadline: datetime) -> None:
        """Let the clock run to ``deadline``, the sync worker refreshing the queued legs over
        the last stretch: long enough for one snapshot of each (at the sync's rate) plus a
        little slack, so each cycle sees every mark fresh while the worker does not wake the
        exchange for every snapshot of the whole interval."""
        clock, parts = self.parts.clock, self.parts
        legs = parts.sync.queue_legs
        span = timedelta(
            seconds=legs / parts.config.sync.snapshot_rate_per_second + REFRESH_SLACK_SECONDS
        )
        await clock.sleep_until(max(clock.now(), deadline - span))
        await parts.sync.run_until(deadline)

    async def _beat_while_running(self) -> None:
        """Every component's heartbeat each ``WAIT_BEAT_SECONDS`` of real time, until
        cancelled: one timer for the run, not a task per wait."""
        while True:
            await asyncio.sleep(WAIT_BEAT_SECONDS)
            self._heartbeats(self.parts.clock.now(), (), self.parts.sync.status())

    async def _timed(self, stage: str, awaitable: Awaitable[None]) -> None:
        started = time.perf_counter()
        await awaitable
        self.stats.stage_seconds[stage] += time.perf_counter() - started

    # -- the cycle ---------------------------------------------------------------------------

    async def cycle(self) -> None:
        """One cycle (see the module docstring)."""
        parts, stats, clock = self.parts, self.stats, self.parts.clock
        now = clock.now()
        stats.first_cycle_at = stats.first_cycle_at or now
        stats.last_cycle_at = now
        stats.cycles += 1
        tick = time.perf_counter()
        reports = await self._poll_orders(now)
        tick = self._lap("orders", tick)
        synced = await parts.sync.cycle(self.book.live.values(), in_flight=parts.orders.working())
        self.book.replace_live(synced.strategies)
        if synced.reconciliation is not None:
            for strategy in synced.reconciliation.changed:
                self.book.put(strategy)
        tick = self._lap("sync", tick)
        decided = await self._decide(synced.book, now)
        tick = self._lap("decisions", tick)
        acted = await parts.exits.run(decided, self.book, parts.gate, now) if decided else []
        stats.exits_sent += len(acted)
        tick = self._lap("exits", tick)
        attempts = await parts.entries.run(self.book, parts.gate, now)
        stats.entries_sent += sum(a.entered for a in attempts)
        stats.entries_refused += sum(not a.entered for a in attempts)
        tick = self._lap("entries", tick)
        self._persist(now, reports, decided, acted, synced.status)
        await parts.alerts.notify_pending()
        tick = self._lap("persist", tick)
        await self._commands(now)
        self._lap("commands", tick)

    def _lap(self, stage: str, started: float) -> float:
        now = time.perf_counter()
        self.stats.stage_seconds[stage] += now - started
        return now

    async def _settle_reports(self) -> None:
        """Take the reports of orders that ended after the last cycle (a fill on the run's
        last market step) and persist what they changed."""
        parts, now = self.parts, self.parts.clock.now()
        if not parts.broker.is_connected:
            return
        await self._poll_orders(now)
        parts.store.strategies.save(self.book.take_changed(), now)
        parts.store.orders.save(as_stored_order(r) for r in parts.orders.take_records())

    async def _poll_orders(self, now: datetime) -> tuple[ExecutionReport, ...]:
        parts = self.parts
        try:
            reports = await parts.orders.poll()
        except BrokerError as error:
            log.warning("order poll failed: %s", error)
            return ()
        for report in reports:
            self.book.apply(report, parts.gate, now)
            parts.store.executions.record(report.fills())
        self.stats.reports += len(reports)
        return reports

    async def _decide(self, book: pl.DataFrame, now: datetime) -> CycleDecisions | None:
        """Account values, the risk layer's cycle and the rule book's verdicts."""
        parts = self.parts
        today = now.astimezone(NEW_YORK).date()
        await self._account_values(now, today)
        summary = parts.decisions.summarize(book, today)
        trailing = parts.trailing.update(parts.risk.trailing, summary)
        monitored = parts.risk.monitor.update(
            summary, parts.config.risk.portfolio, self._buying_power, now
        )
        parts.gate.begin_cycle(summary, self._buying_power, now, monitored.exposure)
        state = parts.gate.breaker_state
        context = CycleContext(
            now,
            today,
            halted=state.halted,
            entries_allowed=parts.gate.trading_state is TradingState.ACTIVE,
            trailing=trailing.context,
            limit_targets=monitored.targets,
        )
        parts.risk = RiskState(state, trailing.state, monitored.monitor)
        self._monitor_events = monitored.events
        if summary.height == 0:
            return None
        decided = parts.decisions.decide(summary, context)
        self.stats.rule_triggers.update(decided.trigger_counts())
        return decided

    async def _account_values(self, now: datetime, today: date) -> None:
        parts = self.parts
        try:
            values = await parts.broker.account_values()
        except BrokerError as error:
            log.warning("account values unavailable: %s", error)
            return
        self._account = values.account
        self._buying_power = max(values.buying_power, 1.0)
        self._equity = values.net_liquidation
        parts.gate.observe_equity(values.net_liquidation, today, now)
        parts.store.accounts.record(
            [
                AccountSnapshot(
                    values.account,
                    now,
                    net_liquidation=values.net_liquidation,
                    cash=values.total_cash,
                    buying_power=values.buying_power,
                    maintenance_margin=values.maintenance_margin,
                    realized_pnl=values.realized_pnl,
                )
            ]
        )

    # -- persistence, alerts, heartbeats -----------------------------------------------------

    def _persist(
        self,
        now: datetime,
        reports: tuple[ExecutionReport, ...],
        decided: CycleDecisions | None,
        acted: list[Decision],
        status: SyncStatus,
    ) -> None:
        parts = self.parts
        store = parts.store
        changed = self.book.take_changed()
        store.strategies.save(changed, now)
        orders = [as_stored_order(record) for record in parts.orders.take_records()]
        store.orders.save(orders)
        parts.alerts.raise_alerts(order_alert(order) for order in orders)
        parts.alerts.raise_alerts(decision_alert(decision) for decision in acted)
        events = (*parts.gate.take_events(), *self._monitor_events)
        self._monitor_events = ()
        parts.recorder.record(now, decided, events, parts.risk)
        self._heartbeats(now, reports, status)
        if changed or reports:
            store.make_durable()
        store.flush_if_due()

    def _heartbeats(
        self, now: datetime, reports: tuple[ExecutionReport, ...], status: SyncStatus
    ) -> None:
        """One heartbeat per component through the HealthMonitor: the health table (with the
        numbers the dashboard's Health page reads), the /metrics gauges and /readyz.
        ``status`` is the sync layer's (the cycle's own, or taken now between cycles)."""
        parts = self.parts
        health = parts.health
        rejected = sum(r.outcome.value == "rejected" for r in reports)
        filled = sum(r.outcome.value == "filled" for r in reports)
        connected = parts.broker.is_connected
        health.metrics.set_sync(
            status.queue_depth, status.lines, status.line_budget, status.oldest_mark_seconds
        )
        health.metrics.count_orders(filled=filled, rejected=rejected)
        health.metrics.set_trading(parts.gate.trading_state.value)
        queue_numbers: dict[str, Number] = {"depth": status.queue_depth}
        oldest = status.oldest_mark_seconds
        if oldest is not None and math.isfinite(oldest):
            queue_numbers["oldest_mark_s"] = oldest
        working = len(parts.orders.working())
        health.record(
            [
                heartbeat(Component.BROKER, now, _ok(connected, HealthStatus.DOWN), "connected"),
                heartbeat(
                    Component.SYNC,
                    now,
                    _ok(status.lines_live, HealthStatus.DEGRADED),
                    f"{status.bad_quotes} bad quotes",
                    {"lines": (status.lines, status.line_budget)},
                ),
                heartbeat(
                    Component.QUEUE,
                    now,
                    HealthStatus.OK,
                    f"{status.queue_legs} legs",
                    queue_numbers,
                ),
                heartbeat(
                    Component.DECISIONS,
                    now,
                    HealthStatus.OK,
                    f"{len(self.book.live)} live strategies",
                ),
                heartbeat(
                    Component.EXECUTION,
                    now,
                    _ok(not rejected, HealthStatus.DEGRADED),
                    f"{working} working, {rejected} rejected this cycle, "
                    f"trading {parts.gate.trading_state.value}",
                ),
                heartbeat(Component.WRITER, now, HealthStatus.OK, "batched writer"),
            ]
        )

    # -- commands ----------------------------------------------------------------------------

    async def _commands(self, now: datetime) -> None:
        if time.monotonic() < self._next_command_poll:
            return
        self._next_command_poll = time.monotonic() + COMMAND_POLL_SECONDS
        store = self.parts.store
        for command in store.commands.pending():
            status, result = await self.execute(command, now)
            store.commands.submit([command.with_status(status, now, result)])

    async def execute(self, command: Command, now: datetime) -> tuple[CommandStatus, str]:
        """Carry out one command; returns its new status and what was done."""
        parts = self.parts
        reason = str(command.payload.get("reason", "")) or f"by {command.requested_by}"
        kind = command.kind
        try:
            if kind == "halt":
                parts.gate.halt(reason, now)
                return CommandStatus.DONE, f"trading halted ({reason}): exits only"
            if kind == "resume":
                parts.gate.resume(now)
                return CommandStatus.DONE, "trading resumed"
            if kind == "reset_breaker":
                parts.gate.reset(now)
                return CommandStatus.DONE, "circuit breaker reset"
            if kind == "force_sync":
                parts.sync.force_full_sync()
                parts.sync.request_reconciliation()
                return CommandStatus.DONE, "every leg queued for a snapshot; reconciling"
            if kind == "clear_queue":
                parts.sync.clear_queue()
                return CommandStatus.DONE, "sync queue cleared"
            if kind == "reconnect":
                await parts.broker.disconnect()
                await parts.broker.connect()
                parts.sync.request_reconciliation()
                return CommandStatus.DONE, "reconnected to the broker"
        except BrokerError as error:
            return CommandStatus.FAILED, f"{kind}: {error}"
        known = "halt, resume, reset_breaker, force_sync, clear_queue, reconnect"
        return CommandStatus.REJECTED, f"unknown command {kind!r}: expected one of {known}"


def _ok(healthy: bool, otherwise: HealthStatus) -> HealthStatus:
    return HealthStatus.OK if healthy else otherwise
