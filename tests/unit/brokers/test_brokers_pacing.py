"""The message budget (a token bucket): never more than ``capacity + rate`` messages in any
second, so a bucket built `within` the broker's limit never causes a pacing error (checked
against the simulated broker's own sliding-window pacer); and the ``PacedBroker``, which takes
each request's tokens from it as the port counts messages."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from brokers_sim_fakes import call, open_fake, put, run, single
from hypothesis import given, settings
from hypothesis import strategies as st

from v6.brokers import ErrorEvent, PacingViolationError
from v6.brokers.pacing import PacedBroker, PacingBudgetError, TokenBucket
from v6.brokers.sim import Simulation
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
        (0.0, 1, 1, r"rate = 0.0: expected a finite number > 0"),
        (-45.0, 1, 1, r"rate = -45.0: expected a finite number > 0"),
        (math.nan, 1, 1, r"rate = nan: expected a finite number > 0"),
        (math.inf, 1, 1, r"rate = inf: expected a finite number > 0"),
        ("45", 1, 1, r"rate = '45': expected a finite number > 0"),
        (True, 1, 1, r"rate = True: expected a finite number > 0"),
        (1.0, 0, 1, r"capacity = 0: expected an integer >= 1"),
        (1.0, 4.0, 1, r"capacity = 4.0: expected an integer >= 1"),
        (1.0, True, 1, r"capacity = True: expected an integer >= 1"),
        (1.0, 2, 3, r"token count = 3: expected at most the bucket's capacity \(2\)"),
        (1.0, 2, 0, r"token count = 0: expected an integer >= 1"),
        (1.0, 2, 1.5, r"token count = 1.5: expected an integer >= 1"),
        (1.0, 2, True, r"token count = True: expected an integer >= 1"),
    ],
)
def test_bad_arguments_name_what_was_expected(
    rate: float, capacity: int, count: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        TokenBucket(rate, capacity, START).take(count, START)


@pytest.mark.parametrize("limit", [0.0, -50.0, math.nan, math.inf, "50"])
def test_a_bucket_within_a_limit_that_is_no_limit_is_refused(limit: float) -> None:
    with pytest.raises(
        ValueError, match=r"broker.pacing_messages_per_second = .*: expected a finite number > 0"
    ):
        TokenBucket.within(45.0, 4, limit, START)


def test_naive_times_are_refused_not_guessed() -> None:
    naive = datetime(2024, 3, 4, 14, 30)
    with pytest.raises(ValueError, match=r"TokenBucket start = .*: expected a timezone-aware"):
        TokenBucket(45.0, 4, naive)
    bucket = TokenBucket(45.0, 4, START)
    with pytest.raises(ValueError, match=r"now = .*: expected a timezone-aware"):
        bucket.take(1, naive)


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


# -- PacedBroker on the simulated exchange -------------------------------------------------


def paced(capacity: int = 8) -> tuple[Simulation, PacedBroker, TokenBucket]:
    sim, _ = open_fake()
    bucket = TokenBucket(45.0, capacity, sim.clock.now())
    return sim, PacedBroker(sim.broker, bucket, sim.clock), bucket


Request = Callable[[PacedBroker], Awaitable[object]]
ORDER = single(put(300), 1, 1, 1.05)
TOKENS_PER_REQUEST: dict[str, tuple[Request, int]] = {
    "option chain": (lambda b: b.option_chain("SPY"), 1),
    "snapshot of three": (lambda b: b.snapshot_quotes([put(300), put(305), call(400)]), 3),
    "qualify two": (lambda b: b.qualify([put(300), call(400)]), 2),
    "subscribe": (lambda b: b.subscribe_quotes(put(300)), 1),
    "unsubscribe": (lambda b: b.unsubscribe_quotes(put(300)), 1),
    "what-if": (lambda b: b.what_if(ORDER), 1),
    "place": (lambda b: b.place_order(ORDER), 1),
    "bracket": (lambda b: b.place_bracket(ORDER, -2.00, -0.50), 3),
    "account values": (lambda b: b.account_values(), 0),
    "positions": (lambda b: b.positions(), 0),
    "open orders": (lambda b: b.open_orders(), 0),
    "executions": (lambda b: b.executions(), 0),
    "completed orders": (lambda b: b.completed_orders(), 1),
}


@pytest.mark.parametrize("name", list(TOKENS_PER_REQUEST))
def test_each_request_takes_a_token_per_message_as_the_port_counts_them(name: str) -> None:
    request, tokens = TOKENS_PER_REQUEST[name]
    sim, broker, bucket = paced()

    async def scenario() -> None:
        await broker.connect()
        now = sim.clock.now()
        await request(broker)
        assert sim.clock.now() == now
        assert bucket.available(now) == bucket.capacity - tokens

    run(scenario())


def test_modifying_and_cancelling_an_order_take_one_token_each() -> None:
    sim, broker, bucket = paced()

    async def scenario() -> None:
        await broker.connect()
        now = sim.clock.now()
        state = await broker.place_order(ORDER)
        await broker.modify_order(state.order_id, limit_price=1.10)
        await broker.cancel_order(state.order_id)
        assert bucket.available(now) == bucket.capacity - 3

    run(scenario())


def test_a_snapshot_beyond_the_burst_goes_out_in_batches_waiting_for_tokens() -> None:
    sim, broker, _ = paced(capacity=4)
    contracts = [put(k) for k in range(300, 350, 5)]

    async def scenario() -> None:
        await broker.connect()
        stream = sim.broker.events()
        start = sim.clock.now()
        quotes = await broker.snapshot_quotes(contracts)
        assert [q.contract for q in quotes] == contracts
        waited = (sim.clock.now() - start).total_seconds()
        assert waited == pytest.approx((len(contracts) - 4) / 45.0, abs=1e-5)
        assert not [e for e in stream.drain() if isinstance(e, ErrorEvent)]

    run(scenario())


def test_a_pacing_error_from_another_sender_empties_the_bucket_and_is_raised() -> None:
    sim, broker, bucket = paced()
    strikes = range(300, 505, 5)
    others = ([put(k) for k in strikes] + [call(k) for k in strikes])[:50]

    async def scenario() -> None:
        await broker.connect()
        await sim.broker.snapshot_quotes(others)
        now = sim.clock.now()
        with pytest.raises(PacingViolationError) as error:
            await broker.option_chain("SPY")
        assert error.value.code == 100
        assert bucket.available(now) == 0

    run(scenario())


def test_a_paced_broker_is_not_paced_twice() -> None:
    _, broker, bucket = paced()
    with pytest.raises(ValueError, match="expected an unpaced broker"):
        PacedBroker(broker, bucket, SimClock(START))
