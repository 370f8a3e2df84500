"""Clocks: real time for live and paper trading, simulated time for the simulated exchange.

Everything in V6 that needs the time asks a ``Clock`` (never ``datetime.now``), so the same
engine code runs live, in a year-long accelerated simulation and in a real-time replay.

* ``LiveClock`` - the wall clock; ``sleep`` really waits.
* ``SimClock`` - accelerated simulated time. It moves only when someone sleeps: ``sleep(d)``
  asks the attached ``TimeDriver`` (the simulated exchange) to process every market step up to
  ``now + d`` and returns at once (or after ``d / pace`` real seconds when ``pace`` > 0). When
  the market is closed at the target, the driver jumps to its next step (the next open), so
  nights and weekends cost nothing. One task drives it: concurrent sleepers each move time
  forward when they sleep, which is deterministic only when a single loop drives the run.
* ``ReplayClock`` - real time, for a paper session without an IB account: historical sessions
  replayed on the real sessions, one for one (see its docstring).

Every clock can be halted (``halt``): it then reports ``finished``, so the engine ends its run
after the cycle in progress (the CLI does this on SIGTERM and SIGINT); a halted replay clock
also wakes its sleepers.

All times are timezone-aware UTC ``datetime`` values.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from v6.market.calendar import nyse_calendar

NEW_YORK = ZoneInfo("America/New_York")

RealSleep = Callable[[float], Awaitable[None]]
WallClock = Callable[[], datetime]
SessionTimes = tuple[datetime, datetime, datetime]
"""A session's open, its close and the next session's open."""


class Clock(Protocol):
    """The time as V6 sees it."""

    def now(self) -> datetime:
        """The current time, UTC."""
        ...

    @property
    def finished(self) -> bool:
        """True once a simulated run has no more market steps, or the clock was halted."""
        ...

    def halt(self) -> None:
        """End the run: ``finished`` is True from now on."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Let ``seconds`` of this clock's time pass."""
        ...

    async def sleep_until(self, when: datetime) -> None:
        """Let this clock's time reach ``when`` (returns at once if it already has)."""
        ...


class TimeDriver(Protocol):
    """What moves simulated time: the simulated exchange."""

    @property
    def finished(self) -> bool: ...

    def advance_to(self, when: datetime, *, skip_idle: bool = False) -> datetime:
        """Process every market step due up to ``when`` and return the time reached: ``when``,
        or - with ``skip_idle`` - the next step's time when the market is closed at ``when``."""
        ...


class ReplayDriver(TimeDriver, Protocol):
    """A time driver that also tells where it is (the exchange's time, from its journal)."""

    @property
    def now(self) -> datetime: ...


class SessionCalendar(Protocol):
    """The trading sessions (`v6.market.calendar.TradingCalendar`)."""

    def is_session(self, day: date) -> bool: ...

    def session_open(self, day: date) -> datetime: ...

    def session_close(self, day: date) -> datetime: ...

    def next_session(self, day: date) -> date: ...

    def previous_session(self, day: date) -> date: ...


def require_utc(value: datetime, name: str) -> datetime:
    """``value`` in UTC; naive datetimes are rejected rather than guessed."""
    if isinstance(value, datetime) and value.tzinfo is UTC:
        return value
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} = {value!r}: expected a timezone-aware datetime")
    return value.astimezone(UTC)


def _check_seconds(seconds: float) -> float:
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not seconds >= 0:
        raise ValueError(f"sleep seconds = {seconds!r}: expected a number >= 0")
    return float(seconds)


def _check_pace(pace: float, name: str, *, zero_allowed: bool) -> float:
    valid = isinstance(pace, int | float) and not isinstance(pace, bool)
    if not valid or not (pace >= 0 if zero_allowed else pace > 0):
        expected = "a number >= 0" if zero_allowed else "a number > 0"
        raise ValueError(f"{name} = {pace!r}: expected {expected}")
    return float(pace)


class LiveClock:
    """The wall clock."""

    def __init__(self) -> None:
        self._halted = False

    def now(self) -> datetime:
        return datetime.now(UTC)

    @property
    def finished(self) -> bool:
        return self._halted

    def halt(self) -> None:
        self._halted = True

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(_check_seconds(seconds))

    async def sleep_until(self, when: datetime) -> None:
        delay = (require_utc(when, "when") - self.now()).total_seconds()
        await asyncio.sleep(max(delay, 0.0))


class SimClock:
    """Accelerated simulated time, moved forward by an attached ``TimeDriver``.

    Without a driver (unit tests of other parts) it simply moves to the requested time.
    ``pace`` is simulated seconds per real second (0: no real waiting at all).
    """

    def __init__(
        self, start: datetime, *, pace: float = 0.0, real_sleep: RealSleep = asyncio.sleep
    ) -> None:
        self._now = require_utc(start, "SimClock start")
        self._pace = _check_pace(pace, "SimClock pace", zero_allowed=True)
        self._real_sleep = real_sleep
        self._driver: TimeDriver | None = None
        self._halted = False

    def attach(self, driver: TimeDriver) -> None:
        self._driver = driver

    def now(self) -> datetime:
        return self._now

    @property
    def finished(self) -> bool:
        return self._halted or (self._driver is not None and self._driver.finished)

    def halt(self) -> None:
        self._halted = True

    async def sleep(self, seconds: float) -> None:
        await self.sleep_until(self._now + timedelta(seconds=_check_seconds(seconds)))

    async def sleep_until(self, when: datetime) -> None:
        target = max(require_utc(when, "when"), self._now)
        reached = target
        if self._driver is not None:
            reached = self._driver.advance_to(target, skip_idle=True)
        elapsed = (reached - self._now).total_seconds()
        self._now = max(reached, self._now)
        if self._pace > 0 and not self._halted:
            await self._real_sleep(elapsed / self._pace)
        else:
            await asyncio.sleep(0)


@dataclass(frozen=True, slots=True)
class ReplaySession:
    """A real session and the historical session replayed on it. ``opens_at``/``closes_at``
    are real times (UTC) - the wall clock's at pace 1, the accelerated replay's otherwise."""

    day: date
    replays: date
    opens_at: datetime
    closes_at: datetime


@dataclass(frozen=True, slots=True)
class _Pairing:
    """Real session k paired with historical session k, each from its open to the next open:
    the session (open..close) and the closed time after it (close..next open)."""

    real_day: date
    history_day: date
    real: SessionTimes
    history: SessionTimes

    def times(self, historical: bool) -> SessionTimes:
        return self.history if historical else self.real


def _map_span(moment: datetime, source: SessionTimes, target: SessionTimes) -> datetime:
    """``moment`` (inside ``source``'s open..next open) at the same fraction of ``target``'s
    session or closed time; spans of equal length map one to one, exactly."""
    part = 0 if moment <= source[1] else 1
    offset, span, onto = (
        moment - source[part],
        source[part + 1] - source[part],
        target[part + 1] - target[part],
    )
    return target[part] + (offset if span == onto else onto * (offset / span))


class ReplayClock:
    """Historical sessions replayed on the real sessions, for a paper run without an IB account.

    Each real NYSE session replays one historical session, in order: the first real session
    whose close is still ahead (on or after ``session_day``, default today in New York)
    replays ``replay_day`` (or, once a driver is attached, the first session of the driver
    whose close is after the driver's time - so a resumed run carries on from its journal),
    the next real session the next historical one, and so on. The open maps to the open and
    the close to the close: at 1x when the two sessions are equally long, faster or slower
    when one of them is a half day. The closed time between two real sessions (a night, a
    weekend, a holiday such as Thanksgiving) replays the closed time between the two
    historical ones in the same proportion, so a run started on a closed day waits for the
    next real open and trades then.

    The real time runs with the wall clock (``pace`` 1) unless a larger ``pace`` makes it run
    faster (tests and demos: a session in seconds).
    """

    def __init__(
        self,
        replay_day: date,
        session_day: date | None = None,
        *,
        wall: WallClock | None = None,
        real_sleep: RealSleep = asyncio.sleep,
        calendar: SessionCalendar | None = None,
        pace: float = 1.0,
    ) -> None:
        for name, day in (("replay_day", replay_day), ("session_day", session_day)):
            if day is not None and (isinstance(day, datetime) or not isinstance(day, date)):
                raise ValueError(f"ReplayClock {name} = {day!r}: expected a datetime.date")
        self._wall: WallClock = wall if wall is not None else (lambda: datetime.now(UTC))
        self._real_sleep = real_sleep
        self._calendar: SessionCalendar = calendar if calendar is not None else nyse_calendar()
        start = self._read_wall()
        self._anchor = (start, start)
        self._pace = _check_pace(pace, "ReplayClock pace", zero_allowed=False)
        first = session_day if session_day is not None else start.astimezone(NEW_YORK).date()
        self._first_real_day = self._session_closing_after(first, start)
        self._pairing = self._pair(self._first_real_day, replay_day)
        self._driver: ReplayDriver | None = None
        self._halted = False
        self._sleepers: set[asyncio.Future[None]] = set()

    def attach(self, driver: ReplayDriver) -> None:
        """Let ``driver`` catch up with this clock; the replay carries on from its time."""
        self._driver = driver
        reached = require_utc(driver.now, "driver time")
        history_day = self._session_closing_after(reached.astimezone(NEW_YORK).date(), reached)
        self._pairing = self._pair(self._first_real_day, history_day)

    # -- time --------------------------------------------------------------------------------

    def real_now(self) -> datetime:
        """The real time the replay is at (the wall clock at pace 1)."""
        wall, real = self._anchor
        return real + (self._read_wall() - wall) * self._pace

    def now(self) -> datetime:
        real = self.real_now()
        pairing = self._pairing_at(real)
        return _map_span(real, pairing.real, pairing.history)

    def to_wall(self, when: datetime) -> datetime:
        """The real time at which the replay reaches ``when``."""
        moment = require_utc(when, "when")
        pairing = self._pairing_at(moment, historical=True)
        return _map_span(moment, pairing.history, pairing.real)

    def session(self) -> ReplaySession:
        """The real session in progress (open <= real time < close), else the next one, with
        the historical session it replays."""
        real = self.real_now()
        pairing = self._pairing_at(real)
        if real >= pairing.real[1]:
            pairing = self._next(pairing)
        return ReplaySession(
            pairing.real_day, pairing.history_day, pairing.real[0], pairing.real[1]
        )

    def real_delay(self, when: datetime) -> float:
        """Wall-clock seconds until the replay reaches ``when`` (0 if it has)."""
        return self._wall_seconds_until(self.to_wall(when))

    async def wait_real(self, when: datetime) -> None:
        """Wait (without moving the exchange) until the real time reaches ``when``, or until
        halted."""
        await self._wait(self._wall_seconds_until(require_utc(when, "when")))

    def _wall_seconds_until(self, real: datetime) -> float:
        return max((real - self.real_now()).total_seconds() / self._pace, 0.0)

    @property
    def finished(self) -> bool:
        return self._halted or (self._driver is not None and self._driver.finished)

    def halt(self) -> None:
        self._halted = True
        for sleeper in self._sleepers:
            sleeper.cancel()

    async def sleep(self, seconds: float) -> None:
        await self.sleep_until(self.now() + timedelta(seconds=_check_seconds(seconds)))

    async def sleep_until(self, when: datetime) -> None:
        await self._wait(self.real_delay(when))
        if self._driver is not None:
            self._driver.advance_to(self.now())

    async def _wait(self, seconds: float) -> None:
        """Sleep ``seconds`` of wall time, or until halted."""
        if self._halted:
            return
        sleeper = asyncio.ensure_future(self._real_sleep(seconds))
        self._sleepers.add(sleeper)
        try:
            await asyncio.wait({sleeper})
        finally:
            self._sleepers.discard(sleeper)
            sleeper.cancel()

    def _read_wall(self) -> datetime:
        return require_utc(self._wall(), "wall clock")

    # -- the pairing of real and historical sessions -----------------------------------------

    def _session_closing_after(self, day: date, moment: datetime) -> date:
        calendar = self._calendar
        session = day if calendar.is_session(day) else calendar.next_session(day)
        while calendar.session_close(session) <= moment:
            session = calendar.next_session(session)
        return session

    def _pair(self, real_day: date, history_day: date) -> _Pairing:
        return _Pairing(real_day, history_day, self._times(real_day), self._times(history_day))

    def _times(self, day: date) -> SessionTimes:
        calendar = self._calendar
        following = calendar.session_open(calendar.next_session(day))
        return (calendar.session_open(day), calendar.session_close(day), following)

    def _next(self, pairing: _Pairing) -> _Pairing:
        calendar = self._calendar
        return self._pair(
            calendar.next_session(pairing.real_day), calendar.next_session(pairing.history_day)
        )

    def _previous(self, pairing: _Pairing) -> _Pairing:
        calendar = self._calendar
        return self._pair(
            calendar.previous_session(pairing.real_day),
            calendar.previous_session(pairing.history_day),
        )

    def _pairing_at(self, moment: datetime, *, historical: bool = False) -> _Pairing:
        """The pairing whose open..next open holds ``moment`` on the real (or historical)
        side; walks from the last one found, as time mostly moves forward a little."""
        pairing = self._pairing
        while moment < pairing.times(historical)[0]:
            pairing = self._previous(pairing)
        while moment >= pairing.times(historical)[2]:
            pairing = self._next(pairing)
        self._pairing = pairing
        return pairing
