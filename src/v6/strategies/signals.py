"""Entry signals: whether a strategy template may open on an underlying now.

Every check is evaluated (none short-circuits), so a signal explains itself fully:

* ``enabled`` - the template is enabled;
* ``session`` - today is an NYSE session and, with ``avoid_half_days``, not a half day;
* ``entry_window`` - now is at least ``entry_after_open_minutes`` after the open and at least
  ``entry_before_close_minutes`` before the close (exchange calendar, New York time);
* ``iv_rank`` - the IV rank (0-100) is at least ``min_iv_rank``; a rank that cannot be
  computed fails any positive threshold;
* ``trend`` - verticals with ``trend_filter``: a bull put only with the spot above the simple
  moving average of the last ``trend_sma_days`` closes, a bear call only below it (no average:
  fails);
* ``dte_window`` - the chain lists an expiry inside the template's DTE window;
* ``concurrency`` - fewer than ``max_concurrent_per_symbol`` strategies of the template are
  open on the underlying;
* ``event`` - no scheduled event (``decisions.event``, market-wide or for the symbol) from
  today through that expiry: the trade would hold through it.

Inputs without look-ahead: the IV rank ranks the last close before today within the
``iv_rank_lookback_sessions`` closes before today - of VIX (``vix``) or of the underlying's
own implied-volatility history (``underlying``, e.g. the daily at-the-money IV the store
keeps); the moving average uses closes before today. Both come from the shipped history
(``v6.market.history``) or the history given.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum, auto

from v6.brokers.pacing import PacedBroker
from v6.brokers.types import OptionChainParams
from v6.clock import NEW_YORK
from v6.config.decisions import EventRule
from v6.config.execution import IvRankSource, SignalConfig
from v6.config.strategies import StrategyKind, StrategyTemplate
from v6.domain import StockContract
from v6.market.calendar import TradingCalendar, nyse_calendar
from v6.market.history import available_symbols, load_daily_bars, load_vix
from v6.strategies.selection import DteWindow, choose_expiry

MAX_TREND_SESSIONS = 400
"""Closes loaded for the trend filter: the longest ``trend_sma_days`` the config allows."""
CALENDAR_DAYS_PER_SESSION = 1.6
"""Calendar days loaded per session wanted (weekends and holidays included)."""

IvHistory = Mapping[str, Sequence[tuple[date, float]]]
"""Implied volatility per underlying: (session, IV) pairs in any order."""


class SignalCheck(StrEnum):
    ENABLED = auto()
    SESSION = auto()
    ENTRY_WINDOW = auto()
    IV_RANK = auto()
    TREND = auto()
    DTE_WINDOW = auto()
    CONCURRENCY = auto()
    EVENT = auto()


@dataclass(frozen=True, slots=True)
class CheckResult:
    check: SignalCheck
    passed: bool
    detail: str


@dataclass(frozen=True, slots=True)
class MarketFacts:
    """What the checks need from the market: the spot, the IV rank, the closes before today
    (oldest first) and the listed expirations. None where unknown."""

    spot: float | None
    iv_rank: float | None
    closes: tuple[float, ...]
    expirations: tuple[date, ...]

    def moving_average(self, sessions: int) -> float | None:
        if len(self.closes) < sessions:
            return None
        return sum(self.closes[-sessions:]) / sessions


@dataclass(frozen=True, slots=True)
class EntryWindow:
    """When one day's entries may open (a template's minutes after the open and before the
    close)."""

    opens: datetime
    closes: datetime
    text: str
    """``HH:MM-HH:MM New York``."""

    def contains(self, now: datetime) -> bool:
        return self.opens <= now <= self.closes


@dataclass(frozen=True, slots=True)
class DayChecks:
    """The checks of one template on one symbol that hold all day: they read nothing but
    the day, the template and the day's market facts (kept to tell what they were made
    from)."""

    day: date
    template: StrategyTemplate
    facts: MarketFacts
    expiry: date | None
    enabled: CheckResult
    session: CheckResult
    iv_rank: CheckResult
    trend: CheckResult
    dte: CheckResult
    event: CheckResult

    def made_from(self, day: date, template: StrategyTemplate, facts: MarketFacts) -> bool:
        return self.day == day and self.template is template and self.facts is facts

    @property
    def passed(self) -> bool:
        checks = (self.enabled, self.session, self.iv_rank, self.trend, self.dte, self.event)
        return all(check.passed for check in checks)


@dataclass(frozen=True, slots=True)
class EntrySignal:
    """The verdict for one template on one underlying at ``at``; ``expiry`` is the expiry the
    DTE check found (the one a build will choose)."""

    template: str
    symbol: str
    at: datetime
    checks: tuple[CheckResult, ...]
    expiry: date | None

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    @property
    def failed(self) -> tuple[CheckResult, ...]:
        return tuple(check for check in self.checks if not check.passed)

    def explain(self) -> str:
        """One line: every failed check with its detail, or that all passed."""
        failed = self.failed
        if not failed:
            return f"{self.template} on {self.symbol}: every entry check passed"
        reasons = "; ".join(f"{c.check.value}: {c.detail}" for c in failed)
        return f"{self.template} on {self.symbol}: {reasons}"


def iv_rank(current: float, history: Sequence[float]) -> float | None:
    """Where ``current`` sits between the lowest and highest of ``history``, 0-100 (clipped);
    None for an empty or flat history."""
    if not history:
        return None
    low, high = min(history), max(history)
    if high <= low:
        return None
    return min(max((current - low) / (high - low) * 100.0, 0.0), 100.0)


def vix_iv_rank(day: date, lookback_sessions: int) -> float | None:
    """IV rank of the last VIX close before ``day`` within the ``lookback_sessions`` closes
    before ``day``."""
    closes = _closes_between(_vix_closes(), _window_start(day, lookback_sessions), day)
    window = closes[-lookback_sessions:]
    return iv_rank(window[-1], window) if window else None


def history_iv_rank(
    history: Sequence[tuple[date, float]], day: date, lookback_sessions: int
) -> float | None:
    """IV rank of the last value before ``day`` within the ``lookback_sessions`` values
    before ``day`` of an implied-volatility history."""
    before = [value for when, value in sorted(history) if when < day]
    window = before[-lookback_sessions:]
    return iv_rank(window[-1], window) if window else None


def closes_before(symbol: str, day: date, sessions: int = MAX_TREND_SESSIONS) -> tuple[float, ...]:
    """The last ``sessions`` shipped daily closes of ``symbol`` before ``day``, oldest first
    (empty for a symbol without shipped history)."""
    if symbol not in available_symbols():
        return ()
    return _closes_between(_daily_closes(symbol), _window_start(day, sessions), day)[-sessions:]


Closes = tuple[tuple[date, ...], tuple[float, ...]]
"""A shipped series' dates (ascending) and closes (the nulls left out)."""


@functools.cache
def _daily_closes(symbol: str) -> Closes:
    """The shipped daily closes of ``symbol``, read once: the shipped history is fixed, and
    every session's entry facts look into it."""
    bars = load_daily_bars(symbol).drop_nulls("close")
    return tuple(bars["date"].to_list()), tuple(bars["close"].to_list())


@functools.cache
def _vix_closes() -> Closes:
    """The shipped VIX closes, read once (as ``_daily_closes``)."""
    vix = load_vix().drop_nulls("close")
    return tuple(vix["date"].to_list()), tuple(vix["close"].to_list())


def _window_start(day: date, sessions: int) -> date:
    """The first calendar day of the span searched for ``sessions`` closes before ``day``."""
    return day - timedelta(days=round(sessions * CALENDAR_DAYS_PER_SESSION) + 7)


def _closes_between(series: Closes, start: date, end: date) -> tuple[float, ...]:
    """The closes dated from ``start`` up to, not including, ``end``."""
    dates, closes = series
    return closes[bisect.bisect_left(dates, start) : bisect.bisect_left(dates, end)]


class EntrySignals:
    """Entry checks for the templates (see the module docstring)."""

    def __init__(
        self,
        config: SignalConfig,
        events: EventRule,
        *,
        calendar: TradingCalendar | None = None,
        iv_history: IvHistory | None = None,
    ) -> None:
        self._config = config
        self._events = events
        self._calendar = calendar if calendar is not None else nyse_calendar()
        self._iv_history = iv_history if iv_history is not None else {}
        self._days: dict[tuple[str, str], DayChecks] = {}
        """The latest day's checks per (template, symbol): every cycle asks them again."""
        self._windows: dict[tuple[date, int, int], EntryWindow | None] = {}
        """The entry windows of the latest day asked for, by (day, minutes, minutes)."""

    async def facts(self, broker: PacedBroker, symbol: str, now: datetime) -> MarketFacts:
        """The market facts for ``symbol``: spot and expirations from the broker (two
        messages, within the connection's budget), IV rank and closes from the history."""
        chain: OptionChainParams = await broker.option_chain(symbol)
        quote = (await broker.snapshot_quotes([StockContract(symbol)]))[0]
        day = _new_york_day(now)
        return MarketFacts(
            spot=quote.mid if quote.is_valid else None,
            iv_rank=self.iv_rank(symbol, day),
            closes=closes_before(symbol, day),
            expirations=chain.expirations,
        )

    def iv_rank(self, symbol: str, day: date) -> float | None:
        lookback = self._config.iv_rank_lookback_sessions
        if self._config.iv_rank_source is IvRankSource.VIX:
            return vix_iv_rank(day, lookback)
        return history_iv_rank(self._iv_history.get(symbol, ()), day, lookback)

    def evaluate(
        self,
        template: StrategyTemplate,
        symbol: str,
        now: datetime,
        facts: MarketFacts,
        *,
        open_count: int,
    ) -> EntrySignal:
        """Every check for ``template`` on ``symbol`` at ``now``; ``open_count`` is the number
        of the template's strategies open on the symbol."""
        day = _new_york_day(now)
        daily = self._day_checks(template, symbol, day, facts)
        checks = (
            daily.enabled,
            daily.session,
            self._entry_window(template, now, day),
            daily.iv_rank,
            daily.trend,
            daily.dte,
            _concurrency_check(template, open_count),
            daily.event,
        )
        return EntrySignal(template.name, symbol, now, checks, daily.expiry)

    def passes(
        self,
        template: StrategyTemplate,
        symbol: str,
        now: datetime,
        facts: MarketFacts,
        *,
        open_count: int,
    ) -> bool:
        """``evaluate(...).passed`` without the explanations: what the entry workflow asks
        every cycle (the day's checks are kept; only the window and the count are new)."""
        if not _has_room(template, open_count):
            return False
        day = _new_york_day(now)
        if not self._day_checks(template, symbol, day, facts).passed:
            return False
        window = self._window_of(template, day)
        return window is not None and window.contains(now)

    def _day_checks(
        self, template: StrategyTemplate, symbol: str, day: date, facts: MarketFacts
    ) -> DayChecks:
        """The checks of ``template`` on ``symbol`` that hold all ``day``, made again only
        for another day, template or facts (the entry workflow reads the facts once a day)."""
        found = self._days.get((template.name, symbol))
        if found is not None and found.made_from(day, template, facts):
            return found
        expiry = choose_expiry(facts.expirations, day, DteWindow.of(template))
        enabled = "enabled" if template.enabled else "template disabled"
        found = DayChecks(
            day=day,
            template=template,
            facts=facts,
            expiry=expiry,
            enabled=CheckResult(SignalCheck.ENABLED, template.enabled, enabled),
            session=self._session(day),
            iv_rank=_iv_rank_check(template, facts.iv_rank),
            trend=_trend_check(template, facts),
            dte=_dte_check(template, expiry),
            event=self._event_check(symbol, day, expiry),
        )
        self._days[template.name, symbol] = found
        return found

    def _session(self, day: date) -> CheckResult:
        if not self._calendar.is_session(day):
            return CheckResult(SignalCheck.SESSION, False, f"{day} is not an NYSE session")
        if self._config.avoid_half_days and self._calendar.is_half_day(day):
            return CheckResult(SignalCheck.SESSION, False, f"{day} is a half day")
        return CheckResult(SignalCheck.SESSION, True, f"{day} is a full session")

    def _entry_window(self, template: StrategyTemplate, now: datetime, day: date) -> CheckResult:
        window = self._window_of(template, day)
        if window is None:
            return CheckResult(SignalCheck.ENTRY_WINDOW, False, "no session today")
        inside = window.contains(now)
        detail = f"{_clock_time(now)} {'inside' if inside else 'outside'} {window.text}"
        return CheckResult(SignalCheck.ENTRY_WINDOW, inside, detail)

    def _window_of(self, template: StrategyTemplate, day: date) -> EntryWindow | None:
        key = (day, template.entry_after_open_minutes, template.entry_before_close_minutes)
        if key not in self._windows:
            if any(kept[0] != day for kept in self._windows):
                self._windows.clear()
            self._windows[key] = self._window(*key)
        return self._windows[key]

    def _window(self, day: date, after_open: int, before_close: int) -> EntryWindow | None:
        """``day``'s entry window, ``after_open`` minutes after the open to ``before_close``
        minutes before the close (None without a session)."""
        if not self._calendar.is_session(day):
            return None
        opens = self._calendar.session_open(day) + timedelta(minutes=after_open)
        closes = self._calendar.session_close(day) - timedelta(minutes=before_close)
        return EntryWindow(opens, closes, f"{_clock_time(opens)}-{_clock_time(closes)} New York")

    def _event_check(self, symbol: str, day: date, expiry: date | None) -> CheckResult:
        if expiry is None:
            return CheckResult(SignalCheck.EVENT, False, "no expiry to hold the trade to")
        inside = [d for d in self._events.dates_for(symbol) if day <= d <= expiry]
        if inside:
            listed = ", ".join(d.isoformat() for d in inside)
            return CheckResult(SignalCheck.EVENT, False, f"event on {listed} before {expiry}")
        return CheckResult(SignalCheck.EVENT, True, f"no event through {expiry}")


def _iv_rank_check(template: StrategyTemplate, rank: float | None) -> CheckResult:
    threshold = template.min_iv_rank
    if rank is None:
        passed = threshold <= 0
        return CheckResult(SignalCheck.IV_RANK, passed, f"IV rank unknown (need {threshold:g})")
    passed = rank >= threshold
    return CheckResult(SignalCheck.IV_RANK, passed, f"IV rank {rank:.1f} vs {threshold:g}")


def _trend_check(template: StrategyTemplate, facts: MarketFacts) -> CheckResult:
    if not template.trend_filter:
        return CheckResult(SignalCheck.TREND, True, "no trend filter")
    average = facts.moving_average(template.trend_sma_days)
    if average is None or facts.spot is None:
        return CheckResult(
            SignalCheck.TREND,
            False,
            f"no spot or {template.trend_sma_days}-session average to compare",
        )
    above = facts.spot > average
    wanted_above = template.kind is StrategyKind.VERTICAL_BULL_PUT
    side = "above" if above else "at or below"
    detail = f"spot {facts.spot:.2f} {side} its {template.trend_sma_days}-session SMA {average:.2f}"
    return CheckResult(SignalCheck.TREND, above == wanted_above, detail)


def _dte_check(template: StrategyTemplate, expiry: date | None) -> CheckResult:
    window = f"{template.min_dte}..{template.max_dte} DTE"
    if expiry is None:
        return CheckResult(SignalCheck.DTE_WINDOW, False, f"no listed expiry in {window}")
    return CheckResult(SignalCheck.DTE_WINDOW, True, f"{expiry} in {window}")


def _concurrency_check(template: StrategyTemplate, open_count: int) -> CheckResult:
    limit = template.max_concurrent_per_symbol
    passed = _has_room(template, open_count)
    return CheckResult(SignalCheck.CONCURRENCY, passed, f"{open_count} open of at most {limit}")


def _has_room(template: StrategyTemplate, open_count: int) -> bool:
    return open_count < template.max_concurrent_per_symbol


def _new_york_day(moment: datetime) -> date:
    return moment.astimezone(NEW_YORK).date()


def _clock_time(moment: datetime) -> str:
    return moment.astimezone(NEW_YORK).strftime("%H:%M")
