"""Clocks: the wall clock, accelerated simulated time and the 1x replay of a historical day."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest

from v6.clock import LiveClock, ReplayClock, SimClock

START = datetime(2020, 3, 16, 13, 30, tzinfo=UTC)


class RecordingDriver:
    """A time driver that records its calls and can pretend the market is closed."""

    def __init__(self, jump_to: datetime | None = None) -> None:
        self.calls: list[tuple[datetime, bool]] = []
        self.jump_to = jump_to
        self.finished = False

    def advance_to(self, when: datetime, *, skip_idle: bool = False) -> datetime:
        self.calls.append((when, skip_idle))
        if skip_idle and self.jump_to is not None and self.jump_to > when:
            return self.jump_to
        return when


class RecordingSleep:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def test_live_clock_is_utc_wall_time() -> None:
    before = datetime.now(UTC)
    now = LiveClock().now()
    assert now.tzinfo is not None
    assert now.utcoffset() == timedelta(0)
    assert before <= now <= datetime.now(UTC)
    assert not LiveClock().finished


def test_live_clock_sleep_until_the_past_returns() -> None:
    asyncio.run(LiveClock().sleep_until(START))


def test_sim_clock_moves_only_when_slept_on() -> None:
    clock = SimClock(START)
    assert clock.now() == START
    asyncio.run(clock.sleep(90))
    assert clock.now() == START + timedelta(seconds=90)
    asyncio.run(clock.sleep_until(START))
    assert clock.now() == START + timedelta(seconds=90), "time never goes back"


def test_sim_clock_asks_its_driver_and_takes_the_jump_over_closed_hours() -> None:
    next_open = START + timedelta(hours=20)
    driver = RecordingDriver(jump_to=next_open)
    clock = SimClock(START)
    clock.attach(driver)
    asyncio.run(clock.sleep(60))
    assert driver.calls == [(START + timedelta(seconds=60), True)]
    assert clock.now() == next_open


def test_sim_clock_finished_follows_the_driver() -> None:
    driver = RecordingDriver()
    clock = SimClock(START)
    assert not clock.finished
    clock.attach(driver)
    driver.finished = True
    assert clock.finished


def test_paced_sim_clock_waits_real_time_in_proportion() -> None:
    waits = RecordingSleep()
    clock = SimClock(START, pace=60.0, real_sleep=waits)
    asyncio.run(clock.sleep(120))
    assert waits.waits == [2.0]


@pytest.mark.parametrize("seconds", [-1, float("nan"), "5"])
def test_sim_clock_rejects_bad_sleeps(seconds: object) -> None:
    with pytest.raises(ValueError, match="sleep seconds"):
        asyncio.run(SimClock(START).sleep(seconds))  # type: ignore[arg-type]


def test_sim_clock_rejects_naive_times() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        SimClock(datetime(2020, 3, 16, 9, 30))
    with pytest.raises(ValueError, match="pace"):
        SimClock(START, pace=-1)


def test_replay_keeps_new_york_time_of_day_across_daylight_saving() -> None:
    # 10:30 in New York on a summer day (EDT, UTC-4) replays 10:30 of a winter day (EST, UTC-5).
    wall = datetime(2026, 7, 15, 14, 30, tzinfo=UTC)
    clock = ReplayClock(date(2020, 1, 15), date(2026, 7, 15), wall=lambda: wall)
    assert clock.now() == datetime(2020, 1, 15, 15, 30, tzinfo=UTC)
    assert clock.to_wall(clock.now()) == wall


def test_replay_runs_at_one_x_and_lets_the_exchange_catch_up() -> None:
    wall = [datetime(2026, 7, 15, 13, 30, tzinfo=UTC)]
    waits = RecordingSleep()
    driver = RecordingDriver()
    clock = ReplayClock(
        date(2020, 3, 16), date(2026, 7, 15), wall=lambda: wall[0], real_sleep=waits
    )
    clock.attach(driver)
    start = clock.now()

    async def session() -> None:
        await clock.sleep(300)
        wall[0] += timedelta(seconds=300)
        await clock.sleep_until(start + timedelta(minutes=20))

    asyncio.run(session())
    assert waits.waits == [300.0, 900.0]
    assert driver.calls[0] == (start, False), "real time never skips the closed market"


def test_replay_session_day_defaults_to_today_in_new_york() -> None:
    wall = datetime(2026, 7, 16, 2, 0, tzinfo=UTC)  # still July 15 in New York
    clock = ReplayClock(date(2020, 3, 16), wall=lambda: wall)
    assert clock.now().astimezone(UTC).date() == date(2020, 3, 17)
    assert clock.now() == datetime(2020, 3, 17, 2, 0, tzinfo=UTC)


def test_replay_rejects_datetimes_for_days() -> None:
    with pytest.raises(ValueError, match="replay_day"):
        ReplayClock(START, date(2026, 7, 15))  # type: ignore[arg-type]
