"""The position queue: closest to a trigger first, then the oldest mark, and no leg starves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from v6.sync.queue import MIN_WEIGHT, PositionQueue, weights_for

START = datetime(2024, 3, 4, 14, 30, tzinfo=UTC)
RATE = 10.0


def queue_of(distances: list[float], fraction: float = 0.25) -> PositionQueue:
    queue = PositionQueue(RATE)
    values = np.array(distances)
    queue.update(np.arange(len(values)), weights_for(values, fraction), values)
    return queue


def serve(queue: PositionQueue, seconds: float, batch: int = 2) -> list[tuple[float, int]]:
    """Run the queue at RATE for ``seconds``: (time, row) of every leg served."""
    served = []
    step = batch / RATE
    for index in range(int(seconds / step)):
        at = index * step
        served += [(at, int(row)) for row in queue.take(batch, START + timedelta(seconds=at))]
    return served


def test_weights_fall_from_one_to_the_minimum_at_the_trigger() -> None:
    weights = weights_for(np.array([np.nan, 1.0, 0.25, 0.125, 0.0, -0.5, -np.inf]), 0.25)

    assert weights.tolist() == [1.0, 1.0, 1.0, 0.75, MIN_WEIGHT, MIN_WEIGHT, MIN_WEIGHT]


def test_legs_never_served_go_first_closest_to_a_trigger_first() -> None:
    queue = queue_of([0.9, np.nan, 0.1, 0.5, -0.2])

    assert queue.take(3, START).tolist() == [4, 2, 3]
    assert queue.take(3, START).tolist() == [0, 1, 4]


def test_then_the_oldest_mark_goes_first() -> None:
    queue = queue_of([1.0] * 4)
    for row in range(4):
        queue.take(1, START + timedelta(seconds=row))

    assert queue.take(4, START + timedelta(seconds=10)).tolist() == [0, 1, 2, 3]


def test_of_equally_old_legs_the_closer_goes_first() -> None:
    queue = queue_of([0.9, 0.05, 0.6])
    queue.take(3, START)

    assert queue.take(3, START + timedelta(seconds=5)).tolist() == [1, 2, 0]


def test_a_leg_at_a_trigger_is_served_twice_as_often_and_no_leg_starves() -> None:
    distances = [0.0] * 10 + [1.0] * 90
    queue = queue_of(distances)

    served = serve(queue, 60.0)

    counts = np.bincount([row for at, row in served if at >= 20], minlength=100)
    near, far = counts[:10].mean(), counts[10:].mean()
    assert near / far == pytest.approx(2.0, rel=0.15)
    rotation = queue.rotation_seconds
    assert rotation == pytest.approx((10 / MIN_WEIGHT + 90) / RATE)
    assert max(_gaps(served, start=20)) <= rotation * 1.05


def test_a_uniform_book_rotates_in_n_over_rate() -> None:
    queue = queue_of([np.nan] * 50)

    served = serve(queue, 30.0)

    assert queue.rotation_seconds == pytest.approx(50 / RATE)
    assert max(_gaps(served, start=10)) == pytest.approx(50 / RATE)


def _gaps(served: list[tuple[float, int]], start: float) -> list[float]:
    """Seconds between consecutive services of each leg, from ``start`` on."""
    last: dict[int, float] = {}
    gaps = []
    for at, row in served:
        if row in last and at >= start:
            gaps.append(at - last[row])
        last[row] = at
    return gaps


def test_depth_counts_the_overdue_legs() -> None:
    queue = queue_of([1.0] * 20)

    assert queue.depth(START) == 20
    queue.take(20, START)
    assert queue.depth(START + timedelta(seconds=1)) == 0
    assert queue.depth(START + timedelta(seconds=2)) == 20


def test_force_full_sync_makes_every_leg_due_and_clear_drops_the_backlog() -> None:
    queue = queue_of([1.0] * 20)
    queue.take(20, START)
    later = START + timedelta(seconds=1)

    queue.force_full_sync()
    assert queue.depth(later) == 20

    queue.clear(later)
    assert queue.depth(later) == 0
    assert queue.depth(later + timedelta(seconds=2)) == 20


def test_a_failed_request_is_retried_first() -> None:
    queue = queue_of([1.0] * 6)
    queue.take(6, START)
    failed = queue.take(2, START + timedelta(seconds=1))

    queue.requeue(failed)

    assert queue.take(2, START + timedelta(seconds=1)).tolist() == failed.tolist()


def test_membership_changes_keep_when_each_leg_was_served() -> None:
    queue = queue_of([1.0] * 3)
    queue.take(3, START)
    queue.update(np.array([1, 2, 7]), np.ones(3), np.ones(3))

    assert queue.take(1, START + timedelta(seconds=1)).tolist() == [7]
    assert queue.take(2, START + timedelta(seconds=1)).tolist() == [1, 2]
    with pytest.raises(ValueError, match="one of each per member"):
        queue.update(np.array([1]), np.ones(2), np.ones(1))
