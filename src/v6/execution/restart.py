"""What the engine does at start after a crash, before its first cycle: record what the
broker's executions say the store missed (``v6.execution.recovery``), settle the strategies a
crash left in flight, and rest the exits an OPEN strategy lacks.

A strategy is *attended* when a walk of its own still works at the broker: the engine cancels
that walk at start and its report settles the strategy at the first cycle.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime

from v6.brokers.base import Broker
from v6.brokers.errors import BrokerError
from v6.domain import StrategyStatus
from v6.execution.exits import ExitPlan
from v6.execution.order_engine import OrderEngine
from v6.execution.recovery import Recovery
from v6.execution.workflows import StrategyBook
from v6.store import Store

log = logging.getLogger(__name__)


async def recover(
    broker: Broker, store: Store, orders: OrderEngine, book: StrategyBook, now: datetime
) -> Recovery:
    """Record the executions and ended orders whose reports died with the process, and
    the order refs V6 used for the live strategies (no new attempt reuses one)."""
    working = [order.order_id for order in await broker.open_orders()]
    recovery = Recovery.of(await broker.executions(), working, store.orders.get)
    store.executions.record(recovery.fills)
    store.orders.save(recovery.order_rows(now))
    completed = await broker.completed_orders()
    store.orders.save(recovery.unheard_ends(store.orders.working(), completed, now))
    for strategy_id in book.live:
        orders.note_refs(order.order_ref for order in store.orders.for_strategy(strategy_id))
    return recovery


async def settle_unattended(
    book: StrategyBook,
    orders: OrderEngine,
    recovery: Recovery,
    attended: Collection[str | None],
    now: datetime,
) -> None:
    """Settle the strategies a crash left with no walk of theirs working at the broker (the
    order ended, or was never sent, before the store heard): units their closing orders
    filled close them (or shrink them); a PENDING entry with executions opens at their units
    and net price (a lone leg: it opens, and reconciliation sets the quantities the broker
    holds), one without is cancelled; a CLOSING one reopens (reconciliation closes what the
    broker no longer holds)."""
    for strategy_id in list(book.live):
        if strategy_id not in attended:
            book.close_units(strategy_id, recovery.closed_units(strategy_id), now)
    for strategy in list(book.live.values()):
        if strategy.strategy_id in attended:
            continue
        if strategy.status is StrategyStatus.CLOSING:
            book.put(strategy.transition_to(StrategyStatus.OPEN, now))
        elif strategy.status is StrategyStatus.PENDING:
            units, price = recovery.entry_fill(strategy)
            if units and price is not None:
                book.open_filled(strategy.strategy_id, units, price, now)
                continue
            held = await orders.held_by_strategy(strategy.strategy_id)
            status = StrategyStatus.OPEN if any(held.values()) else StrategyStatus.CANCELLED
            book.put(strategy.transition_to(status, now))


async def rearm_exits(
    book: StrategyBook, orders: OrderEngine, plan: ExitPlan, attended: Collection[str | None]
) -> None:
    """Rest the take-profit and stop of each OPEN strategy that has none at the broker
    (killed between its entry's fill and its exits going out; ``OrderEngine.rearm_exits``).
    One that cannot be rested (a broker error, levels the plan cannot price such as a stop
    for a debit entry beyond its premium) is logged and left to the decision rules."""
    for strategy in list(book.live.values()):
        if strategy.strategy_id in attended:
            continue
        try:
            await orders.rearm_exits(strategy, plan)
        except (BrokerError, ValueError) as error:
            log.warning("exits of %s not rested again: %s", strategy.strategy_id, error)
