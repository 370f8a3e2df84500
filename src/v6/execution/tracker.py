"""What the broker has said about V6's orders, folded from its events.

An order's fate comes from its order status only. IB's message codes arrive separately; they
are kept as the order's messages and classified (``v6.brokers.errors.classify_code``):
informational and warning codes (2104, 2158, 10349, 399, ...) never end anything. Only the
codes that end an order (201 rejected, 202 cancelled) make the engine look the order up again
at the broker, in case its status event was lost; even then the broker's open orders decide.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from v6.brokers.events import (
    BrokerEvent,
    CommissionEvent,
    ErrorEvent,
    ExecutionEvent,
    OrderStatusEvent,
)
from v6.brokers.types import OrderState


class OrderTracker:
    """Latest state, executions, commissions and messages per order id."""

    def __init__(self) -> None:
        self._states: dict[int, OrderState] = {}
        self._executions: dict[int, list[ExecutionEvent]] = defaultdict(list)
        self._exec_ids: set[str] = set()
        self._commissions: dict[str, float] = {}
        self._messages: dict[int, list[str]] = defaultdict(list)
        self._ending: dict[int, ErrorEvent] = {}
        self._touched: set[int] = set()

    def apply(self, events: Iterable[BrokerEvent]) -> None:
        for event in events:
            if isinstance(event, OrderStatusEvent):
                self.update(event.order)
            elif isinstance(event, ExecutionEvent):
                self.add_execution(event)
            elif isinstance(event, CommissionEvent):
                self._commissions[event.exec_id] = event.commission
            elif isinstance(event, ErrorEvent):
                self._note(event)

    def update(self, state: OrderState) -> None:
        self._states[state.order_id] = state
        self._touched.add(state.order_id)

    def add_execution(self, execution: ExecutionEvent) -> None:
        """Remember an execution once, with its commission when it carries one (executions
        the broker re-delivers after a restart)."""
        if execution.commission is not None:
            self._commissions[execution.exec_id] = execution.commission
        if execution.order_id is None or execution.exec_id in self._exec_ids:
            return
        self._exec_ids.add(execution.exec_id)
        self._executions[execution.order_id].append(execution)

    def _note(self, event: ErrorEvent) -> None:
        if event.req_id < 0:
            return
        kind = event.classification
        self._messages[event.req_id].append(f"[{event.code} {kind.severity.value}] {event.message}")
        self._touched.add(event.req_id)
        if kind.ends_order:
            self._ending[event.req_id] = event

    def take_touched(self) -> set[int]:
        """The orders whose state or messages changed since the last call."""
        touched, self._touched = self._touched, set()
        return touched

    def state(self, order_id: int) -> OrderState | None:
        return self._states.get(order_id)

    def executions(self, order_id: int) -> tuple[ExecutionEvent, ...]:
        return tuple(self._executions.get(order_id, ()))

    def commissions(self, exec_ids: Iterable[str]) -> dict[str, float]:
        return {e: self._commissions[e] for e in exec_ids if e in self._commissions}

    def messages(self, order_id: int) -> tuple[str, ...]:
        return tuple(self._messages.get(order_id, ()))

    def message_count(self, order_id: int) -> int:
        """How many messages ``order_id`` has had (they are only ever added)."""
        return len(self._messages.get(order_id, ()))

    def ending_code(self, order_id: int) -> ErrorEvent | None:
        """The last code that ends an order (201, 202) reported for it, if any."""
        return self._ending.get(order_id)

    def forget_ending(self, order_id: int) -> None:
        self._ending.pop(order_id, None)
