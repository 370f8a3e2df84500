"""The broker port: what V6 asks of a broker, modelled on what IB offers through ib_async.

Two adapters implement it: ``v6.brokers.sim.SimBroker`` (the embedded simulated exchange) and
the IB adapter (ib_async). Every method is a coroutine; the IB adapter calls ib_async's
``*Async`` methods only. The ib_async call each method stands for is named in its docstring.

Failures of a request raise a ``v6.brokers.errors.BrokerError`` (retryable or permanent).
What happens later to an order - working, filled, cancelled, rejected - arrives as events on
``events()`` (see ``v6.brokers.events``), exactly as IB reports it asynchronously: a rejected
order is not an exception but an ``ErrorEvent`` 201 and an ``OrderStatusEvent`` Inactive.

Limits as at IB: at most ``market_data_lines`` streaming lines (more: error 101) and
``pacing_messages_per_second`` messages per second (more: error 100, the request is refused).
Every request below counts as one message, except ``snapshot_quotes`` and ``qualify`` (one
per contract) and the cached reads (``account_values``, ``positions``, ``open_orders``,
``executions``, ``events``), which send nothing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from v6.brokers.events import EventStream, ExecutionEvent
from v6.brokers.types import AccountValues, OptionChainParams, OrderSpec, OrderState, Quote, WhatIf
from v6.domain import Contract, Position


class Broker(ABC):
    """An account at a broker, reached through one API connection."""

    @property
    @abstractmethod
    def is_connected(self) -> bool:
        """True while requests can be served (connected, and connectivity not lost)."""

    @abstractmethod
    async def connect(self) -> None:
        """Connect, retrying with backoff (``connectAsync``); raises ``ConnectFailedError``
        (502) when every attempt fails."""

    @abstractmethod
    async def disconnect(self) -> None:
        """Close the API connection (``disconnect``). Working orders stay at the broker."""

    @abstractmethod
    def events(self) -> EventStream:
        """A new stream of every event from now on (ib_async's events, typed)."""

    @abstractmethod
    async def account_values(self) -> AccountValues:
        """Net liquidation, cash, margin and funds (``accountSummaryAsync``)."""

    @abstractmethod
    async def positions(self) -> tuple[Position, ...]:
        """Every position of the session, closed ones with quantity 0 (``positions``)."""

    @abstractmethod
    async def qualify(self, contracts: Sequence[Contract]) -> tuple[Contract, ...]:
        """Check that every contract exists (``qualifyContractsAsync``); raises
        ``ContractNotFoundError`` (200) for the first that does not."""

    @abstractmethod
    async def option_chain(self, symbol: str) -> OptionChainParams:
        """Listed expirations and strikes of ``symbol``'s options (``reqSecDefOptParamsAsync``)."""

    @abstractmethod
    async def subscribe_quotes(self, contract: Contract) -> int:
        """Open a streaming line (``reqMktData``) and return its request id; quotes arrive as
        ``QuoteEvent``. Raises ``MarketDataLimitError`` (101) when every line is in use.
        Subscribing to a contract already streamed returns its existing line."""

    @abstractmethod
    async def unsubscribe_quotes(self, contract: Contract) -> None:
        """Close the contract's streaming line (``cancelMktData``); unknown ones are ignored."""

    @abstractmethod
    async def snapshot_quotes(self, contracts: Sequence[Contract]) -> tuple[Quote, ...]:
        """One quote per contract, in order, without holding lines (``reqTickersAsync``).
        Raises ``PacingViolationError`` (100) when the contracts would exceed the rate."""

    @abstractmethod
    async def place_order(self, order: OrderSpec) -> OrderState:
        """Send a new order (``placeOrder``); returns its state when the call returns."""

    @abstractmethod
    async def place_bracket(
        self, parent: OrderSpec, take_profit_price: float, stop_loss_price: float
    ) -> tuple[OrderState, OrderState, OrderState]:
        """Parent plus a take-profit limit and a stop that close it (``bracketOrder`` placed
        with ``transmit`` on the last child only). The children are held (PreSubmitted) until
        the parent fills and cancel each other; prices in the combo convention."""

    @abstractmethod
    async def modify_order(
        self,
        order_id: int,
        *,
        quantity: int | None = None,
        limit_price: float | None = None,
        stop_price: float | None = None,
    ) -> OrderState:
        """Change a working order's quantity or prices (``placeOrder`` with the same id).
        Raises ``UnknownOrderError`` or ``OrderNotModifiableError`` (104). At IB a fill may
        still arrive at the old terms before the change takes effect."""

    @abstractmethod
    async def cancel_order(self, order_id: int) -> OrderState:
        """Ask to cancel (``cancelOrder``): PendingCancel now, Cancelled when confirmed - or
        Filled, if a fill wins the race (then ``ErrorEvent`` 10148). Raises
        ``UnknownOrderError`` (10147) for an unknown id."""

    @abstractmethod
    async def what_if(self, order: OrderSpec) -> WhatIf:
        """Margin and commission of ``order`` if it filled now, without sending it
        (``whatIfOrderAsync``)."""

    @abstractmethod
    async def open_orders(self) -> tuple[OrderState, ...]:
        """Every order that is not done (``openTrades``)."""

    @abstractmethod
    async def completed_orders(self) -> tuple[OrderState, ...]:
        """Orders that ended since the last session close - filled, cancelled or rejected -
        in their final state (``reqCompletedOrdersAsync``): after a restart they tell how an
        order that ended unheard ended, fill or no fill."""

    @abstractmethod
    async def executions(self) -> tuple[ExecutionEvent, ...]:
        """Executions since the last session close, that close's expirations and assignments
        included (``reqExecutionsAsync``), for reconciliation and for recovery after a
        restart: each carries its commission (``ExecutionEvent.commission``; None while the
        broker has not reported it), as IB delivers each ``Fill`` with its commission report."""
