"""Books of credit spreads for the sync tests and benchmark, opened at the simulated exchange.

`spread_book` picks out-of-the-money options of the simulated market at its current step -
puts below and calls above the spot, |delta| at most ``max_delta``, at least ``min_dte`` days
out, on whole-dollar strikes - and pairs them, nearest the money first, into iron condors
(a put pair and a call pair), bull put and bear call verticals, every contract in one
strategy only. Strategies are taken round-robin over the chains until the book holds the
requested number of contracts, each OPEN at its mid-price credit. `open_at_exchange` books
those positions directly on the simulated account (no orders: a 5,000-contract book in
milliseconds). `run_cycles` is the engine's loop as far as sync is concerned.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from v6.brokers.sim import SimExchange
from v6.clock import NEW_YORK, Clock
from v6.domain import Leg, OptionContract, Right, Strategy, StrategyKind, StrategyStatus
from v6.market.simulated import SimulatedMarket
from v6.store import Store
from v6.sync import PositionSync, SyncCycle


@dataclass(frozen=True)
class Priced:
    contract: OptionContract
    mid: float


def _chain(
    market: SimulatedMarket, symbol: str, expiry_index: int, max_delta: float
) -> tuple[list[Priced], list[Priced]]:
    expiry = market.expirations(symbol)[expiry_index]
    listed = market.strikes(symbol, expiry)
    spot = market.spot(symbol)
    strikes = range(int(min(listed)) + 1, int(max(listed)))
    puts = [OptionContract(symbol, expiry, k, Right.PUT) for k in strikes if k < spot]
    calls = [OptionContract(symbol, expiry, k, Right.CALL) for k in strikes if k > spot]
    sides = []
    for contracts, nearest_first in ((puts, True), (calls, False)):
        batch = market.quote(contracts)
        good = [
            Priced(c, float(bid + ask) / 2)
            for c, delta, bid, ask in zip(contracts, batch.delta, batch.bid, batch.ask, strict=True)
            if abs(delta) <= max_delta and bid >= 0.05
        ]
        sides.append(sorted(good, key=lambda p: p.contract.strike, reverse=nearest_first))
    return sides[0], sides[1]


def _pairs(side: list[Priced]) -> list[tuple[Priced, Priced]]:
    """(short, long) pairs, nearest the money first: the short is nearer the money."""
    return [(side[i], side[i + 1]) for i in range(0, len(side) - 1, 2)]


def _strategies(
    puts: list[Priced], calls: list[Priced]
) -> Iterator[tuple[StrategyKind, list[tuple[Priced, Priced]]]]:
    put_pairs, call_pairs = _pairs(puts), _pairs(calls)
    for put_pair, call_pair in zip(put_pairs, call_pairs, strict=False):
        yield StrategyKind.IRON_CONDOR, [put_pair, call_pair]
    rest = put_pairs[len(call_pairs) :] + call_pairs[len(put_pairs) :]
    for pair in rest:
        yield StrategyKind.VERTICAL, [pair]


def spread_book(
    market: SimulatedMarket,
    contracts: int,
    *,
    min_dte: int = 28,
    max_delta: float = 0.20,
    units: int = 1,
) -> list[Strategy]:
    """OPEN credit spreads holding ``contracts`` distinct contracts (or all there are)."""
    today = market.now.astimezone(NEW_YORK).date()
    chains = []
    for symbol in market.symbols:
        for index, expiry in enumerate(market.expirations(symbol)):
            if (expiry - today).days >= min_dte:
                puts, calls = _chain(market, symbol, index, max_delta)
                chains.append(_strategies(puts, calls))
    book: list[Strategy] = []
    held = 0
    for kind, pairs in _round_robin(chains):
        if held >= contracts:
            break
        legs = [
            leg for short, long in pairs for leg in (Leg(short.contract, -1), Leg(long.contract, 1))
        ]
        credit = sum(short.mid - long.mid for short, long in pairs)
        book.append(
            Strategy(
                strategy_id=f"{kind.value}-{len(book):05d}",
                kind=kind,
                legs=tuple(legs),
                quantity=units,
                status=StrategyStatus.OPEN,
                entry_premium=round(credit, 4),
                opened_at=market.now,
            )
        )
        held += len(legs)
    return book


def _round_robin(
    chains: Sequence[Iterator[tuple[StrategyKind, list[tuple[Priced, Priced]]]]],
) -> Iterator[tuple[StrategyKind, list[tuple[Priced, Priced]]]]:
    sentinel = object()
    for row in itertools.zip_longest(*chains, fillvalue=sentinel):
        for item in row:
            if item is not sentinel:
                yield item  # type: ignore[misc]


def open_at_exchange(exchange: SimExchange, strategies: Sequence[Strategy]) -> None:
    """Book every strategy's positions on the simulated account at the current mids."""
    account = exchange.state.account
    exchange.prices.add(leg.contract for strategy in strategies for leg in strategy.legs)
    for strategy in strategies:
        for leg in strategy.legs:
            mid = exchange.prices.mark(leg.contract)
            account.trade(leg.contract, leg.quantity * strategy.quantity, mid, 0.0)


def near_take_profit(strategies: Sequence[Strategy], every: int) -> list[Strategy]:
    """Every ``every``-th strategy re-priced so that it sits near its profit target: an entry
    credit of the current credit / 0.51 means 49% of max profit captured (target 50%)."""
    return [
        dataclasses.replace(s, entry_premium=round((s.entry_premium or 0.0) / 0.51, 4))
        if index % every == 0
        else s
        for index, s in enumerate(strategies)
    ]


CycleHook = Callable[[SyncCycle], None]


async def run_cycles(
    sync: PositionSync,
    clock: Clock,
    store: Store,
    strategies: Sequence[Strategy],
    until: datetime,
    *,
    every: timedelta = timedelta(seconds=5),
    on_cycle: CycleHook | None = None,
) -> list[Strategy]:
    """The engine's loop as far as sync goes: a cycle, a flush if due, then the queue
    worker until the next cycle. Returns the strategies after the last cycle."""
    live = list(strategies)
    while clock.now() < until:
        result = await sync.cycle(live)
        live = list(result.strategies)
        if on_cycle is not None:
            on_cycle(result)
        store.flush_if_due()
        await sync.run_until(min(clock.now() + every, until))
    return live
