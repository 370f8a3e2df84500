"""Measure the credit the default strategy templates collect, as a fraction of the wing width.

Usage: ``python tools/measure_template_credits.py [DATA_DIR]`` (default ../shared/data, or
$SHARED_DATA_DIR; only the real chains need it). About half a minute on one core.

Two tables, at short deltas 0.16 / 0.20 / 0.22 / 0.25 and $5 wings, for iron condors (IC),
bull puts (BP) and bear calls (BC):

1. the simulated chains: the real ``StrategyBuilder`` against the embedded simulated exchange
   at 10:00 New York on a calm, a crash and a bear-market day, SPY, QQQ and IWM, with no
   credit floor, so every build reports its credit at the mid (``-`` when the builder
   rejects it for another reason, e.g. a combo spread too wide);
2. the real Cboe chains of the shared data folder: on the expiry nearest 45 days, the strikes
   whose Cboe delta is nearest the target and the wing $5 beyond (for SPX, whose strikes are
   ten times SPY's, $50: the same fraction of the spot), credit at the mids (``-`` when that
   expiry lists no strike exactly a wing beyond the short one).

``v6.config.strategies.DEFAULT_TEMPLATES`` records the output and the choice it supports.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import polars as pl

from v6.brokers.pacing import PacedBroker, TokenBucket
from v6.brokers.sim import Simulation, open_simulation
from v6.clock import NEW_YORK
from v6.config.broker import BrokerConfig, SimConfig
from v6.config.execution import SelectionConfig
from v6.market.cboe import CboeChain, read_cboe_chain
from v6.market.simulated import SimulatedMarket
from v6.strategies.builders import StrategyBuilder, VerticalSpread
from v6.strategies.results import BuildResult, BuiltStrategy
from v6.strategies.selection import DteWindow, Wing

DAYS = {"calm 2019-06-12": date(2019, 6, 12), "crash 2020-03-16": date(2020, 3, 16),
        "bear 2022-06-16": date(2022, 6, 16)}  # fmt: skip
SYMBOLS = ("SPY", "QQQ", "IWM")
DELTAS = (0.16, 0.20, 0.22, 0.25)
WING = 5.0
WINDOW = DteWindow(45, 30, 60)
NO_FLOOR = 0.001
SPX_WING_SCALE = 10.0


@dataclass(frozen=True, slots=True)
class Structure:
    """One column of the tables: a kind of strategy and its short delta."""

    kind: str
    delta: float

    @property
    def label(self) -> str:
        return f"{KIND_LABELS[self.kind]} {self.delta:.2f}"


KIND_LABELS = {"condor": "IC", "bull put": "BP", "bear call": "BC"}
STRUCTURES = tuple(Structure(k, d) for k in ("condor", "bull put", "bear call") for d in DELTAS)


async def build(builder: StrategyBuilder, structure: Structure, symbol: str) -> BuildResult:
    wing = Wing(width=WING)
    if structure.kind == "condor":
        return await builder.iron_condor(
            "m", symbol, short_delta=structure.delta, wing=wing, dte=WINDOW,
            min_credit_fraction=NO_FLOOR,
        )  # fmt: skip
    spread = VerticalSpread.BULL_PUT if structure.kind == "bull put" else VerticalSpread.BEAR_CALL
    return await builder.vertical(
        "m", symbol, spread, delta=structure.delta, wing=wing, dte=WINDOW,
        min_credit_fraction=NO_FLOOR,
    )  # fmt: skip


def credit_fraction(result: BuildResult) -> float | None:
    """Credit at the mid over the widest wing; None for a rejection."""
    if not isinstance(result, BuiltStrategy):
        return None
    strikes = sorted(float(leg.contract.strike) for leg in result.strategy.legs)
    puts_and_calls = zip(strikes[::2], strikes[1::2], strict=True)
    width = max(high - low for low, high in puts_and_calls)
    return -result.mid_price / width


async def at_ten(day: date) -> Simulation:
    config = SimConfig(symbols=SYMBOLS, start_date=day, end_date=day, bar_step_minutes=5)
    sim = open_simulation(SimulatedMarket(config), BrokerConfig(sim=config))
    await sim.broker.connect()
    await sim.clock.sleep_until(datetime(day.year, day.month, day.day, 10, tzinfo=NEW_YORK))
    return sim


async def simulated_row(day: date, symbol: str) -> list[float | None]:
    sim = await at_ten(day)
    paced = PacedBroker(sim.broker, TokenBucket(45.0, 4, sim.clock.now()), sim.clock)
    builder = StrategyBuilder(paced, sim.clock, SelectionConfig())
    row = [credit_fraction(await build(builder, s, symbol)) for s in STRUCTURES]
    await sim.broker.disconnect()
    return row


def cboe_row(chain: CboeChain, quote_day: date, wing: float) -> list[float | None]:
    """The credit fractions of the structures on the expiry nearest 45 days of a real chain."""
    options = chain.options.filter((pl.col("bid") > 0) & (pl.col("ask") > 0))
    expiry = min(
        options.get_column("expiry").unique().to_list(),
        key=lambda e: abs((e - quote_day).days - WINDOW.target),
    )
    side = options.filter(pl.col("expiry") == expiry).with_columns(
        mid=(pl.col("bid") + pl.col("ask")) / 2
    )
    row: list[float | None] = []
    for structure in STRUCTURES:
        rights = {"condor": "PC", "bull put": "P", "bear call": "C"}[structure.kind]
        credits = [_vertical_credit(side, right, structure.delta, wing) for right in rights]
        row.append(None if None in credits else sum(c for c in credits if c is not None) / wing)
    return row


def _vertical_credit(side: pl.DataFrame, right: str, delta: float, wing: float) -> float | None:
    """Short at the Cboe delta nearest ``delta``, long ``wing`` dollars further out."""
    quotes = side.filter(pl.col("right") == right)
    short = quotes.sort((pl.col("delta").abs() - delta).abs()).row(0, named=True)
    out = -1.0 if right == "P" else 1.0
    long = quotes.filter(pl.col("strike") == short["strike"] + out * wing)
    if long.is_empty():
        return None
    return float(short["mid"]) - float(long.get_column("mid")[0])


def print_table(title: str, rows: Sequence[tuple[str, list[float | None]]]) -> None:
    print(f"\n{title}")
    print(f"{'':27}" + "".join(f"{s.label:>9}" for s in STRUCTURES))
    for name, row in rows:
        cells = "".join(f"{'-' if f is None else f'{f:.2f}':>9}" for f in row)
        print(f"{name:27}{cells}")


def simulated_table() -> list[tuple[str, list[float | None]]]:
    return [
        (f"{label} {symbol}", asyncio.run(simulated_row(day, symbol)))
        for label, day in DAYS.items()
        for symbol in SYMBOLS
    ]


def cboe_table(folder: Path) -> list[tuple[str, list[float | None]]]:
    rows = []
    for path in sorted((folder / "options").glob("*.csv")):
        root, day = path.stem.split("_")
        wing = WING * (SPX_WING_SCALE if root == "SPX" else 1.0)
        row = cboe_row(read_cboe_chain(path), date.fromisoformat(day), wing)
        rows.append((f"{path.stem} (${wing:.0f} wing)", row))
    return rows


def main(argv: list[str]) -> None:
    default = os.environ.get("SHARED_DATA_DIR", str(Path(__file__).parents[2] / "shared" / "data"))
    folder = Path(argv[1] if len(argv) > 1 else default)
    print(f"credit at the mid / wing width; ${WING:.0f} wings, DTE nearest {WINDOW.target}")
    print_table("simulated chains (StrategyBuilder on the embedded exchange, 10:00)",
                simulated_table())  # fmt: skip
    if (folder / "options").is_dir():
        print_table("real Cboe chains (nearest Cboe delta)", cboe_table(folder))
    else:
        print(f"\nno options/ folder under {folder}: real chains skipped")


if __name__ == "__main__":
    main(sys.argv)
