"""The order engine's bookkeeping, without broker calls: its tickets, what the broker said
about them (``OrderTracker``), their order records and reports, and the highest attempt seen
per (strategy, intent) so a new attempt never reuses an order ref.

Tickets are kept for good (a later request may ask about an ended one), so everything done
each poll looks at the live tickets only, plus the ended ones whose order the broker spoke of
again (a late status or message changes their record)."""

from __future__ import annotations

import itertools
from datetime import datetime

from v6.brokers.events import ExecutionEvent
from v6.brokers.types import OrderSpec, OrderState
from v6.clock import Clock
from v6.domain import IntentKind, InvalidOrderError, parse_order_ref
from v6.execution.legging import LegImbalance
from v6.execution.records import ExecutionReport, OrderRecord, OrderRole, Outcome
from v6.execution.reporting import ReportBook
from v6.execution.tickets import OrderRequest, Phase, Ticket, role_of, strategy_of, ticket_key
from v6.execution.tracker import OrderTracker

RESTING_ROLES = frozenset({OrderRole.TAKE_PROFIT, OrderRole.STOP})
RecordInputs = tuple[OrderState | None, OrderSpec, int, int]


class TicketDesk:
    def __init__(self, clock: Clock, *, dry_run: bool) -> None:
        self._clock = clock
        self._dry_run = dry_run
        self.tracker = OrderTracker()
        self.tickets: dict[str, Ticket] = {}
        self._live: dict[str, Ticket] = {}
        """The tickets not DONE, in the order they were opened (as in ``tickets``)."""
        self._position: dict[str, int] = {}
        """Key -> when its ticket was (last) opened, counting 0, 1, ...: ``_live``'s order."""
        self._opened = itertools.count()
        self._ended: dict[int, Ticket] = {}
        """Order id -> its DONE ticket."""
        self.book = ReportBook()
        self._attempts: dict[tuple[str, IntentKind], int] = {}
        self._recorded: dict[str, RecordInputs] = {}

    @property
    def now(self) -> datetime:
        return self._clock.now()

    def next_attempt(self, strategy_id: str, intent: IntentKind) -> int:
        return self._attempts.get((strategy_id, intent), 0) + 1

    def note_ref(self, ref: str) -> None:
        """Remember the attempt of a V6 order ref (any other text is ignored)."""
        try:
            strategy_id, intent, attempt = parse_order_ref(ref)
        except InvalidOrderError:
            return
        key = (strategy_id, intent)
        self._attempts[key] = max(self._attempts.get(key, 0), attempt)

    def working(self) -> tuple[str, ...]:
        return tuple(self._live)

    def live(self) -> list[Ticket]:
        """The tickets not DONE (a copy: tickets may end or open while it is walked)."""
        return list(self._live.values())

    def resting(self, strategy_id: str) -> list[Ticket]:
        """The strategy's take-profit and stop orders still working."""
        return [
            t
            for t in self._live.values()
            if t.strategy_id == strategy_id and t.role in RESTING_ROLES
        ]

    def _add(self, ticket: Ticket) -> None:
        self.tickets[ticket.key] = ticket
        self._live[ticket.key] = ticket
        self._position[ticket.key] = next(self._opened)

    def discard(self, key: str) -> None:
        """Forget a ticket whose request could not be submitted."""
        del self.tickets[key]
        self._live.pop(key, None)

    def open_ticket(self, key: str, request: OrderRequest, role: OrderRole) -> Ticket:
        """A ticket for ``request`` (not sent yet)."""
        intent = request.intent
        self.note_ref(request.ref)
        ticket = Ticket(
            key=key,
            strategy_id=intent.strategy_id,
            intent=intent.intent,
            attempt=request.attempt,
            role=role,
            spec=OrderSpec.from_intent(intent, request.attempt),
            submitted_at=self.now,
            phase=Phase.NEW,
            request=request,
        )
        self._add(ticket)
        return ticket

    def placed_ticket(
        self, state: OrderState, role: OrderRole, attempt: int, intent: IntentKind
    ) -> Ticket:
        """A ticket for an order already at the broker (an exit, or one found at start)."""
        ref = state.spec.order_ref
        self.note_ref(ref)
        ticket = Ticket(
            key=ticket_key(ref, role),
            strategy_id=strategy_of(ref) or ref,
            intent=intent,
            attempt=attempt,
            role=role,
            spec=state.spec,
            submitted_at=self.now,
            phase=Phase.WORKING,
            order_id=state.order_id,
        )
        self._add(ticket)
        self.tracker.update(state)
        return ticket

    def adopt(self, state: OrderState) -> None:
        """Take a V6 order found working at the broker (after a restart) into the desk."""
        try:
            _, intent, attempt = parse_order_ref(state.spec.order_ref)
        except InvalidOrderError:
            return
        role = role_of(state.spec, intent, state.parent_id is not None)
        ticket = self.placed_ticket(state, role, attempt, intent)
        ticket.notes.append("adopted from the broker at start")

    def record(self, ticket: Ticket, state: OrderState | None = None) -> OrderRecord | None:
        """The ticket's order record (noted as changed when it is); None for a request that
        never priced an order."""
        if ticket.order_id is not None:
            state = state or self.tracker.state(ticket.order_id)
            messages = self.tracker.messages(ticket.order_id)
            self._recorded[ticket.key] = self._inputs(ticket, ticket.order_id, state)
        elif self._dry_run and ticket.start_mid is not None:
            messages = ()
        else:
            return None
        return self.book.note(ticket.record(state, self.now, messages))

    def collect_records(self) -> None:
        """Note the record of every placed ticket whose record inputs moved since it was last
        made (the others would make the same record but for its time, which is not noted), in
        the order the tickets were opened. An ended ticket's spec and notes no longer change:
        only the broker can move its record."""
        ended = (self._ended.get(order_id) for order_id in self.tracker.take_touched())
        late = [ticket for ticket in ended if ticket is not None]
        candidates = list(self._live.values())  # in the order they were opened
        if late:
            candidates = sorted([*candidates, *late], key=lambda t: self._position[t.key])
        for ticket in candidates:
            order_id = ticket.order_id
            if order_id is None:
                continue
            inputs = self._inputs(ticket, order_id, self.tracker.state(order_id))
            if inputs != self._recorded.get(ticket.key):
                self.record(ticket)

    def _inputs(self, ticket: Ticket, order_id: int, state: OrderState | None) -> RecordInputs:
        """What a placed ticket's record is made of besides the time (``Ticket.record``): the
        broker state, the ticket's spec, and its notes and broker messages (both only grow)."""
        return state, ticket.spec, len(ticket.notes), self.tracker.message_count(order_id)

    def done(
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
        self._live.pop(ticket.key, None)
        if ticket.order_id is not None:
            self._ended[ticket.order_id] = ticket
        record = self.record(ticket, state)
        if filled is None:
            units = state.filled if state is not None else 0
            filled = (units, state.avg_fill_price if state is not None and units else None)
        exits = (self.record(self.tickets[key]) for key in ticket.exit_keys)
        request = ticket.request
        self.book.finish(
            ExecutionReport(
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
                finished_at=self.now,
                message=message,
                orders=() if record is None else (record,),
                exits=tuple(exit_record for exit_record in exits if exit_record is not None),
                executions=executions,
                commissions=self.tracker.commissions(e.exec_id for e in executions),
                margin=ticket.margin,
                legging=legging,
            )
        )
