"""The order engine: combo limit orders walked from the mid toward the natural price, resting
exits, legging protection, idempotent references, what-if checks and dry run.

The engine does not own time. The trading cycle calls ``poll()`` once per cycle: it applies
the broker's events, moves every walk that is due one step, and returns the reports of the
requests that ended. ``submit`` starts a request; its report comes from a later ``poll``
(or at once, when nothing had to be sent). ``run`` submits and polls, sleeping on the clock,
until the request ends - for tests and one-off tools.

A request's life (``OrderRequest``):

1. *Idempotency.* Its order ref is ``strategy:intent:attempt``. If an order with that ref is
   already working at the broker (found by ``start`` after a restart), the engine takes it
   over; if the broker already lists executions for it, the request is reported from them.
   Nothing is sent twice.
2. *Closing intents* first cancel the strategy's resting exits and wait for them to end, then
   send only the units those exits did not close.
3. *Opening intents* pass a what-if margin check (``check_margin``); a failure blocks them.
4. *Pricing.* Fresh quotes of every leg give the combo's mid and natural price; without a
   valid quote for every leg nothing is sent. The limit starts at the mid (the natural price
   when urgent) and walks toward the natural price each ``step_interval_seconds``
   (``v6.execution.pricing``), never past the request's limit and never from a credit into a
   debit. One interval after the last step the rest is cancelled. A modification changes only
   the price: the units already filled are never sent again.
5. *Dry run* records the order it would send and sends nothing.
6. *The end.* The order's fate comes from its order status only (``OrderTracker``). Its
   executions are checked leg by leg; legs out of ratio are repaired at once
   (``v6.execution.legging``: complete with protective longs or flatten, at the natural price).
   A filled entry with ``exits`` gets a take-profit limit and a protective stop for the filled
   units: one OCA group (reduce-with-block, so a partial take profit shrinks the stop) placed
   after the fill, or bracket children sent with the entry (``execution.exits.style``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import timedelta

from v6.brokers.base import Broker
from v6.brokers.errors import OrderNotModifiableError, UnknownOrderError
from v6.brokers.events import EventStream, ExecutionEvent
from v6.brokers.types import (
    OrderSpec,
    OrderState,
    OrderStatus,
    OrderType,
)
from v6.clock import Clock
from v6.config.execution import ExecutionConfig, ExitStyle
from v6.domain import (
    IntentKind,
    InvalidOrderError,
    Leg,
    OptionContract,
    OrderIntent,
    parse_order_ref,
)
from v6.execution.exits import oca_exits
from v6.execution.legging import (
    LegImbalance,
    as_order_legs,
    held_by_strategy,
    leg_imbalance,
    order_imbalance,
    repair_limit,
)
from v6.execution.margin import margin_verdict
from v6.execution.pricing import ComboMarket, combo_market, walk_price, walk_steps
from v6.execution.records import (
    ExecutionReport,
    MarginCheck,
    OrderRecord,
    OrderRole,
    Outcome,
)
from v6.execution.reporting import ReportBook
from v6.execution.tickets import (
    OPENING_INTENTS,
    OrderRequest,
    Phase,
    Ticket,
    max_close_cost,
    outcome_of,
    role_of,
    strategy_of,
    ticket_key,
    traded_units,
)
from v6.execution.tracker import OrderTracker

RESTING_ROLES = frozenset({OrderRole.TAKE_PROFIT, OrderRole.STOP})


class OrderEngine:
    """See the module docstring. One engine per broker connection."""

    def __init__(
        self,
        broker: Broker,
        clock: Clock,
        config: ExecutionConfig,
        *,
        dry_run: bool = False,
    ) -> None:
        self._broker = broker
        self._clock = clock
        self._config = config
        self._dry_run = dry_run
        self._tick = config.walk.price_tick
        self._interval = timedelta(seconds=config.walk.step_interval_seconds)
        self._steps = walk_steps(config.walk)
        self._tracker = OrderTracker()
        self._stream: EventStream | None = None
        self._tickets: dict[str, Ticket] = {}
        self._book = ReportBook()
        self._attempts: dict[tuple[str, IntentKind], int] = {}

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen to the broker's events and adopt V6's orders already at the broker (after a
        restart): working ones become tickets, executions are remembered by order ref."""
        if self._stream is None:
            self._stream = self._broker.events()
        for state in await self._broker.open_orders():
            self._adopt(state)
        for execution in await self._broker.executions():
            self._tracker.add_execution(execution)
            self._note_ref(execution.order_ref)

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def next_attempt(self, strategy_id: str, intent: IntentKind) -> int:
        """One more than the highest attempt of (strategy, intent) this engine has seen."""
        return self._attempts.get((strategy_id, intent), 0) + 1

    def take_records(self) -> tuple[OrderRecord, ...]:
        """Order records that changed since the last call (what the store should write)."""
        return self._book.take_records()

    def working(self) -> tuple[str, ...]:
        """Keys of the tickets that have not ended."""
        return tuple(key for key, t in self._tickets.items() if t.phase is not Phase.DONE)

    # -- requests ---------------------------------------------------------------------------

    async def check_margin(self, intent: OrderIntent, attempt: int = 1) -> MarginCheck:
        """The what-if of ``intent`` at its limit price (its worst fill), judged by
        ``execution.margin`` (``v6.execution.margin``)."""
        what_if = await self._broker.what_if(OrderSpec.from_intent(intent, attempt))
        return margin_verdict(what_if, self._config.margin)

    async def submit(self, request: OrderRequest) -> str:
        """Start ``request``; returns its ticket key (its order ref). See the module doc."""
        key = ticket_key(request.ref, OrderRole.WALKED)
        self._note_ref(request.ref)
        existing = self._tickets.get(key)
        if existing is not None:
            self._take_over(existing, request)
            return key
        ticket = self._new_ticket(key, request, OrderRole.WALKED)
        traded = [e for e in await self._broker.executions() if e.order_ref == request.ref]
        if traded:
            self._finish_from_executions(ticket, traded)
            return key
        resting = self._resting_orders(request.intent.strategy_id)
        if request.intent.intent not in OPENING_INTENTS and resting:
            await self._wait_then_send(ticket, resting)
            return key
        await self._send(ticket)
        return key

    async def cancel(self, key: str) -> None:
        """Cancel a ticket's order (its report: CANCELLED, or what filled before)."""
        ticket = self._tickets[key]
        if ticket.phase is Phase.WAITING:
            self._done(ticket, Outcome.CANCELLED, "cancelled before it was sent")
            return
        if ticket.phase is Phase.WORKING and ticket.order_id is not None:
            ticket.cancel_requested = True
            await self._request_cancel(ticket)

    async def replace_remaining(self, key: str, *, urgent: bool = False) -> str:
        """Cancel a walked ticket's order and, once it has ended, send the units it did not
        fill as the next attempt (walked afresh). Returns the new ticket's key."""
        old = self._tickets[key]
        if old.request is None or old.order_id is None or old.phase is not Phase.WORKING:
            raise ValueError(f"replace_remaining({key!r}): expected a working walked order")
        state = self._tracker.state(old.order_id)
        filled = state.filled if state is not None else 0
        remaining = old.request.intent.quantity - filled
        attempt = self.next_attempt(old.strategy_id, old.intent)
        intent = dataclasses.replace(old.request.intent, quantity=max(remaining, 1))
        request = dataclasses.replace(old.request, intent=intent, attempt=attempt, urgent=urgent)
        new_key = ticket_key(request.ref, OrderRole.WALKED)
        self._note_ref(request.ref)
        ticket = self._new_ticket(new_key, request, OrderRole.WALKED)
        old.notes.append(f"remainder replaced by {new_key}")
        await self._request_cancel(old)
        ticket.phase = Phase.WAITING
        ticket.wait_for = {old.order_id: filled}
        return new_key

    async def repair(
        self, strategy_id: str, legs: Sequence[Leg], held: dict[OptionContract, int]
    ) -> str | None:
        """Repair ``strategy_id``'s legs (one unit's ratios) given the contracts ``held``;
        returns the repair ticket's key, or None when the legs are balanced."""
        imbalance = leg_imbalance(legs, held)
        if imbalance is None:
            return None
        return await self._submit_repair(strategy_id, imbalance)

    async def held_by_strategy(self, strategy_id: str) -> dict[OptionContract, int]:
        """Signed contracts traded today under ``strategy_id``'s order refs (the broker's
        executions since the last close), e.g. to find a lone leg after a restart."""
        return held_by_strategy(await self._broker.executions(), strategy_id)

    async def poll(self) -> tuple[ExecutionReport, ...]:
        """One cycle: apply the broker's events, step due walks, return ended requests."""
        if self._stream is not None:
            self._tracker.apply(self._stream.drain())
        for ticket in list(self._tickets.values()):
            if ticket.phase is not Phase.DONE:
                await self._advance(ticket)
        self._collect_records()
        return self._book.take_finished()

    async def run(
        self, request: OrderRequest, poll_seconds: float | None = None
    ) -> ExecutionReport:
        """Submit ``request`` and poll until its report (sleeping ``poll_seconds`` of clock
        time between polls, default: the walk's step interval)."""
        key = await self.submit(request)
        return await self.wait(key, poll_seconds)

    async def wait(self, key: str, poll_seconds: float | None = None) -> ExecutionReport:
        """Poll until the ticket ``key`` ends and return its report."""
        pause = poll_seconds if poll_seconds is not None else self._interval.total_seconds()
        while True:
            await self.poll()
            report = self._book.get(key)
            if report is not None:
                return report
            if self._clock.finished:
                raise RuntimeError(f"the simulated run ended before ticket {key!r} did")
            await self._clock.sleep(pause)

    def report(self, key: str) -> ExecutionReport | None:
        """The report of an ended ticket (None while it works)."""
        return self._book.get(key)

    # -- sending ----------------------------------------------------------------------------

    def _new_ticket(self, key: str, request: OrderRequest, role: OrderRole) -> Ticket:
        intent = request.intent
        spec = OrderSpec.from_intent(intent, request.attempt)
        ticket = Ticket(
            key=key,
            strategy_id=intent.strategy_id,
            intent=intent.intent,
            attempt=request.attempt,
            role=role,
            spec=spec,
            submitted_at=self._clock.now(),
            phase=Phase.WORKING,
            request=request,
        )
        self._tickets[key] = ticket
        return ticket

    async def _send(self, ticket: Ticket) -> None:
        request = ticket.request
        assert request is not None  # only requested tickets are sent
        intent = request.intent
        if intent.intent in OPENING_INTENTS:
            ticket.margin = await self.check_margin(intent, request.attempt)
            if not ticket.margin.passed:
                self._done(ticket, Outcome.MARGIN_BLOCKED, ticket.margin.reason)
                return
        market = await self._market(ticket.spec)
        if market is None:
            self._done(ticket, Outcome.NO_QUOTE, "no valid quote for every leg: nothing sent")
            return
        ticket.start_mid = market.mid
        price = walk_price(market, 0, intent.limit_price, self._config.walk, urgent=request.urgent)
        ticket.spec = ticket.spec.changed(limit_price=price)
        if self._dry_run:
            self._done(ticket, Outcome.DRY_RUN, f"dry run: would send at {price:.2f}")
            return
        ticket.next_step_at = self._clock.now() + self._interval
        if request.exits is not None and self._config.exits.style is ExitStyle.BRACKET:
            await self._send_bracket(ticket, request, price)
            return
        state = await self._broker.place_order(ticket.spec)
        self._placed(ticket, state)

    def _placed(self, ticket: Ticket, state: OrderState) -> None:
        ticket.order_id = state.order_id
        ticket.phase = Phase.WORKING
        self._tracker.update(state)

    async def _send_bracket(self, ticket: Ticket, request: OrderRequest, price: float) -> None:
        assert request.exits is not None
        cost = max_close_cost(ticket.order_legs)
        take_profit, stop = request.exits.closing_prices(price, self._tick, cost)
        parent, profit, loss = await self._broker.place_bracket(ticket.spec, take_profit, stop)
        self._placed(ticket, parent)
        for role, state in ((OrderRole.TAKE_PROFIT, profit), (OrderRole.STOP, loss)):
            child = self._resting_ticket(state, role, ticket.attempt, ticket.intent)
            ticket.exit_keys.append(child.key)

    async def _wait_then_send(self, ticket: Ticket, resting: list[Ticket]) -> None:
        """Cancel the strategy's resting exits; ``ticket`` is sent once they have ended."""
        ticket.phase = Phase.WAITING
        for exit_ticket in resting:
            assert exit_ticket.order_id is not None  # resting tickets are placed orders
            state = self._tracker.state(exit_ticket.order_id)
            ticket.wait_for[exit_ticket.order_id] = state.filled if state is not None else 0
            exit_ticket.cancel_requested = True
            await self._request_cancel(exit_ticket)

    async def _request_cancel(self, ticket: Ticket) -> None:
        assert ticket.order_id is not None
        ticket.phase = Phase.CANCELLING
        try:
            state = await self._broker.cancel_order(ticket.order_id)
        except UnknownOrderError as error:
            ticket.notes.append(f"cancel: {error}")
            return
        self._tracker.update(state)

    async def _market(self, spec: OrderSpec) -> ComboMarket | None:
        contracts = [leg.contract for leg in spec.legs]
        quotes = await self._broker.snapshot_quotes(contracts)
        return combo_market((leg.ratio, q) for leg, q in zip(spec.legs, quotes, strict=True))

    # -- each cycle -------------------------------------------------------------------------

    async def _advance(self, ticket: Ticket) -> None:
        if ticket.phase is Phase.WAITING:
            await self._advance_waiting(ticket)
            return
        if ticket.order_id is None:
            return
        state = await self._current_state(ticket.order_id)
        if state is not None and state.is_done:
            await self._finish(ticket, state)
            return
        if ticket.role is OrderRole.WALKED and ticket.request is not None:
            await self._walk(ticket)

    async def _current_state(self, order_id: int) -> OrderState | None:
        """The tracked state; after an order-ending code without a final status, the broker's
        open orders decide (absent there: ended)."""
        state = self._tracker.state(order_id)
        ending = self._tracker.ending_code(order_id)
        if ending is None or state is None or state.is_done:
            return state
        self._tracker.forget_ending(order_id)
        open_ids = {o.order_id for o in await self._broker.open_orders()}
        if order_id in open_ids:
            return state
        status = OrderStatus.INACTIVE if ending.code == 201 else OrderStatus.CANCELLED
        ended = dataclasses.replace(state, status=status, message=ending.message)
        self._tracker.update(ended)
        return ended

    async def _walk(self, ticket: Ticket) -> None:
        if ticket.phase is not Phase.WORKING or ticket.next_step_at is None:
            return
        now = self._clock.now()
        if now < ticket.next_step_at:
            return
        if ticket.step >= self._steps:
            ticket.notes.append(f"walk gave up after {ticket.step} steps")
            await self._request_cancel(ticket)
            return
        ticket.step += 1
        ticket.next_step_at = now + self._interval
        market = await self._market(ticket.spec)
        request = ticket.request
        assert request is not None
        assert ticket.order_id is not None
        if market is None:
            ticket.notes.append(f"step {ticket.step}: no valid quote, price held")
            return
        price = walk_price(
            market,
            ticket.step,
            request.intent.limit_price,
            self._config.walk,
            urgent=request.urgent,
        )
        if price == ticket.spec.limit_price:
            return
        try:
            state = await self._broker.modify_order(ticket.order_id, limit_price=price)
        except (OrderNotModifiableError, UnknownOrderError):
            return
        ticket.spec = state.spec
        self._tracker.update(state)

    async def _advance_waiting(self, ticket: Ticket) -> None:
        states = [self._tracker.state(order_id) for order_id in ticket.wait_for]
        if not all(state is not None and state.is_done for state in states):
            return
        done_meanwhile = sum(
            state.filled - ticket.wait_for[state.order_id] for state in states if state
        )
        request = ticket.request
        assert request is not None
        remaining = request.intent.quantity - done_meanwhile
        if remaining <= 0:
            self._done(ticket, Outcome.NOTHING_TO_SEND, "the orders waited for filled it all")
            return
        intent = dataclasses.replace(request.intent, quantity=remaining)
        ticket.request = dataclasses.replace(request, intent=intent)
        ticket.spec = OrderSpec.from_intent(intent, request.attempt)
        ticket.phase = Phase.WORKING
        await self._send(ticket)

    # -- the end ----------------------------------------------------------------------------

    async def _finish(self, ticket: Ticket, state: OrderState) -> None:
        executions = self._tracker.executions(state.order_id)
        outcome = outcome_of(state, ticket.cancel_requested)
        legging = None
        if ticket.role is not OrderRole.REPAIR and executions:
            closing = ticket.role in RESTING_ROLES or ticket.intent not in OPENING_INTENTS
            legging = order_imbalance(
                ticket.order_legs, ticket.spec.quantity, executions, closing=closing
            )
        message = state.message
        if legging is not None:
            repair = await self._submit_repair(ticket.strategy_id, legging)
            sent = f"repair {repair}" if repair else "no valid quote to repair it"
            message = f"legs out of ratio: {legging.describe()}; {sent}"
        if ticket.role is OrderRole.WALKED and state.filled > 0:
            await self._arm_exits(ticket, state)
        self._done(ticket, outcome, message, state, executions, legging)

    async def _submit_repair(self, strategy_id: str, imbalance: LegImbalance) -> str | None:
        legs, size = as_order_legs(imbalance.trades)
        market = await self._market_of_legs(legs)
        if market is None:
            return None
        limit = repair_limit(market, self._tick)
        intent = OrderIntent(strategy_id, IntentKind.REDUCE, legs, size, limit)
        attempt = self.next_attempt(strategy_id, IntentKind.REDUCE)
        request = OrderRequest(intent, attempt, urgent=True)
        self._note_ref(request.ref)
        ticket = self._new_ticket(
            ticket_key(request.ref, OrderRole.REPAIR), request, OrderRole.REPAIR
        )
        ticket.notes.append(imbalance.describe())
        await self._send(ticket)
        return ticket.key

    async def _market_of_legs(self, legs: Sequence[Leg]) -> ComboMarket | None:
        quotes = await self._broker.snapshot_quotes([leg.contract for leg in legs])
        return combo_market((leg.quantity, q) for leg, q in zip(legs, quotes, strict=True))

    async def _arm_exits(self, ticket: Ticket, state: OrderState) -> None:
        """Resting exits for the filled units of an opening order: re-price the bracket
        children to the fill, or place the OCA pair."""
        request = ticket.request
        if request is None or request.exits is None:
            return
        cost = max_close_cost(ticket.order_legs)
        take_profit, stop = request.exits.closing_prices(state.avg_fill_price, self._tick, cost)
        if ticket.exit_keys:
            await self._reprice_children(ticket, take_profit, stop)
            return
        if self._config.exits.style is not ExitStyle.OCA or self._resting_orders(
            ticket.strategy_id
        ):
            return
        attempt = self.next_attempt(ticket.strategy_id, IntentKind.CLOSE)
        ref = f"{ticket.strategy_id}:{IntentKind.CLOSE.value}:{attempt}"
        self._note_ref(ref)
        for role, spec in oca_exits(ticket.spec, state.filled, take_profit, stop, ref):
            placed = await self._broker.place_order(spec)
            child = self._resting_ticket(placed, role, attempt, IntentKind.CLOSE)
            ticket.exit_keys.append(child.key)

    async def _reprice_children(self, ticket: Ticket, take_profit: float, stop: float) -> None:
        for key in ticket.exit_keys:
            child = self._tickets[key]
            wanted = take_profit if child.role is OrderRole.TAKE_PROFIT else stop
            if child.order_id is None or child.spec.trigger_price == wanted:
                continue
            is_limit = child.spec.order_type is OrderType.LIMIT
            try:
                state = await self._broker.modify_order(
                    child.order_id,
                    limit_price=wanted if is_limit else None,
                    stop_price=None if is_limit else wanted,
                )
            except (OrderNotModifiableError, UnknownOrderError):
                continue
            child.spec = state.spec
            self._tracker.update(state)

    def _resting_ticket(
        self, state: OrderState, role: OrderRole, attempt: int, intent: IntentKind
    ) -> Ticket:
        ref = state.spec.order_ref
        ticket = Ticket(
            key=ticket_key(ref, role),
            strategy_id=strategy_of(ref) or ref,
            intent=intent,
            attempt=attempt,
            role=role,
            spec=state.spec,
            submitted_at=self._clock.now(),
            phase=Phase.WORKING,
            order_id=state.order_id,
        )
        self._tickets[ticket.key] = ticket
        self._tracker.update(state)
        return ticket

    def _resting_orders(self, strategy_id: str) -> list[Ticket]:
        return [
            t
            for t in self._tickets.values()
            if t.strategy_id == strategy_id
            and t.role in RESTING_ROLES
            and t.phase is not Phase.DONE
        ]

    def _finish_from_executions(self, ticket: Ticket, traded: list[ExecutionEvent]) -> None:
        """A request whose ref already traded (a restart): report it, send nothing."""
        for execution in traded:
            self._tracker.add_execution(execution)
        units, average = traded_units(ticket.spec, traded)
        outcome = Outcome.FILLED if units >= ticket.spec.quantity else Outcome.PARTIALLY_FILLED
        ticket.notes.append(f"already traded at the broker under {ticket.key}: nothing sent")
        self._done(
            ticket,
            outcome,
            ticket.notes[-1],
            executions=tuple(traded),
            filled=(units, average),
        )

    def _done(
        self,
        ticket: Ticket,
        outcome: Outcome,
        message: str,
        state: OrderState | None = None,
        executions: tuple[ExecutionEvent, ...] = (),
        legging: LegImbalance | None = None,
        filled: tuple[int, float | None] | None = None,
    ) -> None:
        """End ``ticket`` with its report; ``filled`` (units, average price) overrides the
        broker state's."""
        ticket.phase = Phase.DONE
        record = self._record(ticket, state)
        if filled is None:
            units = state.filled if state is not None else 0
            filled = (units, state.avg_fill_price if state is not None and units else None)
        exits = (self._record(self._tickets[key]) for key in ticket.exit_keys)
        request = ticket.request
        report = ExecutionReport(
            ticket=ticket.key,
            strategy_id=ticket.strategy_id,
            intent=ticket.intent,
            role=ticket.role,
            order_ref=ticket.spec.order_ref,
            outcome=outcome,
            requested=request.intent.quantity if request else ticket.spec.quantity,
            filled=filled[0],
            avg_fill_price=filled[1],
            start_mid=ticket.start_mid,
            finished_at=self._clock.now(),
            message=message,
            orders=() if record is None else (record,),
            exits=tuple(exit_record for exit_record in exits if exit_record is not None),
            executions=executions,
            commissions=self._tracker.commissions(e.exec_id for e in executions),
            margin=ticket.margin,
            legging=None if legging is None else legging.describe(),
        )
        self._book.finish(report)

    # -- records and refs -------------------------------------------------------------------

    def _record(self, ticket: Ticket, state: OrderState | None = None) -> OrderRecord | None:
        """The ticket's order record; None for a request that never priced an order."""
        if ticket.order_id is not None:
            state = state or self._tracker.state(ticket.order_id)
            messages = self._tracker.messages(ticket.order_id)
        elif self._dry_run and ticket.start_mid is not None:
            messages = ()
        else:
            return None
        return self._book.note(ticket.record(state, self._clock.now(), messages))

    def _collect_records(self) -> None:
        for ticket in self._tickets.values():
            if ticket.order_id is not None:
                self._record(ticket)

    def _note_ref(self, ref: str) -> None:
        try:
            strategy_id, intent, attempt = parse_order_ref(ref)
        except InvalidOrderError:
            return
        key = (strategy_id, intent)
        self._attempts[key] = max(self._attempts.get(key, 0), attempt)

    def _adopt(self, state: OrderState) -> None:
        try:
            _, intent, attempt = parse_order_ref(state.spec.order_ref)
        except InvalidOrderError:
            return
        self._note_ref(state.spec.order_ref)
        role = role_of(state.spec, intent, state.parent_id is not None)
        ticket = self._resting_ticket(state, role, attempt, intent)
        ticket.notes.append("adopted from the broker at start")

    def _take_over(self, ticket: Ticket, request: OrderRequest) -> None:
        """A request for a ref the engine already knows: walk an adopted order from now on;
        a finished one reports again."""
        if ticket.phase is Phase.DONE:
            self._book.repeat(ticket.key)
            return
        if ticket.request is None and ticket.role is OrderRole.WALKED:
            ticket.request = request
            ticket.next_step_at = self._clock.now()
