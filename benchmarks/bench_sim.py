"""Speed of the simulated market: steps per second and whole-chain pricing, against peers.

Run: ``.venv/bin/python benchmarks/bench_sim.py``

The market replays SPY, QQQ and IWM over a window of real sessions at 5-minute steps. A
"step" is what the exchange does each step: ``advance()``, read the three spots and quote the
subscribed contracts (10 per underlying: 5 strikes around the money, call and put, on an
expiry past the window). Chains are built lazily: once per session the first 8 expirations
of each underlying and their strikes are listed (as a strategy scanning for entries would),
but only the subscribed contracts are priced. Peers measured in the same run:

- whole chain per step: the same walk, pricing every listed option of the 8 expirations
  within +-30 % of spot for all three underlyings at every step;
- per-contract loop: the same walk, quoting the 30 subscribed contracts one call each.

Then one full chain (8 expirations, strikes within +-30 %, calls and puts, with Greeks and
quotes) is timed on its own, against a plain Python loop calling the pricer per option.
Figures are the best of several repeats, on one core.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from datetime import date  # noqa: E402

from v6.config.broker import SimConfig  # noqa: E402
from v6.domain import OptionContract, Right  # noqa: E402
from v6.market.simulated import SimulatedMarket  # noqa: E402
from v6.pricing import bsm_price_greeks  # noqa: E402

SYMBOLS = ("SPY", "QQQ", "IWM")
CONFIG = SimConfig(symbols=SYMBOLS, start_date=date(2024, 1, 2), end_date=date(2024, 3, 28))
CHAIN_EXPIRATIONS = 8
WITHIN = 0.30
STRIKES_PER_SIDE = 5
STEPS = 2_000
PEER_STEPS = 200
CHAIN_REPEATS = 200
REPEATS = 3


def subscribed(market: SimulatedMarket) -> list[OptionContract]:
    """10 contracts per underlying: 5 strikes around the money, call and put, ~3 months out."""
    contracts = []
    for symbol in SYMBOLS:
        expiry = next(e for e in market.expirations(symbol) if e > CONFIG.end_date)
        strikes = market.strikes(symbol, expiry)
        spot = market.spot(symbol)
        nearest = sorted(strikes, key=lambda k: abs(k - spot))[:STRIKES_PER_SIDE]
        contracts += [OptionContract(symbol, expiry, k, r) for k in nearest for r in Right]
    return contracts


def list_chains(market: SimulatedMarket) -> None:
    for symbol in SYMBOLS:
        for expiry in market.expirations(symbol)[:CHAIN_EXPIRATIONS]:
            market.strikes(symbol, expiry)


def walk(steps: int, on_step: Callable[[SimulatedMarket], None]) -> float:
    """Seconds per step over ``steps`` steps from the window's start (best of REPEATS)."""
    best = float("inf")
    for _ in range(REPEATS):
        market = SimulatedMarket(CONFIG)
        on_step(market)
        session = market.session
        started = time.perf_counter()
        for _ in range(steps):
            market.advance()
            if market.session != session:
                session = market.session
                list_chains(market)
            for symbol in SYMBOLS:
                market.spot(symbol)
            on_step(market)
        best = min(best, (time.perf_counter() - started) / steps)
    return best


def lazy_step(contracts: Sequence[OptionContract]) -> Callable[[SimulatedMarket], None]:
    def step(market: SimulatedMarket) -> None:
        market.quote(contracts)

    return step


def per_contract_step(contracts: Sequence[OptionContract]) -> Callable[[SimulatedMarket], None]:
    def step(market: SimulatedMarket) -> None:
        for contract in contracts:
            market.quote([contract])

    return step


def whole_chain_step(market: SimulatedMarket) -> None:
    for symbol in SYMBOLS:
        expiries = market.expirations(symbol)[:CHAIN_EXPIRATIONS]
        market.chain(symbol, expiries, within=WITHIN)


def time_chain(market: SimulatedMarket) -> tuple[float, int]:
    expiries = market.expirations("SPY")[:CHAIN_EXPIRATIONS]
    market.chain("SPY", expiries, within=WITHIN)
    best = float("inf")
    for _ in range(REPEATS):
        started = time.perf_counter()
        for _ in range(CHAIN_REPEATS):
            chain = market.chain("SPY", expiries, within=WITHIN)
        best = min(best, (time.perf_counter() - started) / CHAIN_REPEATS)
    return best, len(chain.strike)


def time_scalar_chain(market: SimulatedMarket) -> float:
    """The same chain priced one option per pricer call (vol, rate and spot from the chain)."""
    expiries = market.expirations("SPY")[:CHAIN_EXPIRATIONS]
    chain = market.chain("SPY", expiries, within=WITHIN)
    spot, rate = market.spot("SPY"), market.rate
    rows = zip(chain.strike.tolist(), chain.is_call.tolist(), chain.quotes.iv.tolist(), strict=True)
    years = 0.1
    started = time.perf_counter()
    for strike, is_call, vol in rows:
        bsm_price_greeks(spot, strike, years, rate, 0.0, vol, is_call)
    return time.perf_counter() - started


def main() -> None:
    market = SimulatedMarket(CONFIG)
    contracts = subscribed(market)
    lazy = walk(STEPS, lazy_step(contracts))
    per_contract = walk(PEER_STEPS, per_contract_step(contracts))
    whole = walk(PEER_STEPS, whole_chain_step)
    chain_seconds, chain_size = time_chain(market)
    scalar_seconds = time_scalar_chain(market)

    print(f"market steps, {len(SYMBOLS)} underlyings, {len(contracts)} subscribed contracts,")
    print(f"  chains listed lazily ({CHAIN_EXPIRATIONS} expirations each, once per session):")
    print(f"  lazy (this design)      {1 / lazy:10,.0f} steps/s   {lazy * 1e6:8.1f} us/step")
    print(
        f"  per-contract quote loop {1 / per_contract:10,.0f} steps/s   "
        f"{per_contract * 1e6:8.1f} us/step   lazy is {per_contract / lazy:5.1f}x faster"
    )
    print(
        f"  whole chains each step  {1 / whole:10,.0f} steps/s   "
        f"{whole * 1e6:8.1f} us/step   lazy is {whole / lazy:5.1f}x faster"
    )
    print(f"  target >= 2,000 steps/s: {'met' if 1 / lazy >= 2_000 else 'NOT met'}")
    print(f"full SPY chain: {chain_size} options ({CHAIN_EXPIRATIONS} expirations, +-30 %)")
    print(
        f"  vectorized quotes + Greeks {chain_seconds * 1e3:8.3f} ms"
        f"   target <= 2 ms: {'met' if chain_seconds <= 0.002 else 'NOT met'}"
    )
    print(
        f"  scalar pricer loop         {scalar_seconds * 1e3:8.3f} ms"
        f"   vectorized is {scalar_seconds / chain_seconds:5.1f}x faster"
    )


if __name__ == "__main__":
    main()
