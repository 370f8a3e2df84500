"""The simulated exchange: replays the simulated market step by step and runs the account.

Time: the exchange is the clock's ``TimeDriver``. ``advance_to(t)`` processes every market
step due up to ``t`` (the market's ``advance``), in order. Each step

1. closes the previous session when the step opens a new one (DAY orders cancelled, expiring
   options settled, early assignments before ex-dividend dates, flat positions and finished
   orders dropped);
2. may start a random outage (fault rate);
3. prices what it needs in one call (``PriceBook``);
4. releases orders held for the open, matches every eligible order in id order
   (``matching``) and applies OCA and bracket reactions (``orders``);
5. applies cancels requested before the step - after matching, so a fill can win the race -
   and streams quotes to the subscribed lines.

Steps are ``bar_step_minutes`` apart from each session's open to its close (both included);
the exchange checks that the market steps on that grid. Requests act at the exchange's
current time, and a new order is matched from the next step on. Events go, in order, to the
sink the broker binds. After every call that changed anything, the state is journaled.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal, Protocol

from v6.brokers.errors import ContractNotFoundError
from v6.brokers.events import BrokerEvent, ConnectionEvent, ErrorEvent, OrderStatusEvent, QuoteEvent
from v6.brokers.sim.faults import RANDOM_OUTAGE_SECONDS, Faults
from v6.brokers.sim.journal import Journal
from v6.brokers.sim.ledger import Ledger
from v6.brokers.sim.matching import combo_market, decide_fill, stop_triggered
from v6.brokers.sim.orders import OrderChange, SimOrder
from v6.brokers.sim.pricebook import PriceBook
from v6.brokers.sim.requests import RequestDesk
from v6.brokers.sim.settlement import Settlement, early_assignments, settle_expiring
from v6.brokers.sim.state import ExchangeState, run_header
from v6.brokers.types import (
    AccountValues,
    OptionChainParams,
    OrderSpec,
    OrderState,
    OrderStatus,
    Quote,
    TimeInForce,
    WhatIf,
)
from v6.clock import NEW_YORK, require_utc
from v6.config.broker import SimConfig
from v6.domain import Contract, OptionContract, Position, StockContract, normalise_strike
from v6.market.calendar import TradingCalendar, nyse_calendar
from v6.market.dividends import dividend_schedule
from v6.market.history import available_symbols
from v6.market.quotes import MarketView

DEFAULT_ACCOUNT_ID = "SIM0001"
OPTION_MULTIPLIER = 100
_Listing = Literal["listed", "if held", "unlisted"]
"""An option today: on the market's grid (or a whole dollar within it); off it, so listed only
while the account holds it; or not listed at all (unknown underlying or expiry)."""
_grid_strike = functools.lru_cache(maxsize=65_536)(normalise_strike)
"""The market's strikes as contract strikes: the same few hundred values, day after day."""
Dividends = Mapping[str, Mapping[date, float]]
"""Underlying -> ex-dividend date -> cash dividend per share (default: the market's schedule,
``v6.market.dividends``: the shipped history, projected past its end)."""


class SteppingMarket(MarketView, Protocol):
    """The simulated market as the exchange drives it."""

    def advance(self) -> bool:
        """Move to the next step; False when the replayed window is over."""
        ...

    def seek(self, time: datetime) -> None:
        """Move to the step at ``time`` (used to resume from the journal)."""
        ...


def new_york_date(time: datetime) -> date:
    return time.astimezone(NEW_YORK).date()


def _discard(event: BrokerEvent) -> None:
    return None


class SimExchange:
    """The exchange side of the simulation (synchronous; ``SimBroker`` is its async face)."""

    def __init__(
        self,
        market: SteppingMarket,
        config: SimConfig,
        *,
        journal: Journal | None = None,
        dividends: Dividends | None = None,
        calendar: TradingCalendar | None = None,
        account_id: str = DEFAULT_ACCOUNT_ID,
    ) -> None:
        self._market = market
        self._config = config
        self._calendar = calendar if calendar is not None else nyse_calendar()
        self._step = timedelta(minutes=config.bar_step_minutes)
        self._sink: Callable[[BrokerEvent], None] = _discard
        self._journal = journal
        recovered = journal.open(run_header(config, account_id)) if journal else None
        if recovered is None:
            now = require_utc(market.now, "market.now")
            state = ExchangeState.fresh(config, now, new_york_date(now), account_id)
        else:
            state = ExchangeState.from_json(recovered)
            market.seek(state.market_time)
        self._state = state
        self.faults = Faults(config.faults, state.fault_rng, state.quote_rng, state.counters)
        self.faults.bind(self._lose_connectivity, self._commit)
        self._ledger = Ledger(state, self.emit)
        self._prices = PriceBook(market)
        self._streams: dict[Contract, int] = {}
        self._dividends = dividends
        self._strikes: dict[tuple[str, date], frozenset[Decimal]] = {}
        self._listings: dict[OptionContract, _Listing] = {}
        """Today's listing per option asked about (like ``_strikes``, dropped each new day)."""
        self._listed: set[Contract] = set()
        """The contracts found listed today whoever holds them (dropped with ``_listings``):
        a request for these alone is checked in one set operation."""
        self._chains: dict[str, OptionChainParams] = {}
        """Today's chain parameters per symbol (like ``_strikes``, dropped at each new day)."""
        self._sessions: dict[date, tuple[datetime, datetime] | None] = {}
        self._desk = RequestDesk(self)
        self._journaled: tuple[tuple[object, ...], tuple[datetime, datetime]] | None = None
        self._commit()

    # -- the broker's view ------------------------------------------------------------------

    def bind(self, sink: Callable[[BrokerEvent], None]) -> None:
        """Where events go (the broker)."""
        self._sink = sink

    @property
    def now(self) -> datetime:
        return self._state.time

    @property
    def finished(self) -> bool:
        return self._state.finished

    @property
    def connectivity_lost(self) -> bool:
        return self._state.outage_until is not None

    @property
    def state(self) -> ExchangeState:
        return self._state

    @property
    def prices(self) -> PriceBook:
        return self._prices

    def account_values(self) -> AccountValues:
        return self._state.account.values(self.now, self._prices.spots, self._prices.mark)

    def positions(self) -> tuple[Position, ...]:
        return self._state.account.positions()

    def open_orders(self) -> tuple[OrderState, ...]:
        return tuple(order.state() for order in self._state.orders.working())

    def completed_orders(self) -> tuple[OrderState, ...]:
        """The session's ended orders, by id (finished orders are forgotten at the close)."""
        return tuple(order.state() for order in self._state.orders.completed())

    def order(self, order_id: int) -> OrderState | None:
        order = self._state.orders.get(order_id)
        return None if order is None else order.state()

    def close(self) -> None:
        """Close the journal (every change is already on disk; a kill loses nothing)."""
        if self._journal is not None:
            self._journal.close()

    def state_json(self) -> str:
        """The whole state as canonical JSON (what the journal records)."""
        return json.dumps(self._state.to_json(), sort_keys=True, allow_nan=False)

    # -- contracts and quotes ---------------------------------------------------------------

    def is_listed(self, contract: Contract) -> bool:
        if isinstance(contract, StockContract):
            listing: _Listing = "listed" if contract.symbol in self._market.symbols else "unlisted"
        else:
            found = self._listings.get(contract)
            listing = self._listings[contract] = self._listing(contract) if found is None else found
        if listing == "listed":
            self._listed.add(contract)
            return True
        return listing == "if held" and contract in self._state.account.holdings

    def _listing(self, contract: OptionContract) -> _Listing:
        if (
            contract.underlying not in self._market.symbols
            or contract.multiplier != OPTION_MULTIPLIER
        ):
            return "unlisted"
        strikes = self._listed_strikes(contract.underlying, contract.expiry)
        if contract.strike in strikes:
            return "listed"
        if not strikes:
            return "unlisted"
        whole_dollar = contract.strike == contract.strike.to_integral_value()
        within_grid = min(strikes) <= contract.strike <= max(strikes)
        return "listed" if whole_dollar and within_grid else "if held"

    def _listed_strikes(self, symbol: str, expiry: date) -> frozenset[Decimal]:
        """Today's strike grid of one expiry (empty when the expiry is not listed).

        A listed strike stays listed until expiry at a real exchange, while the market's grid
        follows the spot each day; so a contract is also listed when its strike is a whole
        dollar inside today's grid (the market quotes those) or the account holds it.
        """
        key = (symbol, expiry)
        if key not in self._strikes:
            listed = expiry in self._market.expirations(symbol)
            strikes = self._market.strikes(symbol, expiry) if listed else ()
            self._strikes[key] = frozenset(map(_grid_strike, strikes))
        return self._strikes[key]

    def require_listed(self, contracts: Sequence[Contract], req_id: int = -1) -> None:
        """Raise ``ContractNotFoundError`` (and report error 200) for an unlisted contract."""
        if self._listed.issuperset(contracts):
            return
        for contract in contracts:
            if not self.is_listed(contract):
                message = f"No security definition has been found for the request: {contract}"
                self.emit(ErrorEvent(self.now, 200, message, req_id))
                raise ContractNotFoundError(message, code=200, req_id=req_id)

    def option_chain(self, symbol: str, req_id: int = -1) -> OptionChainParams:
        if symbol not in self._market.symbols:
            self.require_listed([StockContract(symbol)], req_id)
        chain = self._chains.get(symbol)
        if chain is None:
            chain = self._chains[symbol] = self._chain_params(symbol)
        return chain

    def _chain_params(self, symbol: str) -> OptionChainParams:
        expirations = self._market.expirations(symbol)
        strikes = set().union(*(self._listed_strikes(symbol, e) for e in expirations))
        return OptionChainParams(
            symbol=symbol,
            exchange="SMART",
            trading_class=symbol,
            multiplier=OPTION_MULTIPLIER,
            expirations=tuple(expirations),
            strikes=tuple(sorted(strikes)),
        )

    def snapshot(self, contracts: Sequence[Contract]) -> list[Quote]:
        """Quotes as V6 receives them (faults applied), for listed contracts."""
        self.require_listed(contracts)
        faulty = self.faults.draws_quote_faults
        quotes = self.faults.deliver_all(self._prices.quotes(contracts))
        self._commit(clock_only=not faulty)
        return quotes

    def stream(self, contract: Contract, req_id: int) -> None:
        """Start streaming ``contract`` on line ``req_id``; its current quote comes at once."""
        self.require_listed([contract], req_id)
        self._streams[contract] = req_id
        quote = self.faults.deliver(self._prices.quotes([contract])[0])
        self.emit(QuoteEvent(self.now, req_id, quote))
        self._commit()

    def stop_stream(self, contract: Contract) -> None:
        self._streams.pop(contract, None)

    def stop_streams(self) -> None:
        self._streams.clear()

    # -- orders -----------------------------------------------------------------------------

    def place_order(self, spec: OrderSpec) -> OrderState:
        order = self._desk.place(spec)
        self._commit()
        return order.state()

    def place_bracket(
        self, parent: OrderSpec, take_profit_price: float, stop_loss_price: float
    ) -> tuple[OrderState, OrderState, OrderState]:
        orders = self._desk.place_bracket(parent, take_profit_price, stop_loss_price)
        self._commit()
        return orders[0].state(), orders[1].state(), orders[2].state()

    def request_cancel(self, order_id: int) -> OrderState:
        order = self._desk.cancel(order_id)
        self._commit()
        return order.state()

    def request_change(self, order_id: int, change: OrderChange) -> OrderState:
        order = self._desk.change(order_id, change)
        self._commit()
        return order.state()

    def what_if(self, spec: OrderSpec, req_id: int = -1) -> WhatIf:
        self.require_listed([leg.contract for leg in spec.legs], req_id)
        return self._desk.what_if(spec)

    # -- time -------------------------------------------------------------------------------

    def advance_to(self, when: datetime, *, skip_idle: bool = False) -> datetime:
        """Process every step due up to ``when``; with ``skip_idle``, a ``when`` at which
        the market is closed moves on to the next step (the next open). Returns the time."""
        target = max(require_utc(when, "when"), self._state.time)
        stepped = False
        while not self._state.finished:
            upcoming = self._next_step_time()
            if upcoming > target:
                if not (skip_idle and self._is_closed(target)):
                    break
                target = upcoming
            self._restore_if_due(upcoming)
            self._take_step(upcoming)
            stepped = True
        restored = self._restore_if_due(target)
        self._state.time = max(self._state.time, target)
        cancelled = self._desk.apply_requests()
        self._commit(clock_only=not (stepped or restored or cancelled))
        return self._state.time

    def _next_step_time(self) -> datetime:
        last = self._market.now
        day = new_york_date(last)
        session = self._session(day)
        if session is not None:
            session_open, session_close = session
            if last < session_open:
                return session_open
            upcoming = last + self._step
            if upcoming <= session_close:
                return upcoming
        return self._calendar.session_open(self._calendar.next_session(day))

    def _session(self, day: date) -> tuple[datetime, datetime] | None:
        """``day``'s open and close, None without a session (the calendar's answers, kept:
        the clock asks about the same few days at every advance)."""
        if day not in self._sessions:
            calendar = self._calendar
            self._sessions[day] = (
                (calendar.session_open(day), calendar.session_close(day))
                if calendar.is_session(day)
                else None
            )
        return self._sessions[day]

    def is_closed(self, time: datetime | None = None) -> bool:
        return self._is_closed(self.now if time is None else time)

    def _is_closed(self, time: datetime) -> bool:
        session = self._session(new_york_date(time))
        return session is None or not session[0] <= time <= session[1]

    def _take_step(self, expected: datetime) -> None:
        closing = self._prices
        closing.freeze()
        if not self._market.advance():
            self._state.finished = True
            self._close_session(self._state.session_day, closing)
            return
        if self._market.now != expected:
            raise RuntimeError(
                f"the market stepped to {self._market.now.isoformat()}, expected "
                f"{expected.isoformat()} ({self._config.bar_step_minutes}-minute steps from "
                "each session's open to its close)"
            )
        self._state.time = self._state.market_time = expected
        self._prices = PriceBook(self._market)
        day = new_york_date(expected)
        if day != self._state.session_day:
            self._close_session(self._state.session_day, closing)
            self._state.session_day = day
            self._strikes.clear()
            self._listings.clear()
            self._listed.clear()
            self._chains.clear()
        if self.faults.outage_starts():
            self._lose_connectivity(RANDOM_OUTAGE_SECONDS)
        self._prices.add(self._contracts_in_play())
        self._match()
        self._desk.apply_requests()
        self._stream_quotes()

    def _contracts_in_play(self) -> list[Contract]:
        contracts = [leg.contract for o in self._state.orders.working() for leg in o.spec.legs]
        return [*contracts, *self._state.account.holdings, *self._streams]

    def _match(self) -> None:
        book = self._state.orders
        for order in book.working():
            if order.status is OrderStatus.PRE_SUBMITTED and order.parent_id is None:
                order.status = OrderStatus.SUBMITTED
                self.report(order)
        for order in book.eligible():
            if order.is_eligible:
                self._match_one(order)
        for other in book.apply_deferred_reductions():
            self.report(other)

    def _match_one(self, order: SimOrder) -> None:
        quotes = self._prices.quotes([leg.contract for leg in order.spec.legs])
        market = combo_market(order.spec.legs, quotes)
        if market is None:
            return
        order.triggered = order.triggered or stop_triggered(order.spec, market)
        decision = decide_fill(
            order.spec,
            order.remaining,
            market,
            triggered=order.triggered,
            step_minutes=self._config.bar_step_minutes,
            rng=self._state.fill_rng,
        )
        if decision is None:
            return
        units = self.faults.partial_units(decision.units, order.remaining)
        self._ledger.fill(self.now, order, units, decision.net_price, quotes)
        self.report(order)
        for other in self._state.orders.after_fill(order, units):
            self.report(other)

    def _stream_quotes(self) -> None:
        quotes = self.faults.deliver_all(self._prices.quotes(list(self._streams)))
        for req_id, quote in zip(self._streams.values(), quotes, strict=True):
            self.emit(QuoteEvent(self.now, req_id, quote))

    def _close_session(self, day: date, closing: PriceBook) -> None:
        """End of ``day``: expire DAY orders and expiring contracts' orders, forget the
        session's finished orders and executions, settle expirations and assign early before
        ex-dividend dates (these executions are listed during the next session), and drop flat
        positions."""
        time = closing.time
        for order in self._state.orders.working():
            expiring = any(
                isinstance(leg.contract, OptionContract) and leg.contract.expiry <= day
                for leg in order.spec.legs
            )
            held_for_open = order.status is OrderStatus.PRE_SUBMITTED and order.parent_id is None
            if (order.spec.tif is TimeInForce.DAY and not held_for_open) or expiring:
                reason = "contract expired" if expiring else "day order ended at the close"
                self.end_order(order, OrderStatus.CANCELLED, reason, time)
        self._state.orders.forget_done()
        self._state.executions.clear()
        account = self._state.account
        for settlement in settle_expiring(account.open_positions(), day, closing.spots):
            self._book_settlement(time, settlement)
        dividends = self._dividends_after(day)
        if dividends:
            positions = account.open_positions()
            for settlement in early_assignments(positions, dividends, closing.spots, closing.mark):
                self._book_settlement(time, settlement)
        account.drop_flat()

    def _book_settlement(self, time: datetime, settlement: Settlement) -> None:
        self._ledger.book(
            time, settlement.contract, settlement.quantity, settlement.price, kind=settlement.kind
        )

    def _dividends_after(self, day: date) -> dict[str, float]:
        """Dividends going ex on the session after ``day``, by underlying."""
        ex_date = self._calendar.next_session(day)
        found = {symbol: self._dividend_on(symbol, ex_date) for symbol in self._market.symbols}
        return {symbol: amount for symbol, amount in found.items() if amount > 0}

    def _dividend_on(self, symbol: str, ex_date: date) -> float:
        if self._dividends is not None:
            return self._dividends.get(symbol, {}).get(ex_date, 0.0)
        if symbol not in available_symbols():
            return 0.0
        schedule = dividend_schedule(symbol, self._calendar)
        return sum(d.amount for d in schedule.between(ex_date - timedelta(days=1), ex_date))

    # -- connectivity -----------------------------------------------------------------------

    def _lose_connectivity(self, seconds: float) -> None:
        until = self.now + timedelta(seconds=seconds)
        if self._state.outage_until is not None:
            self._state.outage_until = max(self._state.outage_until, until)
            self._commit()
            return
        self._state.outage_until = until
        self.emit(ConnectionEvent(self.now, False, "connectivity to the exchange lost", 1100))
        self.emit(ErrorEvent(self.now, 1100, "Connectivity between IB and TWS has been lost."))
        self.emit(ErrorEvent(self.now, 2103, "Market data farm connection is broken:usfarm"))
        self._commit()

    def _restore_if_due(self, time: datetime) -> bool:
        """End an outage due by ``time``; True when one ended."""
        until = self._state.outage_until
        if until is None or until > time:
            return False
        self._state.outage_until = None
        message = "Connectivity between IB and TWS has been restored - data maintained."
        self.emit(ErrorEvent(until, 1102, message))
        self.emit(ErrorEvent(until, 2104, "Market data farm connection is OK:usfarm"))
        self.emit(ConnectionEvent(until, True, "connectivity to the exchange restored", 1102))
        return True

    # -- plumbing shared with the request desk ----------------------------------------------

    def emit(self, event: BrokerEvent) -> None:
        self._sink(event)

    def report(self, order: SimOrder, time: datetime | None = None) -> None:
        self.emit(OrderStatusEvent(self.now if time is None else time, order.state()))

    def end_order(
        self, order: SimOrder, status: OrderStatus, message: str, time: datetime | None = None
    ) -> None:
        """End ``order`` and report it; its held bracket children follow."""
        order.end(status, message)
        self.report(order, time)
        for child in self._state.orders.release_children(order):
            self.report(child, time)

    def _commit(self, *, clock_only: bool = False) -> None:
        """Journal the state after a call: all of it (fsync'd) when anything but the clock
        fields changed, else the clock fields when they moved. ``clock_only``: the call
        changed nothing but the clock fields (an idle advance, clean quotes), so its content
        is not compared."""
        if self._journal is None:
            return
        journaled, clock = self._journaled, self._state.clock()
        if clock_only and journaled is not None:
            content = journaled[0]
        else:
            content = self._state.content_key()
        if journaled is None or content != journaled[0]:
            self._journal.record_state(self._state.json_text())
        elif clock != journaled[1]:
            self._journal.record_clock(self._state.clock_json(since=journaled[1]))
        self._journaled = (content, clock)
