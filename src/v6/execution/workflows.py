"""The autonomous workflows: entry, exit and the strategy lifecycle driven by order reports.

* **Entry** (`EntryWorkflow`): for each enabled template and underlying - concurrency, then the
  entry signal (`v6.strategies.EntrySignals`), the build from the broker's chain, the what-if
  margin, the risk gate with the built candidate, and the OPEN order with its resting exits.
  The strategy is PENDING from the order on.
* **Exit** (`ExitWorkflow`): each actionable decision (CLOSE, and ROLL/REDUCE, which V6 carries
  out as a close of the whole strategy) passes the gate as a closing intent and goes out as a
  CLOSE order (marketable when the rule says so); the strategy is CLOSING.
* **Lifecycle** (`StrategyBook.apply`): the order engine's reports move strategies on -
  an entry fill opens the strategy at its fill price (for the units filled), an entry without
  a fill cancels it, a closing fill (the walked close or a resting take-profit/stop) closes it
  or shrinks it, an exit without a fill reopens it. Rejections count as breaker failures.

Everything the workflows change is collected for the engine to persist: strategies
(`StrategyBook.take_changed`), order records and fills (`as_stored_order`).
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from v6.brokers.errors import BrokerError, RetryableBrokerError
from v6.brokers.pacing import PacedBroker
from v6.clock import NEW_YORK, Clock
from v6.config import StrategyTemplate, V6Config
from v6.decisions import CycleDecisions
from v6.domain import (
    Action,
    Decision,
    IntentKind,
    Leg,
    OrderIntent,
    Strategy,
    StrategyStatus,
)
from v6.execution.exits import ExitPlan
from v6.execution.order_engine import OrderEngine
from v6.execution.records import ExecutionReport, OrderRecord, OrderRole, Outcome
from v6.execution.tickets import OrderRequest, max_close_cost
from v6.risk import BreakerStatus, FailureKind, RiskGate
from v6.store import OrderRecord as StoredOrder
from v6.store import OrderStatus as StoredStatus
from v6.strategies import BuiltStrategy, EntrySignals, MarketFacts, StrategyBuilder
from v6.strategies.chain import ChainReader

log = logging.getLogger(__name__)

REBUILD_AFTER = timedelta(minutes=30)
"""After a build is rejected (thin credit, wide market, no strike) or refused by the gate, the
same template and underlying are tried again only this much later: the chain does not change
its mind every cycle, and each build costs a round of paced quotes."""
CLOSING_ACTIONS = frozenset({Action.CLOSE, Action.ROLL, Action.REDUCE})
_CLOSING_ROLES = frozenset({OrderRole.TAKE_PROFIT, OrderRole.STOP})


def as_stored_order(record: OrderRecord) -> StoredOrder:
    """The order engine's record as a row of the store's ``orders`` table."""
    return StoredOrder(
        order_id=record.order_id,
        strategy_id=record.strategy_id,
        intent=record.intent,
        attempt=record.attempt,
        legs=record.legs,
        quantity=record.quantity,
        limit_price=record.limit_price,
        status=StoredStatus(record.status.value),
        submitted_at=record.submitted_at,
        updated_at=record.updated_at,
        filled_quantity=record.filled_quantity,
        avg_fill_price=record.avg_fill_price,
        broker_order_id=record.broker_order_id,
        message=record.message,
    )


def strategy_id_for(template: StrategyTemplate, symbol: str, now: datetime) -> str:
    """``<template>.<symbol>.<yyyymmddTHHMM>`` (New York time): the template is readable from
    the id, and one template opens at most one strategy per symbol per minute."""
    stamp = now.astimezone(NEW_YORK).strftime("%Y%m%dT%H%M")
    return f"{template.name}.{symbol}.{stamp}"


def template_of(strategy_id: str) -> str:
    """The template name of a strategy the entry workflow opened ("" for any other)."""
    parts = strategy_id.split(".")
    return parts[0] if len(parts) == 3 else ""


@dataclass(slots=True)
class StrategyBook:
    """The live strategies, the ones that changed since the last persist, realized P&L
    (cash flows of every fill, commissions included) per strategy, and every strategy id
    ever used (``taken``: an id, and so its order refs, is never used twice, even by an
    entry a restart repeats in the same minute)."""

    live: dict[str, Strategy] = field(default_factory=dict)
    changed: dict[str, Strategy] = field(default_factory=dict)
    realized: dict[str, float] = field(default_factory=dict)
    taken: set[str] = field(default_factory=set)
    closed: int = 0

    @classmethod
    def of(cls, strategies: Iterable[Strategy]) -> StrategyBook:
        """The book of ``strategies`` (every status: the terminal ones only take their ids)."""
        known = list(strategies)
        return cls(
            live={s.strategy_id: s for s in known if not s.is_terminal},
            taken={s.strategy_id for s in known},
        )

    def put(self, strategy: Strategy) -> None:
        self.changed[strategy.strategy_id] = strategy
        self.taken.add(strategy.strategy_id)
        if strategy.is_terminal:
            self.live.pop(strategy.strategy_id, None)
            self.closed += strategy.status is StrategyStatus.CLOSED
        else:
            self.live[strategy.strategy_id] = strategy

    def replace_live(self, strategies: Iterable[Strategy]) -> None:
        """Take the live strategies sync returned (after a reconciliation)."""
        self.live = {s.strategy_id: s for s in strategies}

    def take_changed(self) -> list[Strategy]:
        changed, self.changed = list(self.changed.values()), {}
        return changed

    def open_counts(self) -> Counter[tuple[str, str]]:
        """Live strategies per (template, symbol) of the single-underlying ones the entry
        workflow opened."""
        counts: Counter[tuple[str, str]] = Counter()
        for strategy in self.live.values():
            underlyings = strategy.underlyings
            if len(underlyings) == 1:
                counts[template_of(strategy.strategy_id), underlyings[0]] += 1
        return counts

    def apply(self, report: ExecutionReport, gate: RiskGate, now: datetime) -> None:
        """Move the report's strategy on (see the module docstring)."""
        for fill in report.fills():
            self.realized[report.strategy_id] = (
                self.realized.get(report.strategy_id, 0.0) + fill.cash_flow
            )
        if report.outcome is Outcome.REJECTED:
            gate.record_failure(FailureKind.ORDER_REJECT, now, f"{report.order_ref}: rejected")
        strategy = self.live.get(report.strategy_id)
        if strategy is None or report.role is OrderRole.REPAIR:
            return
        if report.role in _CLOSING_ROLES:
            self._closed_by(strategy, report.filled, now)
        elif report.intent is IntentKind.OPEN:
            self._entered(strategy, report, gate, now)
        else:
            self._exited(strategy, report, now)

    def _entered(
        self, strategy: Strategy, report: ExecutionReport, gate: RiskGate, now: datetime
    ) -> None:
        if strategy.status is not StrategyStatus.PENDING:
            return
        if report.filled > 0 and report.avg_fill_price is not None:
            self._open(strategy, report.filled, report.avg_fill_price, now)
            gate.record_success(now)
            return
        if report.outcome is not Outcome.REJECTED:
            gate.release_probe()
        self.put(strategy.transition_to(StrategyStatus.CANCELLED, now))

    def open_filled(self, strategy_id: str, units: int, net_price: float, now: datetime) -> None:
        """Open a PENDING strategy for ``units`` filled at ``net_price`` per unit (combo
        convention): an entry whose report never came (recovered from the broker's
        executions after a restart), as its report would have."""
        strategy = self.live.get(strategy_id)
        if strategy is not None and strategy.status is StrategyStatus.PENDING and units > 0:
            self._open(strategy, units, net_price, now)

    def _open(self, strategy: Strategy, units: int, net_price: float, now: datetime) -> None:
        opened = dataclasses.replace(strategy, quantity=units, entry_premium=-net_price)
        self.put(opened.transition_to(StrategyStatus.OPEN, now))

    def _exited(self, strategy: Strategy, report: ExecutionReport, now: datetime) -> None:
        if report.outcome is Outcome.NOTHING_TO_SEND:
            self._closed_by(strategy, strategy.quantity, now)
            return
        self._closed_by(strategy, report.filled, now)
        reopened = self.live.get(strategy.strategy_id)
        if reopened is not None and reopened.status is StrategyStatus.CLOSING:
            self.put(reopened.transition_to(StrategyStatus.OPEN, now))

    def close_units(self, strategy_id: str, units: int, now: datetime) -> None:
        """Apply ``units`` closed by orders whose reports never came (recovered from the
        broker's executions after a restart), as their reports would have."""
        strategy = self.live.get(strategy_id)
        if strategy is not None:
            self._closed_by(strategy, units, now)

    def _closed_by(self, strategy: Strategy, units: int, now: datetime) -> None:
        if units <= 0 or strategy.status not in (StrategyStatus.OPEN, StrategyStatus.CLOSING):
            return
        if units >= strategy.quantity:
            self.put(strategy.transition_to(StrategyStatus.CLOSED, now))
        else:
            self.put(dataclasses.replace(strategy, quantity=strategy.quantity - units))


def closing_intent(strategy: Strategy) -> OrderIntent:
    """The order that closes every unit of ``strategy``: its legs reversed, limited at the
    most closing can cost (a credit spread's width; 0 for a debit spread: sell for a credit)."""
    legs = tuple(Leg(leg.contract, -leg.quantity) for leg in strategy.legs)
    cost = max_close_cost(strategy.legs)
    limit = round(cost, 2) if cost != float("inf") else 0.0
    return OrderIntent(strategy.strategy_id, IntentKind.CLOSE, legs, strategy.quantity, limit)


class ExitWorkflow:
    """Decisions that act become CLOSE orders (see the module docstring)."""

    def __init__(self, orders: OrderEngine) -> None:
        self._orders = orders

    async def run(
        self, decided: CycleDecisions, book: StrategyBook, gate: RiskGate, now: datetime
    ) -> list[Decision]:
        """Send the exits of this cycle; returns the decisions acted on."""
        actionable = [d for d in decided.actionable() if d.action in CLOSING_ACTIONS]
        if not actionable:
            return []
        marketable = decided.marketable()
        acted = []
        for decision in actionable:
            strategy = book.live.get(decision.strategy_id)
            if strategy is None or strategy.status is not StrategyStatus.OPEN:
                continue
            if await self._close(strategy, strategy.strategy_id in marketable, gate, now):
                book.put(strategy.transition_to(StrategyStatus.CLOSING, now))
                acted.append(decision)
        return acted

    async def _close(self, strategy: Strategy, urgent: bool, gate: RiskGate, now: datetime) -> bool:
        intent = closing_intent(strategy)
        gate.check(intent, now)
        attempt = self._orders.next_attempt(strategy.strategy_id, IntentKind.CLOSE)
        try:
            await self._orders.submit(OrderRequest(intent, attempt, urgent=urgent))
        except BrokerError as error:
            gate.record_failure(FailureKind.BROKER_ERROR, now, f"close {intent.strategy_id}")
            log.warning("close of %s not sent: %s", strategy.strategy_id, error)
            return False
        return True


@dataclass(frozen=True, slots=True)
class EntryAttempt:
    """One build the entry workflow tried: what happened (``entered``, or why not)."""

    template: str
    symbol: str
    strategy_id: str
    entered: bool
    detail: str


class EntryWorkflow:
    """Conditions -> signal -> build -> margin -> risk gate -> OPEN order (module docstring)."""

    def __init__(
        self,
        broker: PacedBroker,
        clock: Clock,
        config: V6Config,
        orders: OrderEngine,
        builder: StrategyBuilder,
        signals: EntrySignals,
        *,
        before_send: Callable[[Strategy, datetime], None] | None = None,
    ) -> None:
        """``before_send`` receives each PENDING strategy before its entry order is sent (the
        engine's write-ahead to the store)."""
        self._before_send = before_send
        self._broker = broker
        self._clock = clock
        self._templates = config.strategies.enabled()
        self._orders = orders
        self._builder = builder
        self._signals = signals
        self._exits = ExitPlan.from_decisions(config.decisions)
        self._facts: dict[str, tuple[date, MarketFacts]] = {}
        self._retry_at: dict[tuple[str, str], datetime] = {}
        self._readers: dict[str, ChainReader] = {}
        """This run's chain reader per underlying: one cycle's builds read a quote once."""

    async def run(self, book: StrategyBook, gate: RiskGate, now: datetime) -> list[EntryAttempt]:
        """Try every template on every underlying once; returns the builds attempted."""
        if not _entries_possible(gate):
            return []
        attempts = []
        self._readers = {}
        # Counted once: an attempt changes only the count of its template and symbol (its
        # strategy id names both), which this run asks no more (a symbol listed twice finds
        # the strategy id of this minute taken).
        open_counts = book.open_counts()
        for template in self._templates:
            for symbol in template.underlyings:
                open_count = open_counts[template.name, symbol]
                try:
                    attempt = await self._try(template, symbol, open_count, book, gate, now)
                except RetryableBrokerError as error:
                    log.info("entry %s on %s postponed: %s", template.name, symbol, error)
                    continue
                if attempt is not None:
                    attempts.append(attempt)
        return attempts

    async def _try(
        self,
        template: StrategyTemplate,
        symbol: str,
        open_count: int,
        book: StrategyBook,
        gate: RiskGate,
        now: datetime,
    ) -> EntryAttempt | None:
        """One template on one symbol with ``open_count`` of its strategies live there; None
        when it is not tried (nothing changed in the book then)."""
        key = (template.name, symbol)
        if open_count >= template.max_concurrent_per_symbol or now < self._retry_at.get(key, now):
            return None
        facts = await self._daily_facts(symbol, now)
        if not self._signals.passes(template, symbol, now, facts, open_count=open_count):
            return None
        strategy_id = strategy_id_for(template, symbol, now)
        if strategy_id in book.taken:
            return None
        reader = self._readers.setdefault(symbol, self._builder.reader())
        built = await self._builder.from_template(strategy_id, template, symbol, reader=reader)
        if not isinstance(built, BuiltStrategy):
            self._retry_at[key] = now + REBUILD_AFTER
            return EntryAttempt(template.name, symbol, strategy_id, False, built.detail)
        entered, detail = await self._enter(built, book, gate, now)
        if not entered:
            self._retry_at[key] = now + REBUILD_AFTER
        return EntryAttempt(template.name, symbol, strategy_id, entered, detail)

    async def _enter(
        self, built: BuiltStrategy, book: StrategyBook, gate: RiskGate, now: datetime
    ) -> tuple[bool, str]:
        intent = built.open_intent()
        margin = await self._orders.check_margin(intent)
        if not margin.passed:
            return False, f"what-if margin: {margin.reason}"
        verdict = gate.check(intent, now, built.entry_candidate(margin.margin))
        if not verdict.accepted:
            return False, verdict.event.reason
        book.put(built.strategy)
        if self._before_send is not None:
            self._before_send(built.strategy, now)
        try:
            await self._orders.submit(OrderRequest(intent, 1, exits=self._exits))
        except BrokerError as error:
            gate.record_failure(FailureKind.BROKER_ERROR, now, f"entry {intent.strategy_id}")
            gate.release_probe()
            book.put(built.strategy.transition_to(StrategyStatus.CANCELLED, now))
            return False, f"entry not sent: {error}"
        return True, f"entry sent at limit {intent.limit_price:.2f} (mid {built.mid_price:.2f})"

    async def _daily_facts(self, symbol: str, now: datetime) -> MarketFacts:
        """The market facts of ``symbol``, read once per New York day: IV rank, closes and
        listed expiries are daily; the spot only feeds the trend filter against a
        many-session average."""
        today = now.astimezone(NEW_YORK).date()
        cached = self._facts.get(symbol)
        if cached is None or cached[0] != today:
            cached = (today, await self._signals.facts(self._broker, symbol, now))
            self._facts[symbol] = cached
        return cached[1]


def _entries_possible(gate: RiskGate) -> bool:
    state = gate.breaker_state
    if state.halted or state.status is BreakerStatus.OPEN:
        return False
    return not (state.status is BreakerStatus.HALF_OPEN and state.probe_in_flight)
