"""The order engine: combo limit orders walked from the mid toward the natural price, resting
exits, legging protection, idempotent references, what-if checks and dry run.

The engine does not own time. The trading cycle calls ``poll()`` once per cycle: it applies
the broker's events, moves every walk that is due one step, and returns the reports of the
requests that ended. ``submit`` starts a request; its report comes from a later ``poll``
(also when nothing had to be sent). ``run`` submits and polls, sleeping on the clock, until
the request ends - for tests and one-off tools. Call ``start`` once after connecting.

A request's life (``OrderRequest``):

1. *Idempotency.* Its order ref is ``strategy:intent:attempt``. An order with that ref already
   at the broker (working, or with executions) is taken over or reported, never sent again:
   ``start`` adopts V6's working orders after a restart, and every placement first looks the
   ref up among the broker's open orders (a retry after a lost connection finds the order
   the broker did receive).
2. *Closing intents* first cancel the strategy's resting exits and wait for them to end, then
   send only the units those exits did not close.
3. *Opening intents* pass a what-if margin check (``check_margin``); a failure blocks them.
4. *Pricing.* Fresh quotes of every leg give the combo's mid and natural price; without a
   valid quote for every leg nothing is sent (and a walk step holds its price). The limit
   starts at the mid (the natural price when urgent) and walks toward the natural price each
   ``step_interval_seconds`` (``v6.execution.pricing``), never past the request's limit and
   never from a credit into a debit. One interval after the last step the rest is cancelled.
   A modification changes only the price; ``replace_remaining`` sends only the unfilled units.
5. *Dry run* records the order it would send and sends nothing.
6. *The end.* The order's fate comes from its order status only (``OrderTracker``). Its
   executions are checked leg by leg; legs out of ratio are repaired at once
   (``v6.execution.legging``: complete with protective longs or flatten, at the natural price).
   A filled entry with ``exits`` gets a take-profit limit and a protective stop for the filled
   units (``v6.execution.exits``): one OCA group placed after the fill, or bracket children
   sent with the entry and re-priced to the fill (``execution.exits.style``).

Broker errors: a retryable one (connection, pacing) during ``poll`` leaves the ticket as it
was for the next poll; during ``submit`` it is raised and nothing is kept, so the caller can
submit the same request again.

Pacing: the engine sends through a ``PacedBroker``, so its quotes, what-ifs and orders take
their tokens from the connection's one message budget (``v6.brokers.pacing``), shared with the
sync worker and the strategy builder; a request waits on the clock for its tokens.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Coroutine, Iterable, Sequence
from datetime import timedelta

from v6.brokers.errors import (
    BrokerError,
    OrderNotModifiableError,
    RetryableBrokerError,
    UnknownOrderError,
)
from v6.brokers.events import EventStream, ExecutionEvent
from v6.brokers.pacing import BRACKET_MESSAGES, PacedBroker
from v6.brokers.types import OrderSpec, OrderState, OrderStatus, OrderType
from v6.clock import Clock
from v6.config.execution import ExecutionConfig, ExitStyle
from v6.domain import IntentKind, Leg, OptionContract, OrderIntent, Strategy, StrategyStatus
from v6.execution.desk import RESTING_ROLES, TicketDesk
from v6.execution.exits import ExitPlan, oca_exits
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
from v6.execution.records import ExecutionReport, MarginCheck, OrderRecord, OrderRole, Outcome
from v6.execution.tickets import (
    OPENING_INTENTS,
    OrderRequest,
    Phase,
    Ticket,
    max_close_cost,
    outcome_of,
    ticket_key,
    traded_units,
)

WALKING_ROLES = frozenset({OrderRole.WALKED, OrderRole.REPAIR})
"""Orders re-priced each step (a repair urgently, at the natural price, until it gives up)."""


class OrderEngine:
    """See the module docstring. One engine per broker connection."""

    def __init__(
        self, broker: PacedBroker, clock: Clock, config: ExecutionConfig, *, dry_run: bool = False
    ) -> None:
        if config.exits.style is ExitStyle.BRACKET and broker.batch < BRACKET_MESSAGES:
            raise ValueError(
                f"execution.exits.style = 'bracket' sends {BRACKET_MESSAGES} orders at once: "
                f"expected a message budget of at least {BRACKET_MESSAGES} (sync.snapshot_burst "
                f"= {broker.batch})"
            )
        self._broker = broker
        self._clock = clock
        self._config = config
        self._dry_run = dry_run
        self._tick = config.walk.price_tick
        self._interval = timedelta(seconds=config.walk.step_interval_seconds)
        self._steps = walk_steps(config.walk)
        self._desk = TicketDesk(clock, dry_run=dry_run)
        self._stream: EventStream | None = None

    # -- lifecycle and queries --------------------------------------------------------------

    async def start(self) -> None:
        """Listen to the broker's events and adopt V6's orders already at the broker (after a
        restart): working ones become tickets, executions are remembered by order ref."""
        if self._stream is None:
            self._stream = self._broker.events()
        for state in await self._broker.open_orders():
            self._desk.adopt(state)
        for execution in await self._broker.executions():
            self._desk.tracker.add_execution(execution)
            self._desk.note_ref(execution.order_ref)

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def note_refs(self, refs: Iterable[str]) -> None:
        """Remember order refs used before (e.g. the store's orders after a restart, which
        the broker no longer lists once they ended in an earlier session), so no new attempt
        reuses one."""
        for ref in refs:
            self._desk.note_ref(ref)

    def next_attempt(self, strategy_id: str, intent: IntentKind) -> int:
        """One more than the highest attempt of (strategy, intent) this engine has seen."""
        return self._desk.next_attempt(strategy_id, intent)

    def working(self) -> tuple[str, ...]:
        """Keys of the tickets that have not ended."""
        return self._desk.working()

    def take_records(self) -> tuple[OrderRecord, ...]:
        """Order records that changed since the last call (what the store should write)."""
        return self._desk.book.take_records()

    def report(self, key: str) -> ExecutionReport | None:
        """The report of an ended ticket (None while it works)."""
        return self._desk.book.get(key)

    async def held_by_strategy(self, strategy_id: str) -> dict[OptionContract, int]:
        """Signed contracts traded today under ``strategy_id``'s order refs (the broker's
        executions since the last close), e.g. to find a lone leg after a restart."""
        return held_by_strategy(await self._broker.executions(), strategy_id)

    async def check_margin(self, intent: OrderIntent, attempt: int = 1) -> MarginCheck:
        """The what-if of ``intent`` at its limit price (its worst fill), judged by
        ``execution.margin`` (``v6.execution.margin``)."""
        what_if = await self._broker.what_if(OrderSpec.from_intent(intent, attempt))
        return margin_verdict(what_if, self._config.margin)

    # -- requests ---------------------------------------------------------------------------

    async def submit(self, request: OrderRequest) -> str:
        """Start ``request``; returns its ticket key (its order ref). See the module doc."""
        self._require_started()
        key = ticket_key(request.ref, OrderRole.WALKED)
        existing = self._desk.tickets.get(key)
        if existing is not None:
            self._take_over(existing, request)
            return key
        ticket = self._desk.open_ticket(key, request, OrderRole.WALKED)
        try:
            await self._start_ticket(ticket)
        except BrokerError:
            self._desk.discard(key)
            raise
        return key

    async def _start_ticket(self, ticket: Ticket) -> None:
        ref = ticket.spec.order_ref
        traded = [e for e in await self._broker.executions() if e.order_ref == ref]
        if traded:
            await self._finish_from_executions(ticket, traded)
            return
        resting = self._desk.resting(ticket.strategy_id)
        if ticket.intent not in OPENING_INTENTS and resting:
            await self._wait_for(ticket, resting)
            return
        await self._send(ticket)

    async def cancel(self, key: str) -> None:
        """Cancel a ticket's order (its report: CANCELLED, or what filled before)."""
        ticket = self._desk.tickets[key]
        if ticket.phase is Phase.WAITING:
            self._desk.done(ticket, Outcome.CANCELLED, "cancelled before it was sent")
        elif ticket.phase is Phase.WORKING and ticket.order_id is not None:
            ticket.cancel_requested = True
            await self._request_cancel(ticket)

    async def replace_remaining(self, key: str, *, urgent: bool = False) -> str:
        """Cancel a walked ticket's order and, once it has ended, send the units it did not
        fill as the next attempt (walked afresh); returns the new ticket's key. Its exits
        (if any) then cover the units of both."""
        old = self._desk.tickets[key]
        if old.request is None or old.order_id is None or old.phase is not Phase.WORKING:
            raise ValueError(f"replace_remaining({key!r}): expected a working walked order")
        state = self._desk.tracker.state(old.order_id)
        filled = state.filled if state is not None else 0
        if filled >= old.spec.quantity:
            raise ValueError(f"replace_remaining({key!r}): every unit is filled already")
        await self._request_cancel(old)
        intent = dataclasses.replace(old.request.intent, quantity=old.spec.quantity - filled)
        attempt = self._desk.next_attempt(old.strategy_id, old.intent)
        request = dataclasses.replace(old.request, intent=intent, attempt=attempt, urgent=urgent)
        new_key = ticket_key(request.ref, OrderRole.WALKED)
        ticket = self._desk.open_ticket(new_key, request, OrderRole.WALKED)
        ticket.phase, ticket.replaces, ticket.wait_for = Phase.WAITING, key, {old.order_id: filled}
        old.replaced_by = new_key
        old.notes.append(f"remainder replaced by {new_key}")
        return new_key

    async def repair(
        self, strategy_id: str, legs: Sequence[Leg], held: dict[OptionContract, int]
    ) -> str | None:
        """Repair ``strategy_id``'s legs (one unit's ratios) given the contracts ``held``;
        returns the repair ticket's key, or None when the legs are balanced."""
        imbalance = leg_imbalance(legs, held)
        return None if imbalance is None else await self._submit_repair(strategy_id, imbalance)

    async def poll(self) -> tuple[ExecutionReport, ...]:
        """One cycle: apply the broker's events, step due walks, return ended requests."""
        stream = self._require_started()
        self._desk.tracker.apply(stream.drain())
        for ticket in self._desk.live():
            step = self._step(ticket)
            if step is None:
                continue
            try:
                await step
            except RetryableBrokerError as error:
                ticket.notes.append(f"retrying after: {error}")
        self._desk.collect_records()
        return self._desk.book.take_finished()

    async def run(
        self, request: OrderRequest, poll_seconds: float | None = None
    ) -> ExecutionReport:
        """Submit ``request`` and poll until its report (see ``wait``)."""
        return await self.wait(await self.submit(request), poll_seconds)

    async def wait(self, key: str, poll_seconds: float | None = None) -> ExecutionReport:
        """Poll until the ticket ``key`` ends, sleeping ``poll_seconds`` of clock time between
        polls (default: the walk's step interval), and return its report."""
        pause = poll_seconds if poll_seconds is not None else self._interval.total_seconds()
        while True:
            await self.poll()
            report = self._desk.book.get(key)
            if report is not None:
                return report
            if self._clock.finished:
                raise RuntimeError(f"the simulated run ended before ticket {key!r} did")
            await self._clock.sleep(pause)

    def _require_started(self) -> EventStream:
        if self._stream is None:
            raise RuntimeError("OrderEngine: call start() after connecting, before any request")
        return self._stream

    # -- sending ----------------------------------------------------------------------------

    async def _send(self, ticket: Ticket) -> None:
        """Check, price and place a NEW ticket's order. A repair without a valid quote stays
        NEW (it must go out: it is tried again each poll); anything else ends unsent."""
        request = ticket.request
        assert request is not None  # only requested tickets are sent
        intent = request.intent
        if intent.intent in OPENING_INTENTS:
            ticket.margin = await self.check_margin(intent, request.attempt)
            if not ticket.margin.passed:
                await self._end_unsent(ticket, Outcome.MARGIN_BLOCKED, ticket.margin.reason)
                return
        market = await self._market(ticket.spec)
        if market is None and ticket.role is OrderRole.REPAIR:
            return
        if market is None:
            await self._end_unsent(ticket, Outcome.NO_QUOTE, "no valid quote for every leg")
            return
        if ticket.role is OrderRole.REPAIR:
            intent = dataclasses.replace(intent, limit_price=repair_limit(market, self._tick))
            request = ticket.request = dataclasses.replace(request, intent=intent)
        ticket.start_mid = market.mid
        price = walk_price(market, 0, intent.limit_price, self._config.walk, urgent=request.urgent)
        ticket.spec = ticket.spec.changed(limit_price=price)
        if self._dry_run:
            self._desk.done(ticket, Outcome.DRY_RUN, f"dry run: would send at {price:.2f}")
            return
        ticket.next_step_at = self._clock.now() + self._interval
        if await self._found_at_broker(ticket):
            return
        if request.exits is not None and self._config.exits.style is ExitStyle.BRACKET:
            await self._send_bracket(ticket, request, price)
            return
        self._placed(ticket, await self._broker.place_order(ticket.spec))

    async def _end_unsent(self, ticket: Ticket, outcome: Outcome, message: str) -> None:
        """End a ticket that sent nothing; the units of the tickets it replaced still get
        their exits."""
        if ticket.carried[0]:
            await self._arm_exits(ticket, *ticket.carried)
        self._desk.done(ticket, outcome, message)

    async def _found_at_broker(self, ticket: Ticket) -> bool:
        """Take over an order the broker already has under this ref (never send it twice)."""
        for state in await self._broker.open_orders():
            if state.spec.order_ref == ticket.key and state.parent_id is None:
                ticket.notes.append("found working at the broker: not sent again")
                self._placed(ticket, state)
                return True
        return False

    def _placed(self, ticket: Ticket, state: OrderState) -> None:
        ticket.order_id = state.order_id
        ticket.spec = state.spec
        ticket.phase = Phase.WORKING
        self._desk.tracker.update(state)

    async def _send_bracket(self, ticket: Ticket, request: OrderRequest, price: float) -> None:
        assert request.exits is not None
        cost = max_close_cost(ticket.order_legs)
        take_profit, stop = request.exits.closing_prices(price, self._tick, cost)
        parent, profit, loss = await self._broker.place_bracket(ticket.spec, take_profit, stop)
        self._placed(ticket, parent)
        ticket.bracket = True
        for role, state in ((OrderRole.TAKE_PROFIT, profit), (OrderRole.STOP, loss)):
            child = self._desk.placed_ticket(state, role, ticket.attempt, ticket.intent)
            ticket.exit_keys.append(child.key)

    async def _wait_for(self, ticket: Ticket, resting: list[Ticket]) -> None:
        """Cancel the strategy's resting exits; ``ticket`` is sent once they have ended."""
        ticket.phase = Phase.WAITING
        for exit_ticket in resting:
            assert exit_ticket.order_id is not None  # resting tickets are placed orders
            state = self._desk.tracker.state(exit_ticket.order_id)
            ticket.wait_for[exit_ticket.order_id] = state.filled if state is not None else 0
            exit_ticket.cancel_requested = True
            await self._request_cancel(exit_ticket)

    async def _request_cancel(self, ticket: Ticket) -> None:
        assert ticket.order_id is not None
        try:
            state = await self._broker.cancel_order(ticket.order_id)
        except UnknownOrderError as error:
            ticket.notes.append(f"cancel: {error}")
        else:
            self._desk.tracker.update(state)
        ticket.phase = Phase.CANCELLING

    async def _market(self, spec: OrderSpec) -> ComboMarket | None:
        quotes = await self._broker.snapshot_quotes([leg.contract for leg in spec.legs])
        return combo_market((leg.ratio, q) for leg, q in zip(spec.legs, quotes, strict=True))

    async def _submit_repair(self, strategy_id: str, imbalance: LegImbalance) -> str:
        """Send the trades that repair ``imbalance`` (its limit is set from the market when
        it is sent; see ``_send``)."""
        legs, size = as_order_legs(imbalance.trades)
        intent = OrderIntent(strategy_id, IntentKind.REDUCE, legs, size, 0.0)
        attempt = self._desk.next_attempt(strategy_id, IntentKind.REDUCE)
        request = OrderRequest(intent, attempt, urgent=True)
        key = ticket_key(request.ref, OrderRole.REPAIR)
        ticket = self._desk.open_ticket(key, request, OrderRole.REPAIR)
        ticket.notes.append(imbalance.describe())
        await self._send(ticket)
        return key

    # -- each cycle -------------------------------------------------------------------------

    def _step(self, ticket: Ticket) -> Coroutine[None, None, None] | None:
        """What ``ticket`` does this poll; None when it only waits for the broker: ended, or
        a resting order whose state has not ended and that no order-ending code touched."""
        if ticket.phase is Phase.NEW:
            return self._send(ticket)
        if ticket.phase is Phase.WAITING:
            return self._advance_waiting(ticket)
        order_id = ticket.order_id
        if ticket.phase is Phase.DONE or order_id is None:
            return None
        tracker = self._desk.tracker
        state = tracker.state(order_id)
        if (state is not None and state.is_done) or tracker.ending_code(order_id) is not None:
            return self._settle(ticket, order_id)
        if ticket.role in WALKING_ROLES and ticket.request is not None:
            return self._walk(ticket)
        return None

    async def _settle(self, ticket: Ticket, order_id: int) -> None:
        """Finish a ticket whose order ended (or walk on, when the broker still lists an
        order an ending code was reported for)."""
        state = await self._current_state(order_id)
        if state is not None and state.is_done:
            await self._finish(ticket, state)
        elif ticket.role in WALKING_ROLES and ticket.request is not None:
            await self._walk(ticket)

    async def _current_state(self, order_id: int) -> OrderState | None:
        """The tracked state; after an order-ending code without a final status, the broker's
        open orders decide (absent there: ended)."""
        tracker = self._desk.tracker
        state, ending = tracker.state(order_id), tracker.ending_code(order_id)
        if ending is None or state is None or state.is_done:
            return state
        tracker.forget_ending(order_id)
        if order_id in {o.order_id for o in await self._broker.open_orders()}:
            return state
        status = OrderStatus.INACTIVE if ending.code == 201 else OrderStatus.CANCELLED
        ended = dataclasses.replace(state, status=status, message=ending.message)
        tracker.update(ended)
        return ended

    async def _walk(self, ticket: Ticket) -> None:
        now = self._clock.now()
        if ticket.phase is not Phase.WORKING or ticket.next_step_at is None:
            return
        if now < ticket.next_step_at:
            return
        if ticket.step >= self._steps:
            ticket.notes.append(f"walk gave up after {ticket.step} steps")
            await self._request_cancel(ticket)
            return
        ticket.step += 1
        ticket.next_step_at = now + self._interval
        market = await self._market(ticket.spec)
        request, order_id = ticket.request, ticket.order_id
        assert request is not None  # walked tickets carry their request
        assert order_id is not None
        if market is None:
            ticket.notes.append(f"step {ticket.step}: no valid quote, price held")
            return
        limit = request.intent.limit_price
        price = walk_price(market, ticket.step, limit, self._config.walk, urgent=request.urgent)
        if price == ticket.spec.limit_price:
            return
        try:
            state = await self._broker.modify_order(order_id, limit_price=price)
        except (OrderNotModifiableError, UnknownOrderError):
            return
        ticket.spec = state.spec
        self._desk.tracker.update(state)

    async def _advance_waiting(self, ticket: Ticket) -> None:
        """Send what the orders waited for did not fill, once they have all ended."""
        states = [self._desk.tracker.state(order_id) for order_id in ticket.wait_for]
        ended = [state for state in states if state is not None and state.is_done]
        if len(ended) < len(states):
            return
        request = ticket.request
        assert request is not None  # waiting tickets carry their request
        meanwhile = sum(state.filled - ticket.wait_for[state.order_id] for state in ended)
        if ticket.replaces is not None:
            ticket.carried = _carried(self._desk.tickets[ticket.replaces], ended[0])
        remaining = request.intent.quantity - meanwhile
        if remaining <= 0:
            await self._end_unsent(
                ticket, Outcome.NOTHING_TO_SEND, "the orders waited for filled it"
            )
            return
        intent = dataclasses.replace(request.intent, quantity=remaining)
        ticket.request = dataclasses.replace(request, intent=intent)
        ticket.spec = OrderSpec.from_intent(intent, request.attempt)
        ticket.phase = Phase.NEW
        await self._send(ticket)

    # -- the end ----------------------------------------------------------------------------

    async def _finish(self, ticket: Ticket, state: OrderState) -> None:
        executions = self._desk.tracker.executions(state.order_id)
        legging = None
        if ticket.role is not OrderRole.REPAIR and executions:
            closing = ticket.role in RESTING_ROLES or ticket.intent not in OPENING_INTENTS
            legging = order_imbalance(
                ticket.order_legs, ticket.spec.quantity, executions, closing=closing
            )
        message = state.message
        if legging is not None:
            if ticket.repair_key is None:
                ticket.repair_key = await self._submit_repair(ticket.strategy_id, legging)
            message = f"legs out of ratio: {legging.describe()}; repair {ticket.repair_key}"
        units = state.filled + ticket.carried[0]
        if ticket.role is OrderRole.WALKED and units > 0 and ticket.replaced_by is None:
            value = state.filled * state.avg_fill_price + ticket.carried[1]
            await self._arm_exits(ticket, units, value)
        outcome = outcome_of(state, ticket.cancel_requested)
        self._desk.done(ticket, outcome, message, state, executions, legging)

    async def _arm_exits(self, ticket: Ticket, units: int, value: float) -> None:
        """Resting exits for ``units`` filled for ``value`` (units x net price): re-price the
        bracket children to the fill, or place the OCA pair (the part not placed yet, when a
        broker error cut the last attempt short; none when the strategy's exits already rest)."""
        request = ticket.request
        if request is None or request.exits is None:
            return
        cost = max_close_cost(ticket.order_legs)
        take_profit, stop = request.exits.closing_prices(value / units, self._tick, cost)
        if ticket.bracket:
            await self._reprice_children(ticket, take_profit, stop)
            return
        placed = [self._desk.tickets[key] for key in ticket.exit_keys]
        if self._config.exits.style is not ExitStyle.OCA or (
            not placed and self._desk.resting(ticket.strategy_id)
        ):
            return
        attempt = (
            placed[0].attempt
            if placed
            else self._desk.next_attempt(ticket.strategy_id, IntentKind.CLOSE)
        )
        exits = (ticket.spec, units, take_profit, stop)
        await self._place_oca(ticket.strategy_id, attempt, exits, ticket.exit_keys)

    async def _place_oca(
        self,
        strategy_id: str,
        attempt: int,
        exits: tuple[OrderSpec, int, float, float],
        keys: list[str],
    ) -> None:
        """Place the OCA take-profit and stop ``exits`` (entry, units, take profit, stop)
        under ``<strategy_id>:close:<attempt>``, but for the roles among ``keys`` (placed
        before a broker error cut the last attempt short); each new ticket's key is appended
        to ``keys`` as soon as its order is placed."""
        entry, units, take_profit, stop = exits
        placed = {self._desk.tickets[key].role for key in keys}
        ref = f"{strategy_id}:{IntentKind.CLOSE.value}:{attempt}"
        for role, spec in oca_exits(entry, units, take_profit, stop, ref):
            if role not in placed:
                state = await self._broker.place_order(spec)
                keys.append(self._desk.placed_ticket(state, role, attempt, IntentKind.CLOSE).key)

    async def rearm_exits(self, strategy: Strategy, plan: ExitPlan) -> tuple[str, ...]:
        """Rest the take-profit and stop of an OPEN ``strategy`` that has none working at the
        broker (after a restart: its entry filled and the process died before they went
        out): the OCA pair for its units at ``plan``'s levels from its entry premium. Returns
        their ticket keys; none with an exit style other than OCA (bracket children go out
        with the entry), in dry run, without an entry premium, or when its exits rest."""
        premium = strategy.entry_premium
        if (
            self._config.exits.style is not ExitStyle.OCA
            or self._dry_run
            or not premium
            or strategy.status is not StrategyStatus.OPEN
            or self._desk.resting(strategy.strategy_id)
        ):
            return ()
        intent = OrderIntent(
            strategy.strategy_id, IntentKind.OPEN, strategy.legs, strategy.quantity, -premium
        )
        entry = OrderSpec.from_intent(intent, 1)
        per_unit = strategy.quantity / entry.quantity  # a lone leg's size counts as units
        cost = max_close_cost(strategy.legs) * per_unit
        take_profit, stop = plan.closing_prices(entry.trigger_price, self._tick, cost)
        attempt = self._desk.next_attempt(strategy.strategy_id, IntentKind.CLOSE)
        keys: list[str] = []
        exits = (entry, entry.quantity, take_profit, stop)
        await self._place_oca(strategy.strategy_id, attempt, exits, keys)
        return tuple(keys)

    async def _reprice_children(self, ticket: Ticket, take_profit: float, stop: float) -> None:
        for key in ticket.exit_keys:
            child = self._desk.tickets[key]
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
            self._desk.tracker.update(state)

    async def _finish_from_executions(self, ticket: Ticket, traded: list[ExecutionEvent]) -> None:
        """A request whose ref already traded (a restart): report it and send nothing but
        the exits its fill should have, if they do not rest at the broker already."""
        for execution in traded:
            self._desk.tracker.add_execution(execution)
        units, average = traded_units(ticket.spec.legs, traded)
        if average is not None:
            await self._arm_exits(ticket, units, units * average)
        outcome = Outcome.FILLED if units >= ticket.spec.quantity else Outcome.PARTIALLY_FILLED
        message = f"already traded at the broker under {ticket.key}: nothing sent"
        ticket.notes.append(message)
        self._desk.done(ticket, outcome, message, executions=tuple(traded), filled=(units, average))

    def _take_over(self, ticket: Ticket, request: OrderRequest) -> None:
        """A request for a ref the engine already knows: walk an adopted order from now on;
        a finished one reports again."""
        if ticket.phase is Phase.DONE:
            self._desk.book.repeat(ticket.key)
        elif ticket.request is None and ticket.role is OrderRole.WALKED:
            ticket.request = request
            ticket.next_step_at = self._clock.now()


def _carried(replaced: Ticket, state: OrderState) -> tuple[int, float]:
    """Units and value a replaced ticket filled, with what it carried itself."""
    units, value = replaced.carried
    return units + state.filled, value + state.filled * state.avg_fill_price
