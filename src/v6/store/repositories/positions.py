"""Broker positions as last seen (``positions``) and per-leg snapshots
(``position_snapshots``, partitioned by trade date)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

from v6.domain import Greeks, OptionContract, Position
from v6.store.catalog import POSITION_SNAPSHOTS, POSITIONS
from v6.store.records import EXCHANGE_TIME_ZONE, LegSnapshot, trade_date, utc
from v6.store.repositories._base import (
    Repository,
    Row,
    contract_columns,
    contract_from_row,
)

_GREEKS = ("delta", "gamma", "theta", "vega", "rho")
_LEG_KEY = ["strategy_id", "occ_symbol"]
_NEW_YORK_MICROS = pa.timestamp("us", EXCHANGE_TIME_ZONE.key)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class PositionRepository(Repository):
    """The broker's positions, one row per (account, symbol), updated on every sync."""

    def save(self, positions: Iterable[Position], at: datetime) -> None:
        stamp = utc(at, "PositionRepository.save.at")
        self._write(POSITIONS, (_position_row(p, stamp) for p in positions))

    def current(self, account: str | None = None, *, include_flat: bool = False) -> list[Position]:
        """Positions as last seen (optionally of one account), by account and symbol;
        flat ones (quantity 0) only with ``include_flat``."""
        filters = [] if account is None else [("account", "=", account)]
        rows = sorted(self._rows(POSITIONS, filters), key=lambda r: (r["account"], r["symbol"]))
        positions = [_position(row) for row in rows]
        return [p for p in positions if include_flat or not p.is_flat]


class SnapshotRepository(Repository):
    """Marks, quotes, implied vol and Greeks per leg per sync."""

    def record(self, snapshots: Iterable[LegSnapshot]) -> None:
        self._write(POSITION_SNAPSHOTS, (_snapshot_row(s) for s in snapshots))

    def record_frame(self, snapshots: pa.Table) -> None:
        """`record` for many legs at once (an Arrow table): one row per snapshot with
        ``strategy_id``, ``occ_symbol``, ``at`` (UTC microseconds) and any of the table's
        value columns (``mark``, ``bid``, ``ask``, ``implied_vol``, ``underlying_price`` and
        the per-share Greeks ``delta`` ... ``rho``; missing ones are null). ``trade_date``
        follows from ``at``."""
        at = snapshots.column("at")
        self._write(POSITION_SNAPSHOTS, snapshots.append_column("trade_date", _trade_dates(at)))

    def day(self, day: date) -> pa.Table:
        """Every snapshot of one trading day (one partition), as an Arrow table."""
        return self._reader.read(POSITION_SNAPSHOTS, filters=[("trade_date", "=", day)])

    def latest(self, day: date) -> dict[tuple[str, str], LegSnapshot]:
        """The last snapshot of each leg on ``day``, by (strategy_id, OCC symbol)."""
        snapshots = pl.from_arrow(self.day(day))
        assert isinstance(snapshots, pl.DataFrame)
        last = snapshots.sort("at").group_by(_LEG_KEY, maintain_order=True).last()
        found = (_snapshot(row) for row in last.to_dicts())
        return {(s.strategy_id, s.contract.occ_symbol): s for s in found}


def _trade_dates(at: pa.ChunkedArray) -> pa.Array:
    """The `trade_date` of each UTC time (null for null): the New York calendar date, as
    Arrow's date cast gives it for the same instants viewed in New York time. A batch within
    one New York day (a sync cycle's marks) takes that date without the cast: in a running
    engine the cast's time-zone lookup is the dearer of the two (bench_run: a median ~100 us
    a batch against ~74 us)."""
    times = at.combine_chunks()
    if len(times) and not times.null_count:
        day = _one_day(times.view(pa.int64()).to_numpy())
        if day is not None:
            return pa.array(np.full(len(times), day, "datetime64[D]"))
    return times.view(_NEW_YORK_MICROS).cast(pa.date32())


def _one_day(micros: npt.NDArray[np.int64]) -> date | None:
    """The New York date of every UTC time of ``micros`` when the earliest and the latest have
    the same; None when they do not, or lie beyond Python's datetimes."""
    try:
        first, last = (
            trade_date(_EPOCH + timedelta(microseconds=int(stamp)))
            for stamp in (micros.min(), micros.max())
        )
    except OverflowError:
        return None
    return first if first == last else None


def _position_row(position: Position, at: datetime) -> Row:
    return {
        "account": position.account,
        **contract_columns(position.contract),
        "quantity": position.quantity,
        "avg_cost": position.avg_cost,
        "updated_at": at,
    }


def _position(row: Row) -> Position:
    return Position(row["account"], contract_from_row(row), row["quantity"], row["avg_cost"])


def _snapshot_row(snapshot: LegSnapshot) -> Row:
    greeks = snapshot.greeks
    return {
        "trade_date": snapshot.trade_date,
        "at": snapshot.at,
        "strategy_id": snapshot.strategy_id,
        "occ_symbol": snapshot.contract.occ_symbol,
        "underlying_price": snapshot.underlying_price,
        "bid": snapshot.bid,
        "ask": snapshot.ask,
        "mark": snapshot.mark,
        "implied_vol": snapshot.implied_vol,
        **{name: None if greeks is None else getattr(greeks, name) for name in _GREEKS},
    }


def _snapshot(row: Row) -> LegSnapshot:
    """A snapshot row back as a record; the contract comes from the OCC symbol (standard
    multiplier of 100: snapshots do not repeat the leg's multiplier)."""
    values = [row[name] for name in _GREEKS]
    greeks = None if any(value is None for value in values) else Greeks(*values)
    return LegSnapshot(
        strategy_id=row["strategy_id"],
        contract=OptionContract.from_occ(row["occ_symbol"]),
        at=row["at"],
        mark=row["mark"],
        bid=row["bid"],
        ask=row["ask"],
        implied_vol=row["implied_vol"],
        underlying_price=row["underlying_price"],
        greeks=greeks,
    )
