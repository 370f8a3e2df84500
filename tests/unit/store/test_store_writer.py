"""The batched idempotent writer on local tables: replays, merges, sequences, cadence."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest
from deltalake import DeltaTable

from v6.store import (
    StoreLocation,
    StoreReader,
    StoreWriter,
    WriterConflictError,
    WriterSettings,
)
from v6.store.catalog import COMMANDS, HEALTH, POSITION_SNAPSHOTS, STRATEGIES

T0 = datetime(2024, 1, 2, 15, 0, tzinfo=UTC)

APP = "engine"


def _snapshot(
    minute: int, leg: str = "SPY   240216P00440000", mark: float = 1.0
) -> dict[str, object]:
    at = T0 + timedelta(minutes=minute)
    return {
        "trade_date": at.date(),
        "at": at,
        "strategy_id": "ic-1",
        "occ_symbol": leg,
        "mark": mark,
    }


def _strategy(status: str, at_minute: int = 0) -> dict[str, object]:
    return {
        "strategy_id": "ic-1",
        "kind": "iron_condor",
        "status": status,
        "quantity": 1,
        "defined_risk": True,
        "updated_at": T0 + timedelta(minutes=at_minute),
    }


def _table(location: StoreLocation, name: str) -> DeltaTable:
    return DeltaTable(location.table_uri(name))


def test_a_replayed_append_adds_no_rows_and_no_version(location: StoreLocation) -> None:
    writer = StoreWriter(location, APP)
    writer.add(POSITION_SNAPSHOTS, [_snapshot(0), _snapshot(5)])
    first = writer.flush()
    restarted = StoreWriter(location, APP)
    restarted.add(POSITION_SNAPSHOTS, [_snapshot(0), _snapshot(5), _snapshot(10)])
    second = restarted.flush()
    restarted.add(POSITION_SNAPSHOTS, [_snapshot(5), _snapshot(10)])
    third = restarted.flush()
    assert [(f.rows, f.sequence) for f in first + second + third] == [(2, 1), (1, 2), (0, None)]
    table = _table(location, "position_snapshots")
    assert table.version() == 2
    assert pa.table(table.scan()).num_rows == 3
    assert table.transaction_version(APP) == 2


def test_an_unchanged_merge_commits_nothing_and_a_change_commits_once(
    location: StoreLocation,
) -> None:
    writer = StoreWriter(location, APP)
    writer.add(STRATEGIES, [_strategy("open")])
    writer.flush()
    writer.add(STRATEGIES, [_strategy("open", at_minute=9)])
    assert writer.flush()[0].sequence is None
    writer.add(STRATEGIES, [_strategy("closing", at_minute=10)])
    assert writer.flush()[0].rows == 1
    table = _table(location, "strategies")
    assert table.version() == 2
    [row] = pa.table(table.scan()).to_pylist()
    assert (row["status"], row["updated_at"]) == ("closing", T0 + timedelta(minutes=10))


def test_only_the_entities_that_changed_since_this_writer_committed_them_are_merged(
    location: StoreLocation,
) -> None:
    writer = StoreWriter(location, APP, WriterSettings(compact_every_commits=2))
    second = {**_strategy("open"), "strategy_id": "ic-2"}
    writer.add(STRATEGIES, [_strategy("open"), second])
    writer.flush()
    for status in ("closing", "closed"):
        writer.add(STRATEGIES, [_strategy(status), second])
        assert writer.flush()[0].rows == 1
    writer.add(STRATEGIES, [_strategy("closed"), second])

    assert writer.flush()[0].sequence is None
    assert pa.table(_table(location, "strategies").scan(columns=["status"])).num_rows == 2


def test_an_entity_another_writer_changed_is_merged_again(location: StoreLocation) -> None:
    engine, dashboard = StoreWriter(location, APP), StoreWriter(location, "dashboard")
    engine.add(STRATEGIES, [_strategy("open")])
    engine.flush()
    dashboard.add(STRATEGIES, [_strategy("closing")])
    dashboard.flush()
    engine.add(STRATEGIES, [_strategy("open")])

    assert engine.flush()[0].rows == 1
    [row] = pa.table(_table(location, "strategies").scan(columns=["status"])).to_pylist()
    assert row["status"] == "open"


def test_untracked_updated_at_alone_is_not_a_change(location: StoreLocation) -> None:
    writer = StoreWriter(location, APP)
    writer.add(STRATEGIES, [_strategy("open")])
    writer.flush()
    writer.add(STRATEGIES, [_strategy("open", at_minute=30)])
    writer.flush()
    [row] = pa.table(_table(location, "strategies").scan()).to_pylist()
    assert row["updated_at"] == T0


def test_a_tracked_time_column_is_a_change(location: StoreLocation) -> None:
    writer = StoreWriter(location, APP)
    for minute in (0, 0, 1):
        beat = {"component": "engine", "status": "ok", "at": T0 + timedelta(minutes=minute)}
        writer.add(HEALTH, [beat])
        writer.flush()
    assert _table(location, "health").version() == 2


def test_one_row_per_key_in_a_batch_the_latest_entity_and_the_first_event(
    location: StoreLocation,
) -> None:
    writer = StoreWriter(location, APP)
    writer.add(STRATEGIES, [_strategy("pending"), _strategy("open", 1)])
    writer.add(STRATEGIES, [_strategy("closing", 2)])
    writer.add(POSITION_SNAPSHOTS, [_snapshot(0, mark=1.0), _snapshot(0, mark=2.0)])
    writer.flush()
    reader = StoreReader(location)
    assert reader.read(STRATEGIES, columns=["status"]).to_pylist() == [{"status": "closing"}]
    assert reader.read(POSITION_SNAPSHOTS, columns=["mark"]).to_pylist() == [{"mark": 1.0}]


def test_add_flushes_when_a_table_reaches_flush_rows(location: StoreLocation) -> None:
    writer = StoreWriter(location, APP, WriterSettings(flush_rows=3))
    writer.add(POSITION_SNAPSHOTS, [_snapshot(0), _snapshot(1)])
    writer.add(STRATEGIES, [_strategy("open")])
    assert writer.committed_sequence(POSITION_SNAPSHOTS) == 0
    writer.add(POSITION_SNAPSHOTS, [_snapshot(2)])
    assert writer.committed_sequence(POSITION_SNAPSHOTS) == 1
    assert writer.committed_sequence(STRATEGIES) == 1
    assert writer.pending_rows == 0
    assert pa.table(_table(location, "position_snapshots").scan()).num_rows == 3


def test_flush_if_due_waits_for_the_interval_of_the_oldest_row(location: StoreLocation) -> None:
    now = [100.0]
    writer = StoreWriter(
        location, APP, WriterSettings(flush_interval_seconds=5), clock=lambda: now[0]
    )
    assert writer.flush_if_due() == []
    writer.add(POSITION_SNAPSHOTS, [_snapshot(0)])
    now[0] = 104.9
    assert writer.flush_if_due() == []
    now[0] = 105.0
    assert writer.flush_if_due() == []  # started in the background
    assert writer.pending_rows == 1
    assert [f.rows for f in writer.flush()] == [1]
    assert writer.pending_rows == 0


def test_a_second_process_under_the_same_app_id_is_refused(location: StoreLocation) -> None:
    first = StoreWriter(location, APP)
    second = StoreWriter(location, APP)
    for writer in (first, second):
        writer.add(STRATEGIES, [_strategy("open")])
        writer.flush()
    first.add(STRATEGIES, [_strategy("closing")])
    first.flush()
    second.add(STRATEGIES, [_strategy("closed")])
    with pytest.raises(WriterConflictError, match="another process writes under the same"):
        second.flush()
    assert second.pending_rows == 1


def test_writers_with_their_own_app_ids_share_a_table(location: StoreLocation) -> None:
    dashboard = StoreWriter(location, "dashboard")
    engine = StoreWriter(location, APP)
    command = {
        "command_id": "c1",
        "kind": "close_strategy",
        "payload": "{}",
        "status": "pending",
        "requested_by": "dashboard",
        "requested_at": T0,
        "updated_at": T0,
    }
    dashboard.add(COMMANDS, [command])
    dashboard.flush()
    engine.add(COMMANDS, [{**command, "status": "done", "result": "closed"}])
    engine.flush()
    table = _table(location, "commands")
    assert (table.transaction_version("dashboard"), table.transaction_version(APP)) == (1, 1)
    assert pa.table(table.scan(columns=["status"])).to_pylist() == [{"status": "done"}]


def test_the_writer_compacts_its_partition_every_n_commits(location: StoreLocation) -> None:
    writer = StoreWriter(location, APP, WriterSettings(compact_every_commits=4))
    for minute in range(6):
        writer.add(POSITION_SNAPSHOTS, [_snapshot(minute)])
        writer.flush()
    table = _table(location, "position_snapshots")
    assert len(table.file_uris()) == 3
    assert pa.table(table.scan()).num_rows == 6


def test_the_writer_compacts_after_the_interval(location: StoreLocation) -> None:
    now = [0.0]
    settings = WriterSettings(compact_every_commits=1000, compact_interval_seconds=60)
    writer = StoreWriter(location, APP, settings, clock=lambda: now[0])
    for minute in range(3):
        writer.add(POSITION_SNAPSHOTS, [_snapshot(minute)])
        writer.flush()
    assert len(_table(location, "position_snapshots").file_uris()) == 3
    now[0] = 61.0
    writer.add(POSITION_SNAPSHOTS, [_snapshot(3)])
    writer.flush()
    assert len(_table(location, "position_snapshots").file_uris()) == 1


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({**_strategy("open"), "colour": "red"}, r"unknown columns \['colour'\]"),
        ({**_strategy("open"), "quantity": "one"}, "table 'strategies'"),
        ({**_strategy("open"), "status": None}, "column 'status' has 1 null value"),
    ],
)
def test_bad_rows_are_rejected_when_added(
    location: StoreLocation, row: dict[str, object], message: str
) -> None:
    writer = StoreWriter(location, APP)
    with pytest.raises(ValueError, match=message):
        writer.add(STRATEGIES, [row])
    assert writer.pending_rows == 0


def test_arrow_tables_are_accepted_and_conformed(location: StoreLocation) -> None:
    writer = StoreWriter(location, APP)
    writer.add(POSITION_SNAPSHOTS, pa.Table.from_pylist([_snapshot(0)]))
    assert [f.rows for f in writer.flush()] == [1]


def test_settings_and_app_id_are_checked() -> None:
    with pytest.raises(ValueError, match="flush_rows = 0: expected >= 1"):
        WriterSettings(flush_rows=0)
    with pytest.raises(ValueError, match="compact_interval_seconds = 0: expected > 0"):
        WriterSettings(compact_interval_seconds=0)
    with pytest.raises(ValueError, match="app_id = ' ': expected a non-blank name"):
        StoreWriter(StoreLocation("/tmp/unused"), " ")


def test_rows_sharing_the_newest_time_are_still_looked_up(location: StoreLocation) -> None:
    writer = StoreWriter(location, APP)
    put, call = "SPY   240216P00440000", "SPY   240216C00470000"
    flushed = []
    for leg in (put, call, put):
        writer.add(POSITION_SNAPSHOTS, [_snapshot(0, leg)])
        flushed += [f.rows for f in writer.flush()]
    assert flushed == [1, 1, 0]


def test_events_another_writer_appended_are_not_appended_again(location: StoreLocation) -> None:
    engine, other = StoreWriter(location, APP), StoreWriter(location, "backfill")
    engine.add(POSITION_SNAPSHOTS, [_snapshot(0)])
    engine.flush()
    other.add(POSITION_SNAPSHOTS, [_snapshot(10)])
    other.flush()
    engine.add(POSITION_SNAPSHOTS, [_snapshot(10), _snapshot(11)])
    assert [f.rows for f in engine.flush()] == [1]
    assert pa.table(_table(location, "position_snapshots").scan()).num_rows == 3


def test_dict_and_arrow_rows_keep_the_order_they_were_added_in(location: StoreLocation) -> None:
    writer = StoreWriter(location, APP)
    writer.add(STRATEGIES, [_strategy("pending")])
    writer.add(STRATEGIES, pa.Table.from_pylist([_strategy("open")]))
    writer.add(STRATEGIES, [_strategy("closing")])
    writer.add(POSITION_SNAPSHOTS, pa.Table.from_pylist([_snapshot(0, mark=1.0)]))
    writer.add(POSITION_SNAPSHOTS, [_snapshot(0, mark=2.0)])
    writer.flush()
    reader = StoreReader(location)
    assert reader.read(STRATEGIES, columns=["status"]).to_pylist() == [{"status": "closing"}]
    assert reader.read(POSITION_SNAPSHOTS, columns=["mark"]).to_pylist() == [{"mark": 1.0}]


def test_rows_of_two_schema_versions_of_one_table_are_refused(location: StoreLocation) -> None:
    writer = StoreWriter(location, APP)
    writer.add(STRATEGIES, [_strategy("open")])
    newer = replace(STRATEGIES, version=2)
    with pytest.raises(ValueError, match="schema version 2 while rows for version 1"):
        writer.add(newer, [_strategy("closing")])
    assert writer.pending_rows == 1
