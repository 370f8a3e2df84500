"""Events a broker emits, and the stream that delivers them.

Every event is a small frozen dataclass with a UTC ``time``. A broker emits, in order:

* ``ConnectionEvent`` - the API connection came up or went down, or connectivity to the
  broker was lost (1100) and restored (1102). The IB code also arrives as an ``ErrorEvent``.
* ``OrderStatusEvent`` - an order changed state (IB ``orderStatusEvent``): placed, working,
  partly filled, pending cancel, filled, cancelled, rejected.
* ``ExecutionEvent`` - one contract's position changed: a fill (IB ``execDetailsEvent``; a
  combo fill gives one per leg) or an exercise, assignment, expiration or cash settlement.
* ``CommissionEvent`` - the commission and realized P&L of one execution (IB
  ``commissionReportEvent``); it follows its execution.
* ``PositionEvent`` - a position's new quantity and average cost (IB ``positionEvent``).
* ``QuoteEvent`` - a new quote on a streaming line (IB ``pendingTickersEvent``).
* ``ErrorEvent`` - any IB message code with its text (IB ``errorEvent``): confirmations,
  farm status, warnings and errors alike. ``classification`` says which
  (see ``v6.brokers.errors``).

Delivery: ``Broker.events()`` returns an ``EventStream``. Iterate it with ``async for`` (it
waits for the next event) or take what is pending with ``drain()`` (it never waits). Each
stream sees every event published after it was opened, in order; close it when done.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from v6.brokers.errors import CodeClass, classify_code
from v6.brokers.types import ExecutionKind, OrderState, Quote
from v6.domain import Contract, Fill, Position


@dataclass(frozen=True, slots=True)
class ConnectionEvent:
    """``connected`` is the new state; ``code`` the IB code behind it (None for the API
    socket itself, 1100 lost, 1102 restored)."""

    time: datetime
    connected: bool
    message: str
    code: int | None = None


@dataclass(frozen=True, slots=True)
class OrderStatusEvent:
    time: datetime
    order: OrderState


@dataclass(frozen=True, slots=True)
class ExecutionEvent:
    """``quantity`` is signed (bought +, sold -), ``price`` per share >= 0. ``order_id`` is
    None for exercises, assignments, expirations and settlements (no order behind them).

    ``commission`` is None on the live event: its ``CommissionEvent`` follows (IB's
    ``execDetailsEvent``). The executions ``Broker.executions()`` re-delivers carry it, as
    IB's ``reqExecutions`` delivers each execution with its commission report."""

    time: datetime
    exec_id: str
    order_id: int | None
    contract: Contract
    quantity: int
    price: float
    kind: ExecutionKind = ExecutionKind.TRADE
    order_ref: str = ""
    commission: float | None = None

    def to_fill(self, commission: float) -> Fill:
        """The domain ``Fill``, once the commission for this execution is known."""
        order_key = str(self.order_id) if self.order_id is not None else self.kind.value
        return Fill(
            exec_id=self.exec_id,
            order_id=order_key,
            contract=self.contract,
            quantity=self.quantity,
            price=self.price,
            commission=commission,
            time=self.time,
        )


@dataclass(frozen=True, slots=True)
class CommissionEvent:
    time: datetime
    exec_id: str
    commission: float
    realized_pnl: float
    currency: str = "USD"


@dataclass(frozen=True, slots=True)
class PositionEvent:
    time: datetime
    position: Position


@dataclass(frozen=True, slots=True)
class QuoteEvent:
    """A quote on the streaming line ``req_id`` (returned by ``subscribe_quotes``)."""

    time: datetime
    req_id: int
    quote: Quote


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    """An IB message code. ``req_id`` is the order or request it concerns, -1 for none."""

    time: datetime
    code: int
    message: str
    req_id: int = -1

    @property
    def classification(self) -> CodeClass:
        return classify_code(self.code)


BrokerEvent = (
    ConnectionEvent
    | OrderStatusEvent
    | ExecutionEvent
    | CommissionEvent
    | PositionEvent
    | QuoteEvent
    | ErrorEvent
)


class EventStream:
    """The events published since this stream was opened, in order (see the module doc)."""

    def __init__(self, hub: EventHub) -> None:
        self._hub = hub
        self._queue: asyncio.Queue[BrokerEvent] = asyncio.Queue()
        self._closed = False

    def _put(self, event: BrokerEvent) -> None:
        self._queue.put_nowait(event)

    def drain(self) -> list[BrokerEvent]:
        """Every pending event, without waiting."""
        events: list[BrokerEvent] = []
        while not self._queue.empty():
            events.append(self._queue.get_nowait())
        return events

    def close(self) -> None:
        """Stop receiving events; pending ones stay readable with ``drain``."""
        if not self._closed:
            self._closed = True
            self._hub._remove(self)

    def __aiter__(self) -> AsyncIterator[BrokerEvent]:
        return self

    async def __anext__(self) -> BrokerEvent:
        if self._closed and self._queue.empty():
            raise StopAsyncIteration
        return await self._queue.get()


class EventHub:
    """Fans published events out to every open stream (used by broker implementations)."""

    def __init__(self) -> None:
        self._streams: list[EventStream] = []

    def subscribe(self) -> EventStream:
        stream = EventStream(self)
        self._streams.append(stream)
        return stream

    def publish(self, event: BrokerEvent) -> None:
        for stream in self._streams:
            stream._put(event)

    def _remove(self, stream: EventStream) -> None:
        self._streams.remove(stream)
