"""The simulated market: real days replayed step by step, option chains priced on demand.

`SimulatedMarket` implements `v6.market.quotes.MarketView`. It walks the sessions of a window
in steps of ``bar_step_minutes`` from each open to each close (half days end at 13:00 New
York); at each step every underlying sits on its intraday path (``v6.market.paths``) and any
option is priced from:

- the escrowed spot ``S - PV(dividends going ex after today, on or before the expiry)``
  (``v6.market.dividends``), with no dividend yield;
- the session's continuous T-bill rate, flat across maturities (``v6.market.daily``);
- the volatility surface (``v6.market.surface``) at the VIX of the moment (interpolated from
  the session's VIX open to its close) scaled by the underlying's realized-vol ratio to SPY,
  at log-moneyness against the forward ``S_escrowed e^(rT)``;
- European Black-Scholes-Merton (``v6.pricing``): SPY/QQQ/IWM options are American, but with
  the dividends escrowed the early-exercise premium of the short maturities traded is small;
  early assignment is the exchange's to model;
- bid/ask, ticks and sizes from ``v6.market.spreads``.

Time to expiry is calendar time to the expiry session's close, in years of 365 days.

Nothing is computed before it is asked for: a session's paths and inputs when the clock
enters it, its expirations and each expiry's strikes and dividends on first request (cached
for the session), and prices only for the contracts requested. Every value is a function of
(seed, time, contract), so `seek` or a fresh market `at` a time gives the same quotes as
walking there, and a quote does not depend on the other contracts in its batch.
"""

from __future__ import annotations

import bisect
import functools
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import numpy.typing as npt

from v6.config.broker import SimConfig
from v6.domain import OptionContract
from v6.market.calendar import TradingCalendar, nyse_calendar
from v6.market.daily import SessionInputs, daily_bar, session_inputs, vol_ratio
from v6.market.dividends import Dividend, dividend_schedule
from v6.market.expirations import is_listed_strike, listed_expirations, strike_grid
from v6.market.history import available_symbols
from v6.market.paths import intraday_path
from v6.market.quotes import FloatArray, QuoteBatch
from v6.market.spreads import (
    FITTED_SPREADS,
    SpreadModel,
    last_price,
    mean_size,
    mix_keys,
    quote_sides,
    quote_sizes,
)
from v6.market.surface import FITTED_SURFACE, VolSurface
from v6.pricing import bsm_price_greeks

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
UIntArray = npt.NDArray[np.uint64]

_MICROS_PER_YEAR = 365.0 * 86_400.0 * 1e6
_SIDE_SALTS = np.array([[0xB1D], [0xA5C]], dtype=np.uint64)
"""Salts of the bid and ask sizes' keys, as a column: both sides are drawn in one pass."""
_CONTRACT_CACHE = 65_536


@dataclass(frozen=True, slots=True)
class ChainQuotes:
    """Quotes of a whole chain, element-wise aligned: one row per (expiry, strike, right)."""

    symbol: str
    expiry: tuple[date, ...]
    strike: FloatArray
    is_call: BoolArray
    quotes: QuoteBatch


def _epoch_micros(moment: datetime) -> int:
    return round(moment.timestamp() * 1e6)


def _slice_key(symbol: str, expiry: date) -> int:
    return (zlib.crc32(symbol.encode()) << 32) | expiry.toordinal()


def _option_keys(slice_key: UIntArray, strike: FloatArray, is_call: BoolArray) -> UIntArray:
    """A 64-bit identity per option (symbol, expiry, strike, right), the same however built."""
    thousandths = np.round(strike * 1000.0).astype(np.uint64)
    right = is_call.astype(np.uint64)
    return mix_keys(slice_key ^ (thousandths << np.uint64(1)) ^ right, 0)


@dataclass(frozen=True, slots=True)
class _Contract:
    """What pricing needs from an OptionContract, cached per contract."""

    symbol: str
    expiry: date
    strike: float
    is_call: bool
    whole_dollar: bool
    key: int
    """The option's 64-bit identity (``_option_keys``), which its quote sizes are drawn from."""


@functools.lru_cache(maxsize=_CONTRACT_CACHE)
def _contract(contract: OptionContract) -> _Contract:
    strike = float(contract.strike)
    symbol, expiry, is_call = contract.underlying, contract.expiry, contract.is_call
    key = _option_keys(
        np.array([_slice_key(symbol, expiry)], dtype=np.uint64),
        np.array([strike]),
        np.array([is_call]),
    )
    return _Contract(symbol, expiry, strike, is_call, bool(is_listed_strike(strike)), int(key[0]))


@dataclass
class _Session:
    """One session of the walk: its steps, inputs and paths, and what was built on request."""

    day: date
    times: tuple[datetime, ...]
    inputs: SessionInputs
    paths: dict[str, FloatArray]
    scales: dict[str, float]
    expirations: tuple[date, ...]
    expiry_close: dict[date, int]
    """Epoch microseconds of each listed expiry's close."""
    strikes: dict[tuple[str, date], tuple[float, ...]] = field(default_factory=dict)
    dividends: dict[tuple[str, date], tuple[FloatArray, FloatArray]] = field(default_factory=dict)
    """(amounts, epoch microseconds of the ex-date opens) per (symbol, expiry)."""


@dataclass(frozen=True, slots=True)
class _Slices:
    """Per (symbol, expiry) inputs at the current step; options point into them by index."""

    years: FloatArray
    spot: FloatArray
    escrowed: FloatArray
    scale: FloatArray
    listed: BoolArray


@dataclass(frozen=True, slots=True)
class _Options:
    """The options to price, element-wise aligned; ``index`` points into the `_Slices`."""

    index: IntArray
    strike: FloatArray
    is_call: BoolArray
    whole_dollar: BoolArray
    key: UIntArray


class SimulatedMarket:
    """Real history of ``config.symbols`` replayed over ``config.start_date..end_date``.

    Starts at the first step (the first session's open). ``advance`` moves one step;
    ``seek`` jumps to any time in the window; ``at`` makes an independent market at a time.
    """

    def __init__(
        self,
        config: SimConfig,
        *,
        surface: VolSurface = FITTED_SURFACE,
        spreads: SpreadModel = FITTED_SPREADS,
        calendar: TradingCalendar | None = None,
    ) -> None:
        self._config = config
        self._surface = surface
        self._spreads = spreads
        self._calendar = calendar or nyse_calendar()
        self._symbols = _check_symbols(config.symbols)
        self._sessions: list[date] = self._calendar.sessions(
            config.start_date, config.end_date
        ).to_list()
        if not self._sessions:
            raise ValueError(
                f"sim window {config.start_date}..{config.end_date} holds no NYSE session"
            )
        self._check_history_covers_window()
        self._opens = [self._calendar.session_open(day) for day in self._sessions]
        self._session_index = 0
        self._step = 0
        self._current = self._build_session(self._sessions[0])

    # -- the clock -------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        return self._current.times[self._step]

    @property
    def session(self) -> date:
        return self._current.day

    @property
    def step_index(self) -> int:
        """The step within the session: 0 at the open."""
        return self._step

    @property
    def session_times(self) -> tuple[datetime, ...]:
        """Every step time of the current session, open to close (UTC)."""
        return self._current.times

    @property
    def is_session_close(self) -> bool:
        """True at the session's last step (the close: settlement prices)."""
        return self._step == len(self._current.times) - 1

    def advance(self) -> bool:
        """Move to the next step (over the night to the next open); False at the window's end."""
        if not self.is_session_close:
            self._step += 1
            return True
        if self._session_index + 1 == len(self._sessions):
            return False
        self._enter(self._session_index + 1)
        return True

    def seek(self, time: datetime) -> None:
        """Move to the last step at or before ``time`` (tz-aware) inside the window."""
        if time.tzinfo is None:
            raise ValueError(f"seek time {time!r}: expected a timezone-aware datetime")
        index = bisect.bisect_right(self._opens, time) - 1
        last_close = self._calendar.session_close(self._sessions[-1])
        if index < 0 or time > last_close:
            raise ValueError(
                f"seek time {time.isoformat()}: outside the window "
                f"{self._opens[0].isoformat()}..{last_close.isoformat()}"
            )
        step_length = timedelta(minutes=self._config.bar_step_minutes)
        step = (time - self._opens[index]) // step_length
        if index != self._session_index:
            self._enter(index)
        self._step = min(step, len(self._current.times) - 1)

    def at(self, time: datetime) -> SimulatedMarket:
        """A new market over the same window, models and seed, positioned at ``time``."""
        market = SimulatedMarket(
            self._config, surface=self._surface, spreads=self._spreads, calendar=self._calendar
        )
        market.seek(time)
        return market

    def _enter(self, session_index: int) -> None:
        """Move to the open of a session."""
        self._current = self._build_session(self._sessions[session_index])
        self._session_index = session_index
        self._step = 0

    # -- the market now --------------------------------------------------------------------

    @property
    def symbols(self) -> tuple[str, ...]:
        return self._symbols

    @property
    def vix(self) -> float:
        """VIX now, between the session's open and close values."""
        return self._current.inputs.vix_at(self._step / (len(self._current.times) - 1))

    @property
    def rate(self) -> float:
        """The session's continuous risk-free rate."""
        return self._current.inputs.rate

    def spot(self, symbol: str) -> float:
        return float(self._path(symbol)[self._step])

    def expirations(self, symbol: str) -> tuple[date, ...]:
        self._check_symbol(symbol)
        return self._current.expirations

    def strikes(self, symbol: str, expiry: date) -> tuple[float, ...]:
        """Listed strikes of ``expiry`` ascending; empty if ``expiry`` is not listed today."""
        self._check_symbol(symbol)
        session = self._current
        if expiry not in session.expiry_close:
            return ()
        cached = session.strikes.get((symbol, expiry))
        if cached is None:
            years = (session.expiry_close[expiry] - _epoch_micros(session.times[0])) / (
                _MICROS_PER_YEAR
            )
            grid = strike_grid(float(session.paths[symbol][0]), years)
            cached = tuple(float(k) for k in grid)
            session.strikes[(symbol, expiry)] = cached
        return cached

    def dividends(self, symbol: str, through: date) -> tuple[Dividend, ...]:
        """Dividends going ex after today and on or before ``through`` (known or projected)."""
        self._check_symbol(symbol)
        return dividend_schedule(symbol, self._calendar).between(self.session, through)

    def quote(self, contracts: Sequence[OptionContract]) -> QuoteBatch:
        """Quotes now; unlisted contracts (unknown symbol, expiry or strike) are NaN / size 0."""
        infos = [_contract(contract) for contract in contracts]
        pairs = [(info.symbol, info.expiry) for info in infos]
        unique = list(dict.fromkeys(pairs))
        position = {pair: i for i, pair in enumerate(unique)}
        options = _Options(
            index=np.array([position[pair] for pair in pairs], dtype=np.int64),
            strike=np.array([info.strike for info in infos], dtype=np.float64),
            is_call=np.array([info.is_call for info in infos], dtype=np.bool_),
            whole_dollar=np.array([info.whole_dollar for info in infos], dtype=np.bool_),
            key=np.array([info.key for info in infos], dtype=np.uint64),
        )
        return self._price(self._slices(unique), options)

    def chain(
        self, symbol: str, expiries: Sequence[date] | None = None, within: float | None = None
    ) -> ChainQuotes:
        """Every listed call and put of ``expiries`` (default: all listed), priced now.

        ``within`` keeps only strikes within that fraction of the spot (0.3: +-30 %).
        """
        chosen = self.expirations(symbol) if expiries is None else tuple(expiries)
        grids = [self._chain_strikes(symbol, expiry, within) for expiry in chosen]
        counts = np.array([2 * grid.size for grid in grids], dtype=np.int64)
        index = np.repeat(np.arange(len(chosen), dtype=np.int64), counts)
        strike = np.concatenate([np.tile(grid, 2) for grid in grids] or [np.zeros(0)])
        is_call = np.concatenate(
            [np.repeat([True, False], grid.size) for grid in grids] or [np.zeros(0, np.bool_)]
        )
        slice_keys = np.array([_slice_key(symbol, expiry) for expiry in chosen], np.uint64)
        options = _Options(
            index=index,
            strike=strike,
            is_call=is_call,
            whole_dollar=np.ones(strike.size, np.bool_),
            key=_option_keys(slice_keys[index], strike, is_call),
        )
        quotes = self._price(self._slices([(symbol, expiry) for expiry in chosen]), options)
        expiry_of_row = tuple(chosen[i] for i in index.tolist())
        return ChainQuotes(symbol, expiry_of_row, strike, is_call, quotes)

    def _chain_strikes(self, symbol: str, expiry: date, within: float | None) -> FloatArray:
        grid = np.asarray(self.strikes(symbol, expiry), dtype=np.float64)
        if within is None:
            return grid
        spot = self.spot(symbol)
        kept: FloatArray = grid[np.abs(grid / spot - 1.0) <= within]
        return kept

    # -- pricing ---------------------------------------------------------------------------

    def _slices(self, pairs: list[tuple[str, date]]) -> _Slices:
        session = self._current
        now = _epoch_micros(self.now)
        count = len(pairs)
        years, spot, escrowed = np.zeros(count), np.full(count, np.nan), np.full(count, np.nan)
        scale, listed = np.ones(count), np.zeros(count, np.bool_)
        for i, (symbol, expiry) in enumerate(pairs):
            close = session.expiry_close.get(expiry)
            if symbol not in session.paths:
                continue
            spot[i] = session.paths[symbol][self._step]
            if close is None:
                continue
            listed[i] = True
            years[i] = (close - now) / _MICROS_PER_YEAR
            escrowed[i] = spot[i] - self._dividend_value(symbol, expiry, now)
            scale[i] = session.scales[symbol]
        return _Slices(years, spot, escrowed, scale, listed)

    def _dividend_value(self, symbol: str, expiry: date, now: int) -> float:
        session = self._current
        cached = session.dividends.get((symbol, expiry))
        if cached is None:
            found = dividend_schedule(symbol, self._calendar).between(session.day, expiry)
            amounts = np.array([d.amount for d in found], dtype=np.float64)
            ex_opens = [_epoch_micros(self._calendar.session_open(d.ex_date)) for d in found]
            cached = (amounts, np.array(ex_opens, dtype=np.float64))
            session.dividends[(symbol, expiry)] = cached
        amounts, ex_times = cached
        discount = np.exp(-session.inputs.rate * (ex_times - now) / _MICROS_PER_YEAR)
        return float(np.dot(amounts, discount))

    def _price(self, slices: _Slices, options: _Options) -> QuoteBatch:
        rate, index, strike = self.rate, options.index, options.strike
        years, escrowed = slices.years[index], slices.escrowed[index]
        forward = escrowed * np.exp(rate * years)
        with np.errstate(invalid="ignore", divide="ignore"):
            vol = self._surface.vol(self.vix, np.log(strike / forward), years, slices.scale[index])
        listed = slices.listed[index] & options.whole_dollar
        vol[~listed] = np.nan
        greeks = bsm_price_greeks(escrowed, strike, years, rate, 0.0, vol, options.is_call)
        abs_delta = np.abs(greeks.delta)
        width = self._spreads.width(greeks.vega / 100.0, abs_delta, years)
        bid, ask = quote_sides(greeks.price, width)
        keys = mix_keys(options.key ^ np.uint64(_epoch_micros(self.now)), self._config.seed)
        sizes_mean = np.where(listed, mean_size(abs_delta, years), 0.0)
        bid_size, ask_size = np.where(
            listed, quote_sizes(sizes_mean, mix_keys(keys ^ _SIDE_SALTS, 0)), 0
        )
        return QuoteBatch(
            time=self.now,
            bid=bid,
            ask=ask,
            last=last_price(greeks.price, bid, ask),
            bid_size=bid_size,
            ask_size=ask_size,
            iv=vol,
            delta=greeks.delta,
            gamma=greeks.gamma,
            theta=greeks.theta,
            vega=greeks.vega,
            underlying_price=slices.spot[index],
        )

    # -- sessions --------------------------------------------------------------------------

    def _build_session(self, day: date) -> _Session:
        seed, step = self._config.seed, self._config.bar_step_minutes
        paths = {
            symbol: intraday_path(daily_bar(symbol, day), symbol, day, seed, step, self._calendar)
            for symbol in self._symbols
        }
        expirations = listed_expirations(day, self._calendar)
        first = next(iter(paths.values()))
        return _Session(
            day=day,
            times=first.times,
            inputs=session_inputs(day),
            paths={symbol: path.prices for symbol, path in paths.items()},
            scales={symbol: vol_ratio(symbol, day) for symbol in self._symbols},
            expirations=expirations,
            expiry_close={
                expiry: _epoch_micros(self._calendar.session_close(expiry))
                for expiry in expirations
            },
        )

    def _check_history_covers_window(self) -> None:
        """Fail at construction, not mid-run, if the shipped bars miss the window's ends."""
        for symbol in self._symbols:
            daily_bar(symbol, self._sessions[0])
            daily_bar(symbol, self._sessions[-1])

    def _path(self, symbol: str) -> FloatArray:
        self._check_symbol(symbol)
        return self._current.paths[symbol]

    def _check_symbol(self, symbol: str) -> None:
        if symbol not in self._current.paths:
            raise ValueError(
                f"unknown symbol {symbol!r}: this market replays {', '.join(self._symbols)}"
            )


def _check_symbols(symbols: Sequence[str]) -> tuple[str, ...]:
    known = available_symbols()
    unknown = [symbol for symbol in symbols if symbol not in known]
    if unknown:
        raise ValueError(
            f"sim symbols {unknown}: the shipped history covers {', '.join(known)} only"
        )
    return tuple(dict.fromkeys(symbols))
