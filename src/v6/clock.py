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
* ``ReplayClock`` - real time, for a paper session without an IB account: a historical day is
  replayed at 1x, mapped onto today's New York wall-clock time (10:30 today shows 10:30 of the
  replayed day). Time runs on continuously from there at 1x.

All times are timezone-aware UTC ``datetime`` values.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")

RealSleep = Callable[[float], Awaitable[None]]
WallClock = Callable[[], datetime]


class Clock(Protocol):
    """The time as V6 sees it."""

    def now(self) -> datetime:
        """The current time, UTC."""
        ...

    @property
    def finished(self) -> bool:
        """True once a simulated run has no more market steps (always False live)."""
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


def require_utc(value: datetime, name: str) -> datetime:
    """``value`` in UTC; naive datetimes are rejected rather than guessed."""
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} = {value!r}: expected a timezone-aware datetime")
    return value.astimezone(UTC)


def _check_seconds(seconds: float) -> float:
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not seconds >= 0:
        raise ValueError(f"sleep seconds = {seconds!r}: expected a number >= 0")
    return float(seconds)


class LiveClock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    @property
    def finished(self) -> bool:
        return False

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
        if isinstance(pace, bool) or not isinstance(pace, int | float) or not pace >= 0:
            raise ValueError(f"SimClock pace = {pace!r}: expected a number >= 0")
        self._now = require_utc(start, "SimClock start")
        self._pace = float(pace)
        self._real_sleep = real_sleep
        self._driver: TimeDriver | None = None

    def attach(self, driver: TimeDriver) -> None:
        self._driver = driver

    def now(self) -> datetime:
        return self._now

    @property
    def finished(self) -> bool:
        return self._driver is not None and self._driver.finished

    async def sleep(self, seconds: float) -> None:
        await self.sleep_until(self._now + timedelta(seconds=_check_seconds(seconds)))

    async def sleep_until(self, when: datetime) -> None:
        target = max(require_utc(when, "when"), self._now)
        reached = target
        if self._driver is not None:
            reached = self._driver.advance_to(target, skip_idle=True)
        elapsed = (reached - self._now).total_seconds()
        self._now = max(reached, self._now)
        if self._pace > 0:
            await self._real_sleep(elapsed / self._pace)
        else:
            await asyncio.sleep(0)


class ReplayClock:
    """A historical session replayed at 1x on today's New York wall-clock time.

    ``replay_day`` is the historical session; ``session_day`` the real day it is mapped onto
    (default: today in New York). The mapping keeps the New York time of day and shifts the
    date by a whole number of days, so daylight-saving differences between the two dates
    cannot shift the session.
    """

    def __init__(
        self,
        replay_day: date,
        session_day: date | None = None,
        *,
        wall: WallClock | None = None,
        real_sleep: RealSleep = asyncio.sleep,
    ) -> None:
        self._wall: WallClock = wall if wall is not None else (lambda: datetime.now(UTC))
        today = session_day if session_day is not None else self._wall_new_york().date()
        for name, day in (("replay_day", replay_day), ("session_day", today)):
            if isinstance(day, datetime) or not isinstance(day, date):
                raise ValueError(f"ReplayClock {name} = {day!r}: expected a datetime.date")
        self._shift = today - replay_day
        self._real_sleep = real_sleep
        self._driver: TimeDriver | None = None

    def attach(self, driver: TimeDriver) -> None:
        self._driver = driver

    def _wall_new_york(self) -> datetime:
        return require_utc(self._wall(), "wall clock").astimezone(NEW_YORK)

    def now(self) -> datetime:
        local = self._wall_new_york().replace(tzinfo=None) - self._shift
        return local.replace(tzinfo=NEW_YORK).astimezone(UTC)

    def to_wall(self, when: datetime) -> datetime:
        """The real time at which the replay reaches ``when``."""
        local = require_utc(when, "when").astimezone(NEW_YORK).replace(tzinfo=None)
        return (local + self._shift).replace(tzinfo=NEW_YORK).astimezone(UTC)

    @property
    def finished(self) -> bool:
        return self._driver is not None and self._driver.finished

    async def sleep(self, seconds: float) -> None:
        await self._real_sleep(_check_seconds(seconds))
        self._catch_up()

    async def sleep_until(self, when: datetime) -> None:
        delay = (self.to_wall(when) - require_utc(self._wall(), "wall clock")).total_seconds()
        await self._real_sleep(max(delay, 0.0))
        self._catch_up()

    def _catch_up(self) -> None:
        if self._driver is not None:
            self._driver.advance_to(self.now())
