"""PositionQueue: which legs the queue worker snapshots next, and how far behind it is.

Members are the legs that sync follows but does not stream, identified by their row in the
`MarkBook`. Each has a *weight*: 1 for a leg far from any trigger (or of unknown distance),
falling linearly to ``MIN_WEIGHT`` at the trigger (distance 0 and beyond) and for strategies
in flight; a contract held by several strategies takes the smallest weight.

Order ("closest to a trigger first, then the oldest mark"): legs never served come first,
closest to a trigger first; after them, the leg whose time since it was last served divided
by its weight is largest - so of two legs served at the same time the closer one goes first,
and of two equally close legs the older one. Dividing by the weight, rather than sorting by
closeness outright, keeps the far legs from starving: in a steady rotation every leg is
served when its age reaches ``weight x L`` with ``L = sum(1 / weight) / rate``, so a leg at a
trigger is refreshed twice as often as a far one and no leg waits longer than ``L`` - which
is ``N / rate`` when all ``N`` legs are far.

*Depth* counts the legs that are due: never served, or older than ``weight x L``. Commands:
`force_full_sync` makes every leg due at once (then served closest first); `clear` drops the
backlog - every member counts as served now, and the rotation starts afresh (the marks keep
their true ages).
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

import numpy as np

from v6.sync.marks import NEVER, FloatArray, IntArray, micros

MIN_WEIGHT: Final = 0.5
"""The weight of a leg at (or beyond) a trigger: refreshed up to twice as often."""


def weights_for(distances: FloatArray, priority_fraction: float) -> FloatArray:
    """Queue weights from distances to a trigger (NaN: unknown, weight 1)."""
    known = np.where(np.isnan(distances), priority_fraction, distances)
    closeness = np.clip(known / priority_fraction, 0.0, 1.0)
    return MIN_WEIGHT + (1.0 - MIN_WEIGHT) * closeness


class PositionQueue:
    """The members, their weights and when each was last served; see the module docstring."""

    def __init__(self, rate_per_second: float) -> None:
        if not rate_per_second > 0:
            raise ValueError(f"PositionQueue rate = {rate_per_second!r}: expected a number > 0")
        self._rate = float(rate_per_second)
        self._members: IntArray = np.empty(0, dtype=np.int64)
        self._weights: FloatArray = np.empty(0)
        self._rotation = 0.0
        self._distances: FloatArray = np.empty(0)
        self._served: IntArray = np.empty(0, dtype=np.int64)

    def __len__(self) -> int:
        return len(self._members)

    @property
    def members(self) -> IntArray:
        return self._members

    def update(self, rows: IntArray, weights: FloatArray, distances: FloatArray) -> None:
        """Set the members (mark rows) with their weights and distances (NaN: unknown)."""
        if not len(rows) == len(weights) == len(distances):
            raise ValueError(
                f"PositionQueue.update: {len(rows)} rows, {len(weights)} weights and "
                f"{len(distances)} distances: expected one of each per member"
            )
        if len(rows) and rows.max() >= len(self._served):
            grown = np.full(int(rows.max()) * 2 + 1, NEVER, dtype=np.int64)
            grown[: len(self._served)] = self._served
            self._served = grown
        self._members = rows.astype(np.int64, copy=False)
        self._weights = weights.astype(np.float64, copy=False)
        self._rotation = float(np.sum(1.0 / self._weights)) / self._rate
        self._distances = np.where(np.isnan(distances), np.inf, distances)  # unknown: last

    @property
    def rotation_seconds(self) -> float:
        """``L``: the longest a far leg waits in a steady rotation (``sum(1/w) / rate``)."""
        return self._rotation

    def take(self, count: int, now: datetime) -> IntArray:
        """The ``count`` most urgent members (mark rows), recorded as served at ``now``."""
        if count < 1 or not len(self._members):
            return np.empty(0, dtype=np.int64)
        stamp = micros(now)
        rows = self._members[self._most_urgent(stamp, count)]
        self._served[rows] = stamp
        return rows

    def _most_urgent(self, stamp: int, count: int) -> IntArray:
        """Indexes of the ``count`` members first in the order of the module docstring: the
        never served (urgency infinite), then the largest age / weight; ties (at the cut too)
        go to the closer leg, then to the earlier member. Sorted by ``-urgency`` (computed
        as such: served - now), so the most urgent come first."""
        served = self._served[self._members]
        key = np.where(served == NEVER, -np.inf, (served - stamp) / self._weights)
        if count >= len(key):
            return np.lexsort((self._distances, key))[:count]
        cut = np.partition(key, count - 1)[count - 1]
        candidates = np.flatnonzero(key <= cut)
        order = np.lexsort((self._distances[candidates], key[candidates]))
        return candidates[order[:count]]

    def requeue(self, rows: IntArray) -> None:
        """Serve these rows again as soon as possible (their request failed)."""
        self._served[rows] = NEVER

    def depth(self, now: datetime) -> int:
        """Members that are due: never served, or older than ``weight x L``."""
        if not len(self._members):
            return 0
        served = self._served[self._members]
        limit = self._weights * self.rotation_seconds * 1e6
        due = (served == NEVER) | (micros(now) - served >= limit)
        return int(np.count_nonzero(due))

    def force_full_sync(self) -> None:
        """Every member is due now; they are served closest to a trigger first."""
        self._served[:] = NEVER

    def clear(self, now: datetime) -> None:
        """Drop the backlog: every member counts as served at ``now``."""
        self._served[self._members] = micros(now)
