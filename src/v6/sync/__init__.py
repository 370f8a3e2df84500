"""Position sync: which strategies stream, paced snapshots for the rest, reconciliation with
the broker, marks to the store, and the book frame the decision engine reads.

``PositionSync`` (``v6.sync.service``) is what the engine calls; the parts are
``StrategyRegistry`` (registry), ``Streamer`` (streamer), ``PositionQueue`` (queue),
``QueueWorker`` (worker), ``MarkBook`` (marks), ``BookFrames`` (frame) and ``reconcile``
(reconcile). Their requests draw on the connection's message budget, a ``TokenBucket``
(``v6.brokers.pacing``).
"""

from v6.sync.frame import BookFrames
from v6.sync.marks import MarkBook
from v6.sync.queue import PositionQueue
from v6.sync.reconcile import (
    BrokerBook,
    ConflictKind,
    LegFate,
    Reconciliation,
    is_unmanaged,
    reconcile,
)
from v6.sync.registry import Activity, StrategyRegistry
from v6.sync.service import PositionSync, SyncCycle, SyncStatus
from v6.sync.streamer import Streamer
from v6.sync.worker import QueueWorker, WorkerStats

__all__ = [
    "Activity",
    "BookFrames",
    "BrokerBook",
    "ConflictKind",
    "LegFate",
    "MarkBook",
    "PositionQueue",
    "PositionSync",
    "QueueWorker",
    "Reconciliation",
    "StrategyRegistry",
    "Streamer",
    "SyncCycle",
    "SyncStatus",
    "WorkerStats",
    "is_unmanaged",
    "reconcile",
]
