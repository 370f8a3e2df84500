"""The message budget (a token bucket): never more than ``capacity + rate`` messages in any
second, so a bucket built `within` the broker's limit never causes a pacing error (checked
against the simulated broker's own sliding-window pacer)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from v6.brokers.pacing import PacingBudgetError, TokenBucket
from v6.brokers.sim.broker import Pacer
from v6.clock import SimClock

START = datetime(2024, 3, 4, 14, 30, tzinfo=UTC)


def test_a_full_bucket_gives_its_capacity_then_refills_at_its_rate() -> None:
    bucket = TokenBucket(45.0, 4, START)

    assert bucket.take(4, START)
    assert not bucket.take(1, START)
    assert bucket.wait_seconds(1, START) == pytest.approx(1 / 45, abs=1e-6)
    assert bucket.wait_seconds(1, START) >= 1 / 45
    assert bucket.take(1, START + timedelta(seconds=1 / 45 + 1e-6))
    assert bucket.available(START + timedelta(seconds=10)) == 4


def test_waits_are_rounded_up_to_the_microsecond() -> None:
    bucket = TokenBucket(3.0, 1, START)
    bucket.take(1, START)

    wait = bucket.wait_seconds(1, START)

    assert wait == pytest.approx(0.333334)
    assert bucket.take(1, START + timedelta(seconds=wait))


def test_draining_empties_the_bucket() -> None:
    bucket = TokenBucket(10.0, 5, START)
    bucket.drain(START)

    assert bucket.available(START) == 0
    assert bucket.wait_seconds(5, START) == pytest.approx(0.5)


def test_a_bucket_that_could_exceed_the_broker_limit_is_refused() -> None:
    with pytest.raises(PacingBudgetError, match=r"45.0 \+ 10.*at most .*\(50.0\)"):
        TokenBucket.within(45.0, 10, 50.0, START)

    assert TokenBucket.within(45.0, 5, 50.0, START).capacity == 5


@pytest.mark.parametrize(
    ("rate", "capacity", "count", "message"),
    [
        (0.0, 1, 1, "rate"),
        (1.0, 0, 1, "capacity"),
        (1.0, 2, 3, "capacity \\(2\\)"),
        (1.0, 2, 0, "integer >= 1"),
    ],
)
def test_bad_arguments_name_what_was_expected(
    rate: float, capacity: int, count: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        TokenBucket(rate, capacity, START).take(count, START)


@settings(max_examples=60, deadline=None)
@given(
    rate=st.floats(1.0, 60.0),
    capacity=st.integers(1, 10),
    gaps=st.lists(st.floats(0.0, 0.3), min_size=1, max_size=300),
    sizes=st.lists(st.integers(1, 10), min_size=1, max_size=300),
)
def test_any_second_carries_at_most_capacity_plus_rate(
    rate: float, capacity: int, gaps: list[float], sizes: list[int]
) -> None:
    """Greedy senders taking whatever the bucket allows, at arbitrary moments, never get
    more than ``capacity + rate`` messages into one of the broker's one-second windows."""
    bucket = TokenBucket(rate, capacity, START)
    pacer = Pacer(capacity + rate)
    now = START
    for gap, size in zip(gaps, sizes, strict=False):
        now += timedelta(seconds=gap)
        count = min(size, capacity)
        if bucket.take(count, now):
            assert pacer.admit(now, count)


def test_acquire_sleeps_on_the_clock_until_the_tokens_are_there() -> None:
    clock = SimClock(START)
    bucket = TokenBucket(10.0, 2, START)

    async def take_six() -> None:
        for _ in range(3):
            await bucket.acquire(2, clock)

    asyncio.run(take_six())

    assert clock.now() - START == timedelta(seconds=0.4)
