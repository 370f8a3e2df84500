"""The dashboard's reads and writes, all through `v6.store`, cached for every session at once.

Each view (`book_view`, `alerts_view`, `health_view`, `account_view`) is a
``st.cache_data`` function keyed by the data location, the refresh interval and the
interval's bucket (wall-clock time divided by the interval), so however many sessions are
open, the tables are read once per refresh interval. Writes (commands, acknowledgements)
clear the views they change.

The engine's clock is the newest heartbeat: a simulated run's times are historical, so ages,
days to expiry and "today's" marks are measured against it, not the wall clock.

Every view records its Delta I/O (`ReadStats`: tables read, rows, seconds), which the Health
page shows and the benchmark reports.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Final, TypeVar

import polars as pl
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import streamlit as st

from v6.dashboard.frames import CONTROL_KINDS, Book, ControlState, build_view, control_state
from v6.domain import Alert, Strategy
from v6.store import Command, Store, StoreLocation, trade_date
from v6.store.catalog import (
    ACCOUNT_SNAPSHOTS,
    ALERTS,
    COMMANDS,
    DECISIONS,
    HEALTH,
    LEGS,
    POSITION_SNAPSHOTS,
    RISK_EVENTS,
    STRATEGIES,
)
from v6.store.readers import Filters
from v6.store.schemas import TableSpec

DASHBOARD_APP_ID: Final = "dashboard"
"""The writer app id of the dashboard's commands and acknowledgements (see docs/storage.md)."""
OFF_BUCKET_SECONDS: Final = 60
"""With auto-refresh off, a page still reads fresh data at most once a minute."""
MARKS_LOOKBACK_DAYS: Final = 7
"""How many calendar days back the latest day with marks is looked for (weekends, holidays)."""
RECENT_COMMANDS: Final = 20

T = TypeVar("T")


@dataclass(frozen=True)
class ReadStats:
    """Delta I/O of one view: tables read, rows returned, seconds spent reading."""

    reads: int = 0
    rows: int = 0
    seconds: float = 0.0

    def __add__(self, other: ReadStats) -> ReadStats:
        return ReadStats(
            self.reads + other.reads, self.rows + other.rows, self.seconds + other.seconds
        )


@dataclass
class _Meter:
    stats: ReadStats = field(default_factory=ReadStats)

    def measured(self, read: Callable[[], T], rows: Callable[[T], int]) -> T:
        start = time.perf_counter()
        result = read()
        elapsed = time.perf_counter() - start
        self.stats = self.stats + ReadStats(1, rows(result), elapsed)
        return result


class StoreAccess:
    """One data location's store, shared by every session of the server.

    The store's reader keeps one handle per table and its writer is single-threaded, while
    Streamlit serves sessions on several threads: a lock serialises every store call. The
    live strategies are kept until the strategies or legs table gets a new version (they
    change on entries and exits, not on every mark).
    """

    def __init__(self, location: StoreLocation) -> None:
        self.location = location
        self._reader = Store(location)
        self._writer: Store | None = None
        self._lock = threading.Lock()
        self._live: tuple[tuple[int | None, int | None], list[Strategy]] | None = None

    @contextmanager
    def reading(self) -> Iterator[Store]:
        with self._lock:
            yield self._reader

    @contextmanager
    def writing(self) -> Iterator[Store]:
        """The store with the dashboard's writer; flushed when the block ends."""
        with self._lock:
            if self._writer is None:
                self._writer = Store(self.location, app_id=DASHBOARD_APP_ID)
            yield self._writer
            self._writer.flush()

    def live_strategies(self, meter: _Meter) -> list[Strategy]:
        """PENDING, OPEN and CLOSING strategies; call inside `reading`."""
        reader = self._reader.reader
        versions = meter.measured(
            lambda: (reader.version(STRATEGIES), reader.version(LEGS)), lambda _: 0
        )
        if self._live is None or self._live[0] != versions:
            found = meter.measured(self._reader.strategies.live, _strategy_rows)
            self._live = (versions, found)
        return self._live[1]


def _strategy_rows(strategies: list[Strategy]) -> int:
    return len(strategies) + sum(len(s.legs) for s in strategies)


def refresh_bucket(interval: int, now: float | None = None) -> int:
    """The cache bucket of ``now`` (epoch seconds) for a refresh ``interval`` (0 = off)."""
    seconds = interval or OFF_BUCKET_SECONDS
    return int((time.time() if now is None else now) // seconds)


def _table(
    meter: _Meter,
    store: Store,
    spec: TableSpec,
    columns: Sequence[str] | None = None,
    filters: Filters = (),
) -> pl.DataFrame:
    arrow: pa.Table = meter.measured(
        lambda: store.reader.read(spec, columns=columns, filters=filters), lambda t: t.num_rows
    )
    frame = pl.from_arrow(arrow)
    assert isinstance(frame, pl.DataFrame)
    return frame


def _engine_clock(meter: _Meter, store: Store) -> datetime | None:
    beats = _table(meter, store, HEALTH, ["at"])
    newest = beats["at"].max()
    return newest if isinstance(newest, datetime) else None


# -- the book -----------------------------------------------------------------------------


@dataclass(frozen=True)
class BookView:
    """Live strategies and legs as of the engine clock (``as_of``), with the day whose marks
    they carry; ``book`` is empty for a fresh data location."""

    as_of: datetime | None
    marks_day: date | None
    book: Book
    io: ReadStats


def load_book(access: StoreAccess, wall_now: datetime | None = None) -> BookView:
    """Read the live book: strategies, the latest mark of every leg and the current
    decisions, as of the engine clock (``wall_now`` or the wall clock without heartbeats)."""
    meter = _Meter()
    with access.reading() as store:
        clock = _engine_clock(meter, store)
        as_of = clock or wall_now or datetime.now(UTC)
        strategies = access.live_strategies(meter)
        symbols = {leg.contract.occ_symbol for s in strategies for leg in s.legs}
        day, snapshots = _latest_marks(meter, store, as_of, symbols)
        ids = {s.strategy_id for s in strategies}
        decisions = _latest_rows(meter, store, _DECISIONS_READ, day, as_of, ids)
    book = build_view(strategies, snapshots, decisions, trade_date(as_of))
    return BookView(clock, day, book, meter.stats)


RECENT: Final = timedelta(minutes=15)
"""Marks and decisions are read from the last 15 minutes of the engine clock first, and from
the whole day only if that misses a leg or a strategy: the engine marks every leg within a
few minutes, so a normal refresh reads a small slice of the day's partition."""


@dataclass(frozen=True)
class _DayRead:
    spec: TableSpec
    columns: tuple[str, ...]
    key: str
    filters: Filters = ()


_SNAPSHOTS_READ: Final = _DayRead(
    POSITION_SNAPSHOTS,
    (
        "at",
        "occ_symbol",
        "underlying_price",
        "bid",
        "ask",
        "mark",
        "implied_vol",
        "delta",
        "gamma",
        "theta",
        "vega",
    ),
    "occ_symbol",
)
_DECISIONS_READ: Final = _DayRead(
    DECISIONS,
    ("strategy_id", "at", "rule", "action", "reason"),
    "strategy_id",
    (("deciding", "=", True),),
)


def _latest_marks(
    meter: _Meter, store: Store, as_of: datetime, symbols: set[str]
) -> tuple[date | None, pl.DataFrame]:
    """The latest day with marks on or before the engine clock's day, and its rows."""
    today = trade_date(as_of)
    frame = _empty(_SNAPSHOTS_READ)
    for back in range(MARKS_LOOKBACK_DAYS):
        day = today - timedelta(days=back)
        frame = _latest_rows(meter, store, _SNAPSHOTS_READ, day, as_of, symbols)
        if not frame.is_empty():
            return day, frame
    return None, frame


def _latest_rows(
    meter: _Meter,
    store: Store,
    read: _DayRead,
    day: date | None,
    as_of: datetime,
    wanted: set[str],
) -> pl.DataFrame:
    """Rows of ``day`` from the last `RECENT` before ``as_of``, or of the whole day if those
    miss one of the ``wanted`` keys (none without a day)."""
    if day is None or not wanted:
        return _empty(read)
    on_day = [("trade_date", "=", day), *read.filters]
    recent = _table(meter, store, read.spec, read.columns, [*on_day, ("at", ">=", as_of - RECENT)])
    if wanted <= set(recent[read.key].to_list()):
        return recent
    return _table(meter, store, read.spec, read.columns, on_day)


def _empty(read: _DayRead) -> pl.DataFrame:
    schema = read.spec.arrow_schema()
    frame = pl.from_arrow(pa.schema([schema.field(c) for c in read.columns]).empty_table())
    assert isinstance(frame, pl.DataFrame)
    return frame


@st.cache_data(ttl=300, max_entries=16, show_spinner=False)
def book_view(_access: StoreAccess, root: str, interval: int, bucket: int) -> BookView:
    """`load_book` once per (location, refresh interval, bucket) for every session."""
    return load_book(_access)


# -- alerts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertsView:
    """Every alert, newest first, with ``active`` (not acknowledged yet)."""

    alerts: pl.DataFrame
    io: ReadStats


def load_alerts(access: StoreAccess) -> AlertsView:
    meter = _Meter()
    with access.reading() as store:
        alerts = _table(meter, store, ALERTS)
    shaped = alerts.with_columns(active=pl.col("acknowledged_at").is_null()).sort(
        "created_at", "alert_id", descending=True
    )
    return AlertsView(shaped, meter.stats)


@st.cache_data(ttl=300, max_entries=16, show_spinner=False)
def alerts_view(_access: StoreAccess, root: str, interval: int, bucket: int) -> AlertsView:
    return load_alerts(_access)


def acknowledge(access: StoreAccess, alert_ids: Sequence[str], at: datetime) -> list[Alert]:
    """Acknowledge the alerts ``alert_ids`` at ``at`` (or their creation time, if later);
    alerts already acknowledged keep their first acknowledgement. Returns those saved."""
    with access.writing() as store:
        found = [store.alerts.get(alert_id) for alert_id in alert_ids]
        saved = [
            alert.acknowledge(max(at, alert.created_at))
            for alert in found
            if alert is not None and not alert.is_acknowledged
        ]
        store.alerts.save(saved)
    alerts_view.clear()
    return saved


# -- health, breaker and commands ------------------------------------------------------------


@dataclass(frozen=True)
class HealthView:
    """Heartbeats by component, the breaker and halt state, and the recent commands."""

    as_of: datetime | None
    heartbeats: pl.DataFrame
    control: ControlState
    commands: pl.DataFrame
    io: ReadStats


def load_health(access: StoreAccess) -> HealthView:
    meter = _Meter()
    with access.reading() as store:
        beats = _table(meter, store, HEALTH).sort("component")
        events = _table(
            meter,
            store,
            RISK_EVENTS,
            ["at", "kind", "reason", "details"],
            [("kind", "in", list(CONTROL_KINDS))],
        )
        commands = _table(meter, store, COMMANDS)
    newest = beats["at"].max()
    recent = commands.sort("requested_at", descending=True).head(RECENT_COMMANDS)
    as_of = newest if isinstance(newest, datetime) else None
    return HealthView(as_of, beats, control_state(events), recent, meter.stats)


@st.cache_data(ttl=300, max_entries=16, show_spinner=False)
def health_view(_access: StoreAccess, root: str, interval: int, bucket: int) -> HealthView:
    return load_health(_access)


def submit(access: StoreAccess, command: Command) -> None:
    """Write ``command`` to the commands table for the engine to carry out."""
    with access.writing() as store:
        store.commands.submit([command])
    health_view.clear()


# -- the account ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountView:
    """Account snapshots in time order: the equity curve and P&L series."""

    snapshots: pl.DataFrame
    io: ReadStats


def load_account(access: StoreAccess) -> AccountView:
    meter = _Meter()
    with access.reading() as store:
        snapshots = _table(meter, store, ACCOUNT_SNAPSHOTS).sort("account", "at")
    return AccountView(snapshots, meter.stats)


@st.cache_data(ttl=300, max_entries=16, show_spinner=False)
def account_view(_access: StoreAccess, root: str, interval: int, bucket: int) -> AccountView:
    return load_account(_access)
