"""Helpers for the simulated exchange's tests: a tiny deterministic market and shortcuts.

``FakeMarket`` steps through real NYSE sessions (open to close, ``step_minutes`` apart) like
the real ``SimulatedMarket``, but its prices are scripted: every option is quoted at
intrinsic value + ``extrinsic`` with a ``half_spread`` either side unless a test pins its
quote in ``overrides``; spots are whatever a test sets in ``spots``.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from v6.brokers import BrokerEvent, EventStream, OrderLeg, OrderSpec
from v6.brokers.sim import Simulation, open_simulation
from v6.clock import NEW_YORK
from v6.config.broker import BrokerConfig, FaultInjectionConfig, SimConfig
from v6.domain import OptionContract, Right
from v6.market.calendar import nyse_calendar
from v6.market.quotes import QuoteBatch

T = TypeVar("T")
MONDAY = date(2020, 3, 16)
FRIDAY = date(2020, 3, 20)
NEXT_MONTH = date(2020, 4, 17)
STEP_MINUTES = 30


@dataclass
class PinnedQuote:
    bid: float
    ask: float
    bid_size: int = 50
    ask_size: int = 50


@dataclass
class FakeMarket:
    start: date = MONDAY
    end: date = FRIDAY
    symbols: tuple[str, ...] = ("SPY",)
    step_minutes: int = STEP_MINUTES
    expiries: tuple[date, ...] = (FRIDAY, NEXT_MONTH)
    strike_grid: tuple[float, ...] = tuple(float(k) for k in range(300, 501, 5))
    extrinsic: float = 1.0
    half_spread: float = 0.05
    size: int = 50
    spots: dict[str, float] = field(default_factory=dict)
    spot_of: Callable[[datetime], float] | None = None
    """When set, every symbol's spot is this function of the time (survives ``seek``)."""
    overrides: dict[OptionContract, PinnedQuote] = field(default_factory=dict)

    def __post_init__(self) -> None:
        calendar = nyse_calendar()
        step = timedelta(minutes=self.step_minutes)
        self.times: list[datetime] = []
        for day in calendar.sessions(self.start, self.end).to_list():
            moment, close = calendar.session_open(day), calendar.session_close(day)
            while moment <= close:
                self.times.append(moment)
                moment += step
        self.index = 0
        for symbol in self.symbols:
            self.spots.setdefault(symbol, 400.0)

    @property
    def now(self) -> datetime:
        return self.times[self.index]

    def spot(self, symbol: str) -> float:
        return self.spots[symbol] if self.spot_of is None else self.spot_of(self.now)

    def expirations(self, symbol: str) -> tuple[date, ...]:
        today = self.now.astimezone(NEW_YORK).date()
        return tuple(e for e in self.expiries if e >= today)

    def strikes(self, symbol: str, expiry: date) -> tuple[float, ...]:
        return self.strike_grid if expiry in self.expirations(symbol) else ()

    def advance(self) -> bool:
        if self.index + 1 >= len(self.times):
            return False
        self.index += 1
        return True

    def seek(self, time: datetime) -> None:
        self.index = max(i for i, t in enumerate(self.times) if t <= time)

    def quote(self, contracts: Sequence[OptionContract]) -> QuoteBatch:
        rows = [self._row(contract) for contract in contracts]
        column = np.array(rows, dtype=np.float64).reshape(len(rows), 5)
        count = len(rows)
        return QuoteBatch(
            time=self.now,
            bid=column[:, 0],
            ask=column[:, 1],
            last=(column[:, 0] + column[:, 1]) / 2,
            bid_size=column[:, 2].astype(np.int64),
            ask_size=column[:, 3].astype(np.int64),
            iv=np.full(count, 0.2),
            delta=np.full(count, 0.5),
            gamma=np.full(count, 0.01),
            theta=np.full(count, -36.5),
            vega=np.full(count, 30.0),
            underlying_price=column[:, 4],
        )

    def _row(self, contract: OptionContract) -> tuple[float, float, int, int, float]:
        spot = self.spot(contract.underlying) if contract.underlying in self.symbols else math.nan
        pinned = self.overrides.get(contract)
        if pinned is not None:
            return pinned.bid, pinned.ask, pinned.bid_size, pinned.ask_size, spot
        listed = float(contract.strike) in self.strikes(contract.underlying, contract.expiry)
        if not listed:
            return math.nan, math.nan, 0, 0, spot
        mid = contract.intrinsic(spot) + self.extrinsic
        bid = round(mid - self.half_spread, 2)
        ask = round(mid + self.half_spread, 2)
        return bid, ask, self.size, self.size, spot


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def sim_config(**changes: Any) -> BrokerConfig:
    """A broker configuration for the fake market (seed, faults and limits adjustable)."""
    faults = changes.pop("faults", FaultInjectionConfig())
    broker_fields = {
        key: changes.pop(key)
        for key in ("market_data_lines", "pacing_messages_per_second")
        if key in changes
    }
    sim = SimConfig(
        seed=changes.pop("seed", 7),
        symbols=changes.pop("symbols", ("SPY",)),
        start_date=MONDAY,
        end_date=FRIDAY,
        bar_step_minutes=STEP_MINUTES,
        starting_cash=changes.pop("starting_cash", 100_000.0),
        faults=faults,
    )
    assert not changes, f"unknown sim_config changes {changes}"
    return BrokerConfig(sim=sim, **broker_fields)


def open_fake(
    market: FakeMarket | None = None,
    *,
    data_dir: Path | None = None,
    dividends: dict[str, dict[date, float]] | None = None,
    **config: Any,
) -> tuple[Simulation, FakeMarket]:
    market = market if market is not None else FakeMarket()
    sim = open_simulation(
        market,
        sim_config(**config),
        data_dir=data_dir,
        dividends=dividends if dividends is not None else {},
    )
    return sim, market


def put(strike: float, expiry: date = FRIDAY, symbol: str = "SPY") -> OptionContract:
    return OptionContract(symbol, expiry, strike, Right.PUT)


def call(strike: float, expiry: date = FRIDAY, symbol: str = "SPY") -> OptionContract:
    return OptionContract(symbol, expiry, strike, Right.CALL)


def single(
    contract: OptionContract, ratio: int, quantity: int, price: float, **kw: Any
) -> OrderSpec:
    return OrderSpec((OrderLeg(contract, ratio),), quantity, limit_price=price, **kw)


def events_of(stream: EventStream, kind: type[T]) -> list[T]:
    return [event for event in stream.drain() if isinstance(event, kind)]


def of_kind(events: Sequence[BrokerEvent], kind: type[T]) -> list[T]:
    return [event for event in events if isinstance(event, kind)]


async def step(sim: Simulation, count: int = 1) -> None:
    """Let ``count`` market steps pass on the simulated clock."""
    for _ in range(count):
        await sim.clock.sleep(STEP_MINUTES * 60)
