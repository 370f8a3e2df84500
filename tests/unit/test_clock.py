"""Clocks: the wall clock, accelerated simulated time and the replay of historical sessions on
the real ones (a closed real day waits for the next real session)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest

from v6.clock import NEW_YORK, LiveClock, ReplayClock, ReplaySession, SimClock, require_utc

START = datetime(2020, 3, 16, 13, 30, tzinfo=UTC)


class RecordingDriver:
    """A time driver that records its calls and can pretend the market is closed."""

    def __init__(self, jump_to: datetime | None = None, now: datetime = START) -> None:
        self.calls: list[tuple[datetime, bool]] = []
        self.jump_to = jump_to
        self.finished = False
        self.now = now

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


def test_halted_clocks_are_finished() -> None:
    clocks = (LiveClock(), SimClock(START), ReplayClock(date(2020, 3, 16)))
    for clock in clocks:
        assert not clock.finished
        clock.halt()
        assert clock.finished


def new_york(*moment: int) -> datetime:
    return datetime(*moment, tzinfo=NEW_YORK).astimezone(UTC)  # type: ignore[misc]


class FakeWall:
    """A wall clock that moves only when the replay sleeps on it."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def replay(replay_day: date, wall: FakeWall, pace: float = 1.0) -> ReplayClock:
    return ReplayClock(replay_day, wall=wall, real_sleep=wall.sleep, pace=pace)


def test_replay_keeps_new_york_time_of_day_across_daylight_saving() -> None:
    # 10:30 in New York on a summer day (EDT, UTC-4) replays 10:30 of a winter day (EST, UTC-5).
    wall = datetime(2026, 7, 15, 14, 30, tzinfo=UTC)
    clock = ReplayClock(date(2020, 1, 15), date(2026, 7, 15), wall=lambda: wall)
    assert clock.now() == datetime(2020, 1, 15, 15, 30, tzinfo=UTC)
    assert clock.to_wall(clock.now()) == wall


def test_replay_runs_at_one_x_and_lets_the_exchange_catch_up() -> None:
    wall = [datetime(2026, 7, 15, 13, 30, tzinfo=UTC)]
    waits = RecordingSleep()
    driver = RecordingDriver(now=new_york(2020, 3, 16, 9, 30))
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


def test_on_thanksgiving_the_replay_waits_for_fridays_session() -> None:
    wall = FakeWall(new_york(2026, 11, 26, 7, 0))  # Thanksgiving: NYSE closed
    clock = replay(date(2020, 2, 3), wall)
    friday = ReplaySession(
        day=date(2026, 11, 27),
        replays=date(2020, 2, 3),
        opens_at=new_york(2026, 11, 27, 9, 30),
        closes_at=new_york(2026, 11, 27, 13, 0),  # a half day
    )
    assert clock.session() == friday
    historical_open = new_york(2020, 2, 3, 9, 30)
    assert clock.now() < historical_open
    assert clock.real_delay(historical_open) == 26.5 * 3600
    asyncio.run(clock.sleep_until(historical_open))
    assert (wall.now, clock.now()) == (friday.opens_at, historical_open)


def test_a_real_half_day_replays_a_whole_historical_session() -> None:
    wall = FakeWall(new_york(2026, 11, 27, 9, 30))
    clock = replay(date(2020, 2, 3), wall)
    asyncio.run(clock.sleep_until(new_york(2020, 2, 3, 12, 45)))  # half of 6.5 hours
    assert wall.now == new_york(2026, 11, 27, 11, 15)  # half of 3.5 hours
    asyncio.run(clock.sleep_until(new_york(2020, 2, 3, 16, 0)))
    assert wall.now == new_york(2026, 11, 27, 13, 0)


def test_each_real_session_replays_the_next_historical_one() -> None:
    wall = FakeWall(new_york(2026, 11, 28, 12, 0))  # a Saturday
    clock = replay(date(2020, 2, 3), wall)
    assert (clock.session().day, clock.session().replays) == (date(2026, 11, 30), date(2020, 2, 3))
    wall.now = new_york(2026, 12, 1, 10, 0)  # Tuesday's session replays Tuesday 2020-02-04
    assert clock.now() == new_york(2020, 2, 4, 10, 0)
    assert clock.session() == ReplaySession(
        date(2026, 12, 1),
        date(2020, 2, 4),
        new_york(2026, 12, 1, 9, 30),
        wall.now + timedelta(hours=6),
    )


def test_the_closed_time_between_sessions_replays_in_proportion() -> None:
    # Friday's session replays Monday 2020-02-03: the weekend after it (Friday 16:00 .. Monday
    # 09:30, 65.5 h) replays that Monday's night (16:00 .. Tuesday 09:30, 17.5 h).
    wall = FakeWall(new_york(2026, 12, 4, 10, 0))
    clock = replay(date(2020, 2, 3), wall)
    assert clock.now() == new_york(2020, 2, 3, 10, 0)
    wall.now = new_york(2026, 12, 4, 16, 0)
    assert clock.now() == new_york(2020, 2, 3, 16, 0)
    wall.now = new_york(2026, 12, 6, 0, 45)  # half of the weekend
    assert clock.now() == new_york(2020, 2, 4, 0, 45)  # half of the night
    wall.now = new_york(2026, 12, 7, 9, 30)
    assert clock.now() == new_york(2020, 2, 4, 9, 30)


def test_after_the_close_the_replay_waits_for_the_next_session() -> None:
    wall = FakeWall(new_york(2026, 11, 25, 17, 0))  # Wednesday after the close
    clock = replay(date(2020, 2, 3), wall)
    assert clock.session().day == date(2026, 11, 27)


def test_a_resumed_replay_carries_on_from_the_exchange() -> None:
    wall = FakeWall(new_york(2026, 12, 1, 8, 0))
    clock = replay(date(2020, 2, 3), wall)
    clock.attach(RecordingDriver(now=new_york(2020, 2, 5, 11, 0)))
    assert clock.session().replays == date(2020, 2, 5)
    clock.attach(RecordingDriver(now=new_york(2020, 2, 5, 16, 0)))  # stopped at its close
    assert clock.session().replays == date(2020, 2, 6)


def test_an_accelerated_replay_waits_a_fraction_of_the_real_time() -> None:
    wall = FakeWall(new_york(2026, 11, 26, 7, 0))
    clock = replay(date(2020, 2, 3), wall, pace=3600)
    assert clock.real_delay(new_york(2020, 2, 3, 9, 30)) == 26.5
    wall.now += timedelta(seconds=26.5)
    assert clock.real_now() == new_york(2026, 11, 27, 9, 30)
    assert clock.now() == new_york(2020, 2, 3, 9, 30)
    with pytest.raises(ValueError, match="pace"):
        replay(date(2020, 2, 3), wall, pace=0)


def test_halting_a_replay_wakes_its_sleepers() -> None:
    clock = ReplayClock(date(2020, 2, 3))

    async def sleep_then_halt() -> None:
        sleeper = asyncio.ensure_future(clock.sleep(24 * 3600.0))
        await asyncio.sleep(0)
        clock.halt()
        await asyncio.wait_for(sleeper, timeout=10)

    asyncio.run(sleep_then_halt())
    assert clock.finished


def test_replay_rejects_datetimes_for_days() -> None:
    with pytest.raises(ValueError, match="replay_day"):
        ReplayClock(START, date(2026, 7, 15))  # type: ignore[arg-type]


def test_require_utc_gives_utc_and_refuses_naive_times() -> None:
    moment = datetime(2024, 3, 1, 15, 30, tzinfo=UTC)
    assert require_utc(moment, "when") is moment
    in_new_york = require_utc(moment.astimezone(NEW_YORK), "when")
    assert (in_new_york, in_new_york.tzinfo) == (moment, UTC)
    with pytest.raises(ValueError, match=r"when = .*timezone-aware"):
        require_utc(moment.replace(tzinfo=None), "when")
