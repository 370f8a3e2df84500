"""``SimBroker``: the broker port on the simulated exchange, with IB's client-side realities.

What the broker adds to the exchange is what an API client sees:

* the connection: requests need ``connect()`` first (else 504); ``connect`` retries with
  doubling backoff (``broker.ib`` retry settings) on the clock while the exchange is
  unreachable, and sends IB's farm messages (2104, 2106, 2158) on success. Events emitted
  while disconnected are lost - reconcile with ``positions``, ``open_orders`` and
  ``executions`` after reconnecting, as with IB;
* connectivity loss at the exchange (1100): requests raise ``ConnectionLostError``; order
  events are held and delivered after the restore (1102), streaming quotes are dropped;
* the market-data line limit (101) and message pacing (100), see ``v6.brokers.base``.

Before serving a request the broker lets the exchange catch up with the clock (a real-time
clock moves between requests).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from datetime import datetime, timedelta

from v6.brokers.base import Broker
from v6.brokers.errors import (
    CodeKind,
    ConnectFailedError,
    ConnectionLostError,
    MarketDataLimitError,
    NotConnectedError,
    PacingViolationError,
)
from v6.brokers.events import (
    BrokerEvent,
    ConnectionEvent,
    ErrorEvent,
    EventHub,
    EventStream,
    ExecutionEvent,
    QuoteEvent,
)
from v6.brokers.sim.exchange import SimExchange
from v6.brokers.sim.faults import Faults
from v6.brokers.sim.orders import OrderChange
from v6.brokers.types import AccountValues, OptionChainParams, OrderSpec, OrderState, Quote, WhatIf
from v6.clock import Clock
from v6.config.broker import BrokerConfig
from v6.domain import Contract, Position

PACING_WINDOW = timedelta(seconds=1)
_PASS_DURING_OUTAGE = frozenset({CodeKind.CONNECTIVITY, CodeKind.FARM})
_CONNECT_MESSAGES = (
    (2104, "Market data farm connection is OK:usfarm"),
    (2106, "HMDS data farm connection is OK:ushmds"),
    (2158, "Sec-def data farm connection is OK:secdefnj"),
)


class Pacer:
    """At most ``limit`` messages in any one-second window of clock time."""

    def __init__(self, per_second: float) -> None:
        self.limit = int(per_second)
        self._sent: deque[datetime] = deque()

    def admit(self, now: datetime, messages: int) -> bool:
        """Count ``messages`` sent now, or refuse them all (and count none)."""
        while self._sent and self._sent[0] <= now - PACING_WINDOW:
            self._sent.popleft()
        if len(self._sent) + messages > self.limit:
            return False
        self._sent.extend([now] * messages)
        return True


class SimBroker(Broker):
    """The broker port served by a ``SimExchange`` on a simulated or replay clock."""

    def __init__(self, exchange: SimExchange, clock: Clock, config: BrokerConfig) -> None:
        self._exchange = exchange
        self._clock = clock
        self._line_limit = config.market_data_lines
        self._pacer = Pacer(config.pacing_messages_per_second)
        self._retries = config.ib.connect_retries
        self._backoff = config.ib.retry_backoff_seconds
        self._max_backoff = config.ib.max_backoff_seconds
        self._hub = EventHub()
        self._connected = False
        self._held: list[BrokerEvent] = []
        self._lines: dict[Contract, int] = {}
        self._next_req_id = 1
        exchange.bind(self._on_exchange_event)

    @property
    def exchange(self) -> SimExchange:
        return self._exchange

    @property
    def faults(self) -> Faults:
        """Fault injection (``v6.brokers.sim.faults``)."""
        return self._exchange.faults

    @property
    def is_connected(self) -> bool:
        return self._connected and not self._exchange.connectivity_lost

    def events(self) -> EventStream:
        return self._hub.subscribe()

    def _on_exchange_event(self, event: BrokerEvent) -> None:
        if not self._connected:
            return
        if isinstance(event, ConnectionEvent):
            self._hub.publish(event)
            if event.connected:
                held, self._held = self._held, []
                for waiting in held:
                    self._hub.publish(waiting)
            return
        if self._exchange.connectivity_lost:
            if isinstance(event, ErrorEvent) and event.classification.kind in _PASS_DURING_OUTAGE:
                self._hub.publish(event)
            elif not isinstance(event, QuoteEvent):
                self._held.append(event)
            return
        self._hub.publish(event)

    async def connect(self) -> None:
        if self._connected:
            return
        delay = self._backoff
        for attempt in range(self._retries + 1):
            self._catch_up()
            if not self._exchange.connectivity_lost:
                self._connected = True
                now = self._exchange.now
                self._hub.publish(ConnectionEvent(now, True, "connected to the simulated exchange"))
                for code, message in _CONNECT_MESSAGES:
                    self._hub.publish(ErrorEvent(now, code, message))
                return
            if attempt < self._retries:
                await self._clock.sleep(delay)
                delay = min(delay * 2, self._max_backoff)
        raise ConnectFailedError(
            f"could not connect to the simulated exchange in {self._retries + 1} attempts",
            code=502,
        )

    async def disconnect(self) -> None:
        if not self._connected:
            return
        self._hub.publish(ConnectionEvent(self._exchange.now, False, "disconnected"))
        self._connected = False
        self._held.clear()
        self._lines.clear()
        self._exchange.stop_streams()

    def _catch_up(self) -> None:
        if self._clock.now() > self._exchange.now:
            self._exchange.advance_to(self._clock.now())

    def _ready(self) -> None:
        """Serve a request only when connected (504) and connectivity is up (1100)."""
        self._catch_up()
        if not self._connected:
            raise NotConnectedError("Not connected", code=504)
        if self._exchange.connectivity_lost:
            raise ConnectionLostError("Connectivity between IB and TWS has been lost.", code=1100)

    def _send(self, messages: int, req_id: int = -1) -> None:
        self._ready()
        if not self._pacer.admit(self._exchange.now, messages):
            message = (
                f"Max rate of messages per second has been exceeded: max={self._pacer.limit} "
                f"requested={messages}"
            )
            self._hub.publish(ErrorEvent(self._exchange.now, 100, message, req_id))
            raise PacingViolationError(message, code=100, req_id=req_id)

    def _take_req_id(self) -> int:
        req_id = self._next_req_id
        self._next_req_id += 1
        return req_id

    async def account_values(self) -> AccountValues:
        self._ready()
        return self._exchange.account_values()

    async def positions(self) -> tuple[Position, ...]:
        self._ready()
        return self._exchange.positions()

    async def open_orders(self) -> tuple[OrderState, ...]:
        self._ready()
        return self._exchange.open_orders()

    async def completed_orders(self) -> tuple[OrderState, ...]:
        self._ready()
        return self._exchange.completed_orders()

    async def executions(self) -> tuple[ExecutionEvent, ...]:
        self._ready()
        return tuple(self._exchange.state.executions)

    async def qualify(self, contracts: Sequence[Contract]) -> tuple[Contract, ...]:
        req_id = self._take_req_id()
        self._send(len(contracts), req_id)
        self._exchange.require_listed(contracts, req_id)
        return tuple(contracts)

    async def option_chain(self, symbol: str) -> OptionChainParams:
        req_id = self._take_req_id()
        self._send(1, req_id)
        return self._exchange.option_chain(symbol, req_id)

    async def subscribe_quotes(self, contract: Contract) -> int:
        existing = self._lines.get(contract)
        if existing is not None:
            return existing
        req_id = self._take_req_id()
        self._send(1, req_id)
        if len(self._lines) >= self._line_limit:
            message = f"Max number of tickers has been reached: {self._line_limit} lines in use"
            self._hub.publish(ErrorEvent(self._exchange.now, 101, message, req_id))
            raise MarketDataLimitError(message, code=101, req_id=req_id)
        self._exchange.stream(contract, req_id)
        self._lines[contract] = req_id
        return req_id

    async def unsubscribe_quotes(self, contract: Contract) -> None:
        if contract not in self._lines:
            return
        self._send(1, self._lines[contract])
        del self._lines[contract]
        self._exchange.stop_stream(contract)

    async def snapshot_quotes(self, contracts: Sequence[Contract]) -> tuple[Quote, ...]:
        self._send(len(contracts), self._take_req_id())
        return tuple(self._exchange.snapshot(contracts))

    async def place_order(self, order: OrderSpec) -> OrderState:
        self._send(1)
        return self._exchange.place_order(order)

    async def place_bracket(
        self, parent: OrderSpec, take_profit_price: float, stop_loss_price: float
    ) -> tuple[OrderState, OrderState, OrderState]:
        self._send(3)
        return self._exchange.place_bracket(parent, take_profit_price, stop_loss_price)

    async def modify_order(
        self,
        order_id: int,
        *,
        quantity: int | None = None,
        limit_price: float | None = None,
        stop_price: float | None = None,
    ) -> OrderState:
        if quantity is None and limit_price is None and stop_price is None:
            raise ValueError(f"modify_order({order_id}): give a quantity or a price to change")
        self._send(1, order_id)
        change = OrderChange(quantity, limit_price, stop_price)
        return self._exchange.request_change(order_id, change)

    async def cancel_order(self, order_id: int) -> OrderState:
        self._send(1, order_id)
        return self._exchange.request_cancel(order_id)

    async def what_if(self, order: OrderSpec) -> WhatIf:
        req_id = self._take_req_id()
        self._send(1, req_id)
        return self._exchange.what_if(order, req_id)
