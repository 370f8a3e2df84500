"""Per-call cost of the simulated exchange (journal included), against the market's pricing.

Run: ``.venv/bin/python benchmarks/bench_sim_exchange.py``

The exchange replays SPY, QQQ and IWM at 5-minute steps with its journal in a temporary
directory, holding what a quiet engine leaves it: a long put per underlying (bought at the
start) and a resting iron condor per underlying (priced and matched every step, never
filled). Timed per call, best of several repeats, on one core:

- snapshot: quotes of 30 contracts already priced at this step (what the engine's sync asks
  for again and again between steps: the exchange's own overhead);
- clock advance: the clock moves one second without crossing a market step (the engine's
  wait between cycles);
- market step: one 5-minute step (pricing what is in play, matching, journaling; from a
  session's close, the next session's open).

The peer, measured in the same run, is the market quoting the same 30 contracts in one call
(the pricing kernel): each figure is printed as a multiple of it.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from datetime import date, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402

from v6.brokers.sim.exchange import SimExchange  # noqa: E402
from v6.brokers.sim.journal import Journal  # noqa: E402
from v6.brokers.types import OrderLeg, OrderSpec, TimeInForce  # noqa: E402
from v6.config.broker import SimConfig  # noqa: E402
from v6.domain import OptionContract, Right  # noqa: E402
from v6.market.simulated import SimulatedMarket  # noqa: E402

SYMBOLS = ("SPY", "QQQ", "IWM")
CONFIG = SimConfig(symbols=SYMBOLS, start_date=date(2024, 1, 2), end_date=date(2024, 3, 28))
STRIKES_PER_SIDE = 5
CALLS = 2_000
CLOCK_ADVANCES = 250
"""Fewer than the 300 seconds of a step: the timed advances never cross one."""
STEPS = 300
REPEATS = 3


def near_the_money(market: SimulatedMarket, symbol: str) -> tuple[date, list[float]]:
    """The first expiry a month out and its strikes, nearest the spot first."""
    today = market.now.date()
    expiry = next(e for e in market.expirations(symbol) if e >= today + timedelta(days=30))
    spot = market.spot(symbol)
    return expiry, sorted(market.strikes(symbol, expiry), key=lambda k: abs(k - spot))


def quoted(market: SimulatedMarket) -> list[OptionContract]:
    """10 contracts per underlying: the 5 strikes nearest the money, call and put."""
    contracts = []
    for symbol in SYMBOLS:
        expiry, strikes = near_the_money(market, symbol)
        for strike in strikes[:STRIKES_PER_SIDE]:
            contracts += [OptionContract(symbol, expiry, strike, right) for right in Right]
    return contracts


def trade(exchange: SimExchange, market: SimulatedMarket) -> None:
    """Buy a put per underlying at a marketable limit; rest a condor asking a huge credit."""
    for symbol in SYMBOLS:
        expiry, by_distance = near_the_money(market, symbol)
        spot = market.spot(symbol)
        below = sorted(k for k in by_distance[:40] if k < spot)
        above = sorted(k for k in by_distance[:40] if k > spot)
        put = OptionContract(symbol, expiry, below[-1], Right.PUT)
        ask = exchange.snapshot([put])[0].ask
        exchange.place_order(OrderSpec((OrderLeg(put, 1),), 1, limit_price=round(ask + 0.5, 2)))
        condor = (
            OrderLeg(OptionContract(symbol, expiry, below[-6], Right.PUT), 1),
            OrderLeg(OptionContract(symbol, expiry, below[-3], Right.PUT), -1),
            OrderLeg(OptionContract(symbol, expiry, above[2], Right.CALL), -1),
            OrderLeg(OptionContract(symbol, expiry, above[5], Right.CALL), 1),
        )
        exchange.place_order(OrderSpec(condor, 1, limit_price=-9.0, tif=TimeInForce.GTC))


def opened(directory: Path) -> tuple[SimExchange, SimulatedMarket]:
    """The exchange one hour into its first session, with its positions and resting orders."""
    market = SimulatedMarket(CONFIG)
    exchange = SimExchange(market, CONFIG, journal=Journal(directory))
    exchange.advance_to(exchange.now, skip_idle=True)
    trade(exchange, market)
    exchange.advance_to(exchange.now + timedelta(hours=1))
    return exchange, market


def per_call(calls: int, action: Callable[[], object]) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        action()
    return (time.perf_counter() - started) / calls


def best(measure: Callable[[], float]) -> float:
    return min(measure() for _ in range(REPEATS))


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        exchange, market = opened(Path(directory))
        contracts = quoted(market)
        exchange.snapshot(contracts)
        kernel = best(lambda: per_call(CALLS, lambda: market.quote(contracts)))
        snapshot = best(lambda: per_call(CALLS, lambda: exchange.snapshot(contracts)))

        def advance_clock() -> float:
            exchange.advance_to(exchange.now + timedelta(minutes=5))
            second = timedelta(seconds=1)
            return per_call(CLOCK_ADVANCES, lambda: exchange.advance_to(exchange.now + second))

        clock = best(advance_clock)

        def next_step() -> object:
            return exchange.advance_to(exchange.now + timedelta(minutes=5), skip_idle=True)

        market_step = best(lambda: per_call(STEPS, next_step))
        held = len(exchange.positions())
        working = len(exchange.open_orders())
        exchange.close()
    print(f"exchange: {held} positions, {working} working orders, journal on")
    print(f"peer: market quote of {len(contracts)} contracts  {kernel * 1e6:8.1f} us   1.00x")
    for name, seconds in (
        (f"snapshot of {len(contracts)} priced contracts", snapshot),
        ("clock advance within a step", clock),
        ("one 5-minute market step", market_step),
    ):
        print(f"{name:<40} {seconds * 1e6:8.1f} us {seconds / kernel:6.2f}x")


if __name__ == "__main__":
    main()
