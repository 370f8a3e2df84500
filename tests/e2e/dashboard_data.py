"""Tables for the dashboard's tests, written through V6's real store from the simulated market.

Nothing here is made up: strategies are iron condors chosen by delta from the simulated
exchange's chains of real sessions (SPY, QQQ, IWM), entry prices are fills (mids for the
large book), marks and Greeks are the exchange's quotes, decisions come from V6's rule book,
limit breaches from V6's limit monitor, and the breaker trip from V6's circuit breaker fed
with real order rejects.

* `simulated_book` runs a short simulation through ``SimBroker``: a few condors are sold with
  marketable combo orders, then every leg is snapshotted each step together with account
  values, decisions, heartbeats, alerts and risk events, as the engine would write them.
* `large_book` writes the benchmark's book straight from ``SimulatedMarket``: about 5,000
  legs marked every few minutes over a month of sessions.

``v6 run`` will write the same tables; these helpers stand in until it exists.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

from v6.book import QUOTES_SCHEMA, build_book
from v6.brokers import (
    AccountValues,
    CommissionEvent,
    EventStream,
    ExecutionEvent,
    OrderLeg,
    OrderSpec,
    PermanentBrokerError,
    Quote,
)
from v6.brokers.sim import Simulation, open_simulation
from v6.config import V6Config
from v6.config.broker import BrokerConfig, SimConfig
from v6.config.risk import PortfolioLimits
from v6.decisions import CycleContext, DecisionEngine
from v6.domain import (
    Alert,
    Fill,
    Greeks,
    IntentKind,
    Leg,
    OptionContract,
    Right,
    Severity,
    Strategy,
    StrategyKind,
    StrategyStatus,
)
from v6.domain.greeks import DAYS_PER_YEAR, PERCENT
from v6.market.quotes import QuoteBatch
from v6.market.simulated import ChainQuotes, SimulatedMarket
from v6.risk.circuit_breaker import BreakerState, CircuitBreaker, FailureKind
from v6.risk.events import RiskEvent, risk_alert
from v6.risk.limits import LimitMonitor
from v6.store import (
    AccountSnapshot,
    Command,
    CommandStatus,
    HealthStatus,
    Heartbeat,
    LegSnapshot,
    OrderRecord,
    OrderStatus,
    Store,
    StoreLocation,
    trade_date,
)
from v6.store.catalog import POSITION_SNAPSHOTS

SYMBOLS = ("SPY", "QQQ", "IWM")
WING_DOLLARS = {"SPY": 5.0, "QQQ": 5.0, "IWM": 3.0}
"""Wing width per underlying (the listed strike nearest it is used)."""
ACCOUNT = "DU1000001"
STARTING_CASH = 1_000_000.0
"""The large book's account (1,250 condors need more than the simulator's default cash)."""
TIGHT_LIMITS = PortfolioLimits(max_abs_vega=150.0, max_abs_delta=60.0)
"""Limits small enough for the simulated book to breach some of them (real breaches)."""
LINE_BUDGET = 10
FLUSH_EVERY_STEPS = 6
"""The large book commits every 6 steps (30 simulated minutes at 5-minute marks)."""


@dataclass(frozen=True)
class WrittenBook:
    """What the helpers wrote, for the tests to compare the pages against."""

    data_dir: Path
    strategies: tuple[Strategy, ...]
    alerts: tuple[Alert, ...]
    as_of: datetime
    legs: int
    breaker_tripped: bool = False


# -- choosing condors from a chain -----------------------------------------------------------


def condor_legs(chain: ChainQuotes, expiry: date, short_delta: float, wing: float) -> list[Leg]:
    """Shorts at the listed strikes whose |delta| is nearest ``short_delta``; wings at the
    listed strikes nearest ``wing`` dollars further out."""
    rows = np.array([i for i, day in enumerate(chain.expiry) if day == expiry])
    strikes, calls, delta = chain.strike[rows], chain.is_call[rows], chain.quotes.delta[rows]
    legs = []
    for is_call, sign in ((False, -1.0), (True, 1.0)):
        side, side_delta = strikes[calls == is_call], delta[calls == is_call]
        short = float(side[np.nanargmin(np.abs(side_delta - sign * short_delta))])
        long = float(side[np.argmin(np.abs(side - (short + sign * wing)))])
        right = Right.CALL if is_call else Right.PUT
        legs.append(Leg(_contract(chain.symbol, expiry, short, right), -1))
        legs.append(Leg(_contract(chain.symbol, expiry, long, right), 1))
    return legs


def _contract(symbol: str, expiry: date, strike: float, right: Right) -> OptionContract:
    return OptionContract(symbol, expiry, Decimal(str(strike)), right)


def _expiries(market: SimulatedMarket, symbol: str, min_dte: int, max_dte: int) -> list[date]:
    today = market.session
    return [e for e in market.expirations(symbol) if min_dte <= (e - today).days <= max_dte]


def _sim_config(start: date, end: date, step_minutes: int, seed: int) -> SimConfig:
    return SimConfig(
        seed=seed, symbols=SYMBOLS, start_date=start, end_date=end, bar_step_minutes=step_minutes
    )


# -- the short simulation through SimBroker ---------------------------------------------------


def simulated_book(
    data_dir: Path,
    *,
    start: date = date(2024, 3, 4),
    end: date = date(2024, 3, 5),
    condors_per_symbol: int = 2,
    step_minutes: int = 30,
    seed: int = 7,
) -> WrittenBook:
    """Run a short simulation and write its tables under ``data_dir``."""
    config = BrokerConfig(sim=_sim_config(start, end, step_minutes, seed))
    market = SimulatedMarket(config.sim)
    run = _SimulationRun(
        open_simulation(market, config),
        market,
        Store(StoreLocation(str(data_dir)), app_id="engine"),
        step_minutes * 60,
        end,
    )
    return asyncio.run(run.play(data_dir, condors_per_symbol))


@dataclass
class _SimulationRun:
    sim: Simulation
    market: SimulatedMarket
    store: Store
    step_seconds: int
    last_session: date
    engine: DecisionEngine = field(default_factory=lambda: DecisionEngine(V6Config().decisions))

    async def play(self, data_dir: Path, condors_per_symbol: int) -> WrittenBook:
        await self.sim.broker.connect()
        events = self.sim.broker.events()
        opened = await self._open_condors(events, condors_per_symbol)
        alerts = [_fill_alert(strategy) for strategy in opened]
        monitor = LimitMonitor()
        while True:
            now, summary, account = await self._mark(opened)
            step = monitor.update(summary, TIGHT_LIMITS, account.buying_power, now)
            monitor = step.monitor
            alerts.extend(self._record_risk(step.events))
            self.store.health.beat(_heartbeats(now, sum(len(s.legs) for s in opened)))
            self.store.flush()
            if self.market.is_session_close and self.market.session >= self.last_session:
                break
            await self.sim.clock.sleep(self.step_seconds)
        tripped = await self._trip_breaker()
        alerts.extend(tripped)
        self.store.alerts.save(alerts)
        self.store.commands.submit([_done_command(now)])
        self.store.flush()
        await self.sim.broker.disconnect()
        legs = sum(len(s.legs) for s in opened)
        return WrittenBook(data_dir, tuple(opened), tuple(alerts), now, legs, bool(tripped))

    async def _open_condors(self, events: EventStream, per_symbol: int) -> list[Strategy]:
        """Sell ``per_symbol`` condors per underlying at the natural price (marketable)."""
        proposals = list(self._proposals(per_symbol))
        orders = {}
        for strategy in proposals:
            state = await self.sim.broker.place_order(await self._entry_order(strategy))
            orders[strategy.strategy_id] = str(state.order_id)
        await self.sim.clock.sleep(self.step_seconds)
        drained = events.drain()
        commissions = {e.exec_id: e.commission for e in drained if isinstance(e, CommissionEvent)}
        fills = [
            e.to_fill(commissions.get(e.exec_id, 0.0))
            for e in drained
            if isinstance(e, ExecutionEvent)
        ]
        opened = [
            self._record_entry(s, orders[s.strategy_id], [f for f in fills if f.order_id == o])
            for s, o in ((s, orders[s.strategy_id]) for s in proposals)
        ]
        self.store.executions.record(fills)
        self.store.strategies.save(opened, self.sim.clock.now())
        return opened

    def _proposals(self, per_symbol: int) -> Iterator[Strategy]:
        today = self.market.session
        deltas = (0.16, 0.25, 0.10, 0.20)
        for symbol in SYMBOLS:
            expiries = _expiries(self.market, symbol, 25, 60)
            chain = self.market.chain(symbol, expiries, within=0.25)
            for n in range(per_symbol):
                expiry = expiries[(2 * n) % len(expiries)]
                legs = condor_legs(chain, expiry, deltas[n % len(deltas)], WING_DOLLARS[symbol])
                yield Strategy.propose(
                    f"ic-{symbol.lower()}-{today:%m%d}-{n + 1}",
                    StrategyKind.IRON_CONDOR,
                    legs,
                    as_of=today,
                    quantity=n + 1,
                )

    async def _entry_order(self, strategy: Strategy) -> OrderSpec:
        contracts = [leg.contract for leg in strategy.legs]
        quotes = await self.sim.broker.snapshot_quotes(contracts)
        natural = sum(
            -leg.quantity * (q.bid if leg.quantity < 0 else q.ask)
            for leg, q in zip(strategy.legs, quotes, strict=True)
        )
        return OrderSpec(
            tuple(OrderLeg(leg.contract, leg.quantity) for leg in strategy.legs),
            strategy.quantity,
            limit_price=-round(natural, 2),
            order_ref=f"{strategy.strategy_id}:open:1",
        )

    def _record_entry(self, strategy: Strategy, order_id: str, fills: list[Fill]) -> Strategy:
        if not fills:
            raise RuntimeError(f"{strategy.strategy_id}: the marketable entry did not fill")
        credit = round(-sum(f.quantity * f.price for f in fills) / strategy.quantity, 4)
        filled_at = max(f.time for f in fills)
        self.store.orders.save(
            [
                OrderRecord(
                    order_id=order_id,
                    strategy_id=strategy.strategy_id,
                    intent=IntentKind.OPEN,
                    attempt=1,
                    legs=strategy.legs,
                    quantity=strategy.quantity,
                    limit_price=-credit,
                    status=OrderStatus.FILLED,
                    submitted_at=min(f.time for f in fills),
                    updated_at=filled_at,
                    filled_quantity=strategy.quantity,
                    avg_fill_price=-credit,
                )
            ]
        )
        return Strategy(
            strategy.strategy_id,
            strategy.kind,
            strategy.legs,
            quantity=strategy.quantity,
            status=StrategyStatus.OPEN,
            entry_premium=credit,
            opened_at=filled_at,
        )

    async def _mark(
        self, strategies: Sequence[Strategy]
    ) -> tuple[datetime, pl.DataFrame, AccountValues]:
        """Snapshot every leg; record the snapshots, account values and decisions."""
        contracts = list(dict.fromkeys(leg.contract for s in strategies for leg in s.legs))
        quotes = dict(zip(contracts, await self.sim.broker.snapshot_quotes(contracts), strict=True))
        now = self.sim.clock.now()
        self.store.snapshots.record(
            _leg_snapshot(s.strategy_id, leg.contract, quotes[leg.contract], now)
            for s in strategies
            for leg in s.legs
        )
        account = await self.sim.broker.account_values()
        self.store.accounts.record([_account_snapshot(account, now)])
        book = build_book(strategies, _quotes_frame(quotes.values(), now))
        context = CycleContext(now=now, today=self.market.session)
        summary = self.engine.summarize(book, context.today)
        cycle = self.engine.decide(summary, context)
        self.store.decisions.record(cycle.decisions(), cycle.triggered())
        return now, summary, account

    def _record_risk(self, events: Sequence[RiskEvent]) -> list[Alert]:
        self.store.risk_events.record(events)
        return [alert for alert in map(risk_alert, events) if alert is not None]

    async def _trip_breaker(self) -> list[Alert]:
        """Ask for the margin of entries on strikes the exchange does not list: each broker
        error is a failure for the circuit breaker, whose default threshold (3) trips it."""
        breaker = CircuitBreaker(V6Config().risk.circuit_breaker)
        state = BreakerState()
        alerts: list[Alert] = []
        expiry = self.market.expirations("SPY")[0]
        for strike in ("1.5", "2.5", "3.5"):
            unlisted = OptionContract("SPY", expiry, Decimal(strike), Right.PUT)
            try:
                await self.sim.broker.what_if(
                    OrderSpec((OrderLeg(unlisted, 1),), 1, limit_price=0.05)
                )
            except PermanentBrokerError as error:
                step = breaker.record_failure(
                    state, FailureKind.BROKER_ERROR, self.sim.clock.now(), str(error)
                )
                state = step.state
                alerts.extend(self._record_risk(step.events))
        return alerts


# -- rows the engine would write ----------------------------------------------------------------


def _fill_alert(strategy: Strategy) -> Alert:
    assert strategy.opened_at is not None
    assert strategy.entry_premium is not None
    return Alert(
        alert_id=f"fill-{strategy.strategy_id}",
        severity=Severity.INFO,
        source="execution",
        message=f"{strategy.strategy_id}: {strategy.quantity} x iron condor filled at "
        f"{strategy.entry_premium:.2f} credit",
        dedup_key=f"fill:{strategy.strategy_id}",
        created_at=strategy.opened_at,
    )


def textbook_greeks(greeks: Greeks | None) -> Greeks | None:
    """IB's per-day theta and per-point vega back to V6's per-year and per-1.00 units (the
    book's and the snapshots' units)."""
    if greeks is None:
        return None
    return Greeks(
        greeks.delta, greeks.gamma, greeks.theta * DAYS_PER_YEAR, greeks.vega * PERCENT, greeks.rho
    )


def _leg_snapshot(
    strategy_id: str, contract: OptionContract, quote: Quote, at: datetime
) -> LegSnapshot:
    return LegSnapshot(
        strategy_id=strategy_id,
        contract=contract,
        at=at,
        mark=quote.mid if quote.is_valid else None,
        bid=quote.bid,
        ask=quote.ask,
        implied_vol=quote.iv if math.isfinite(quote.iv) else None,
        underlying_price=quote.underlying_price,
        greeks=textbook_greeks(quote.greeks),
    )


def _quotes_frame(quotes: Iterable[Quote], at: datetime) -> pl.DataFrame:
    rows = []
    for quote in quotes:
        greeks = textbook_greeks(quote.greeks)
        assert isinstance(quote.contract, OptionContract)
        assert greeks is not None
        rows.append(
            {
                "occ_symbol": quote.contract.occ_symbol,
                "bid": quote.bid,
                "ask": quote.ask,
                "mark": quote.mid,
                "iv": quote.iv,
                "delta": greeks.delta,
                "gamma": greeks.gamma,
                "theta": greeks.theta,
                "vega": greeks.vega,
                "underlying_price": quote.underlying_price,
                "mark_time": at,
            }
        )
    return pl.DataFrame(rows, schema=QUOTES_SCHEMA)


def _account_snapshot(account: AccountValues, at: datetime) -> AccountSnapshot:
    return AccountSnapshot(
        account=account.account,
        at=at,
        net_liquidation=account.net_liquidation,
        cash=account.total_cash,
        buying_power=account.buying_power,
        maintenance_margin=account.maintenance_margin,
        unrealized_pnl=account.unrealized_pnl,
        realized_pnl=account.realized_pnl,
    )


def _heartbeats(at: datetime, legs: int) -> list[Heartbeat]:
    """One heartbeat per engine component, numbers as ``name=value`` (the Health page's
    convention): this helper marks every leg by snapshot, so no line streams and the queue
    is empty after each cycle."""
    ok = HealthStatus.OK
    return [
        Heartbeat("broker", ok, at, "connected to the simulated exchange"),
        Heartbeat("sync", ok, at, f"marked {legs} legs; lines=0/{LINE_BUDGET}"),
        Heartbeat("queue", ok, at, "depth=0 oldest_mark_s=0"),
        Heartbeat("decisions", ok, at, "rule book evaluated"),
        Heartbeat("execution", ok, at, "no working orders"),
        Heartbeat("writer", ok, at, "flushed"),
    ]


def _done_command(at: datetime) -> Command:
    requested = Command("cmd-initial-sync", "force_sync", "dashboard", at)
    return requested.with_status(CommandStatus.DONE, at, "full sync done")


# -- the large book straight from the market -------------------------------------------------


def large_book(
    data_dir: Path,
    *,
    legs: int = 5000,
    start: date = date(2024, 2, 1),
    end: date = date(2024, 2, 29),
    step_minutes: int = 5,
    seed: int = 7,
) -> WrittenBook:
    """``legs`` / 4 condors opened at the first open at their mids, marked every
    ``step_minutes`` until ``end``'s close, with the rule book's decisions on the last day."""
    market = SimulatedMarket(_sim_config(start, end, step_minutes, seed))
    store = Store(StoreLocation(str(data_dir)), app_id="engine")
    strategies = _many_condors(market, legs // 4)
    store.strategies.save(strategies, market.now)
    contracts = list(dict.fromkeys(leg.contract for s in strategies for leg in s.legs))
    book = _LegIndex(strategies, contracts)
    engine = DecisionEngine(V6Config().decisions)
    while True:
        now = market.now
        quotes = market.quote(contracts)
        store.writer.add(POSITION_SNAPSHOTS, book.snapshot_rows(quotes, now))
        store.accounts.record([book.account(quotes, now)])
        if market.session == end:
            frame = build_book(strategies, book.quotes_frame(quotes, now))
            cycle = engine.evaluate(frame, CycleContext(now=now, today=market.session))
            store.decisions.record(cycle.decisions(), cycle.triggered())
        if market.step_index % FLUSH_EVERY_STEPS == 0 or market.is_session_close:
            store.health.beat(_heartbeats(now, book.legs))
            store.flush()
        if not market.advance():
            break
    return WrittenBook(data_dir, tuple(strategies), (), now, book.legs)


def _many_condors(market: SimulatedMarket, count: int) -> list[Strategy]:
    deltas = (0.10, 0.16, 0.20, 0.25, 0.30)
    chosen: list[Strategy] = []
    per_symbol = -(-count // len(SYMBOLS))
    for symbol in SYMBOLS:
        expiries = _expiries(market, symbol, 35, 90)
        chain = market.chain(symbol, expiries, within=0.3)
        for n in range(min(per_symbol, count - len(chosen))):
            expiry = expiries[n % len(expiries)]
            delta = deltas[(n // len(expiries)) % len(deltas)]
            wing = WING_DOLLARS[symbol] * (1 + n % 3)
            legs = condor_legs(chain, expiry, delta, wing)
            quotes = market.quote([leg.contract for leg in legs])
            credit = -float(
                sum(leg.quantity * mid for leg, mid in zip(legs, quotes.mid, strict=True))
            )
            chosen.append(
                Strategy(
                    f"ic-{symbol.lower()}-{n + 1:04d}",
                    StrategyKind.IRON_CONDOR,
                    tuple(legs),
                    quantity=1 + n % 4,
                    status=StrategyStatus.OPEN,
                    entry_premium=round(credit, 4),
                    opened_at=market.now,
                )
            )
    return chosen


class _LegIndex:
    """Every leg of the book as arrays, so a step's quotes become rows without a loop."""

    def __init__(self, strategies: Sequence[Strategy], contracts: list[OptionContract]) -> None:
        position = {contract: i for i, contract in enumerate(contracts)}
        pairs = [(s.strategy_id, leg.contract) for s in strategies for leg in s.legs]
        self.legs = len(pairs)
        units = {s.strategy_id: s.quantity for s in strategies}
        self.leg_size = np.array(
            [
                leg.quantity * units[s.strategy_id] * leg.contract.multiplier
                for s in strategies
                for leg in s.legs
            ],
            dtype=np.float64,
        )
        self.credit = sum((s.entry_premium or 0.0) * s.quantity * s.multiplier for s in strategies)
        self.margin = sum(s.max_loss * s.quantity for s in strategies)
        self.leg_strategy = pa.array([sid for sid, _ in pairs], pa.string())
        self.leg_symbol = pa.array([c.occ_symbol for _, c in pairs], pa.string())
        self.leg_contract = np.array([position[c] for _, c in pairs], dtype=np.int64)
        self.occ = [c.occ_symbol for c in contracts]

    def snapshot_rows(self, q: QuoteBatch, at: datetime) -> pa.Table:
        pick = self.leg_contract
        mid = (q.bid + q.ask) / 2.0
        columns = {
            "trade_date": pa.array([trade_date(at)] * pick.size, pa.date32()),
            "at": pa.array([at] * pick.size, pa.timestamp("us", tz="UTC")),
            "strategy_id": self.leg_strategy,
            "occ_symbol": self.leg_symbol,
            "underlying_price": q.underlying_price[pick],
            "bid": q.bid[pick],
            "ask": q.ask[pick],
            "mark": mid[pick],
            "implied_vol": q.iv[pick],
            "delta": q.delta[pick],
            "gamma": q.gamma[pick],
            "theta": q.theta[pick],
            "vega": q.vega[pick],
            "rho": pa.nulls(pick.size, pa.float64()),
        }
        return pa.table(columns)

    def account(self, q: QuoteBatch, at: datetime) -> AccountSnapshot:
        """The account marked to the mids: the credits received plus what the legs are
        worth, on `STARTING_CASH`; defined-risk margin is the book's maximum loss."""
        value = float(np.dot(self.leg_size, ((q.bid + q.ask) / 2.0)[self.leg_contract]))
        unrealized = self.credit + value
        net_liquidation = STARTING_CASH + unrealized
        return AccountSnapshot(
            account=ACCOUNT,
            at=at,
            net_liquidation=net_liquidation,
            cash=STARTING_CASH + self.credit,
            buying_power=net_liquidation - self.margin,
            maintenance_margin=self.margin,
            unrealized_pnl=unrealized,
            realized_pnl=0.0,
        )

    def quotes_frame(self, q: QuoteBatch, at: datetime) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "occ_symbol": self.occ,
                "bid": q.bid,
                "ask": q.ask,
                "mark": (q.bid + q.ask) / 2.0,
                "iv": q.iv,
                "delta": q.delta,
                "gamma": q.gamma,
                "theta": q.theta,
                "vega": q.vega,
                "underlying_price": q.underlying_price,
                "mark_time": [at] * len(self.occ),
            },
            schema=QUOTES_SCHEMA,
        )
