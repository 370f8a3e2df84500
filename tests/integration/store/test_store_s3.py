"""V6's store on object storage: a moto S3 server on 127.0.0.1, started by this test.

Create, append, merge, replay, compaction, maintenance and reads all go through V6's store
with the location and options taken from a V6 configuration (credentials from the
environment). The last test shows why no locking provider is needed: S3 (and moto) support
conditional writes, which delta-rs uses to commit, so a second writer racing for the same
table version gets a commit conflict instead of overwriting the first.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import boto3
import pyarrow as pa
import pytest
from deltalake import CommitProperties, DeltaTable, write_deltalake
from deltalake.exceptions import CommitFailedError

from v6.config import load_config_text
from v6.domain import Leg, OptionContract, Right, Strategy, StrategyKind, StrategyStatus
from v6.store import LegSnapshot, Store, StoreLocation, WriterSettings, maintain_table, table_stats
from v6.store.catalog import POSITION_SNAPSHOTS, STRATEGIES

T0 = datetime(2024, 1, 2, 15, 0, tzinfo=UTC)
BUCKET = "v6-store-test"
CREDENTIALS = {"V6_STORAGE__ACCESS_KEY_ID": "testing", "V6_STORAGE__SECRET_ACCESS_KEY": "testing"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _create_bucket(url)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def _create_bucket(url: str) -> None:
    client = boto3.client(
        "s3", endpoint_url=url, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while True:
        try:
            client.create_bucket(Bucket=BUCKET)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.fixture
def location(endpoint: str, request: pytest.FixtureRequest) -> StoreLocation:
    """A fresh prefix per test, configured the way a user configures V6."""
    config = load_config_text(
        f"""
        [storage]
        location = "s3://{BUCKET}/{request.node.name}"

        [storage.storage_options]
        aws_endpoint_url = "{endpoint}"
        aws_allow_http = "true"
        aws_region = "us-east-1"
        """,
        env=CREDENTIALS,
    )
    return StoreLocation.from_config(config.storage)


def _condor(strategy_id: str) -> Strategy:
    shape = ((430, Right.PUT, 1), (440, Right.PUT, -1), (470, Right.CALL, -1), (480, Right.CALL, 1))
    legs = tuple(Leg(OptionContract("SPY", date(2024, 2, 16), k, r), q) for k, r, q in shape)
    return Strategy(
        strategy_id, StrategyKind.IRON_CONDOR, legs, status=StrategyStatus.OPEN,
        entry_premium=2.0, opened_at=T0,
    )  # fmt: skip


def test_create_append_merge_compact_and_read_on_s3(location: StoreLocation) -> None:
    store = Store(location, "engine", WriterSettings(compact_every_commits=3))
    strategy = _condor("ic-1")
    for minute in range(4):
        store.strategies.save([strategy], at=T0)
        store.snapshots.record(
            LegSnapshot("ic-1", leg.contract, T0 + timedelta(minutes=minute), mark=1.0 + minute)
            for leg in strategy.legs
        )
        store.flush()
    closing = strategy.transition_to(StrategyStatus.CLOSING, T0 + timedelta(minutes=5))
    store.strategies.save([closing], at=T0 + timedelta(minutes=5))
    store.flush()

    reader = Store(location)
    assert reader.strategies.live() == [closing]
    latest = reader.snapshots.latest(T0.date())
    assert {snapshot.mark for snapshot in latest.values()} == {4.0}
    snapshots = table_stats(location, POSITION_SNAPSHOTS)
    assert (snapshots.rows, snapshots.files) == (16, 2)
    assert table_stats(location, STRATEGIES).version == 2


def test_a_replay_on_s3_commits_nothing(location: StoreLocation) -> None:
    store = Store(location, "engine")
    snapshot = LegSnapshot("ic-1", _condor("ic-1").legs[0].contract, T0, mark=1.0)
    for _ in range(2):
        store.strategies.save([_condor("ic-1")], at=T0)
        store.snapshots.record([snapshot])
        store.flush()
    assert table_stats(location, STRATEGIES).version == 1
    assert table_stats(location, POSITION_SNAPSHOTS).version == 1


def test_on_s3_make_durable_commits_what_is_buffered(location: StoreLocation) -> None:
    store = Store(location, "engine")
    store.strategies.save([_condor("ic-1")], at=T0)
    store.make_durable()
    assert Store(location).strategies.live() == [_condor("ic-1")]


def test_on_s3_a_due_flush_commits_in_the_background(location: StoreLocation) -> None:
    now = [0.0]
    store = Store(
        location, "engine", WriterSettings(flush_interval_seconds=5), clock=lambda: now[0]
    )
    store.strategies.save([_condor("ic-1")], at=T0)
    now[0] = 5.0
    assert store.flush_if_due() == []
    closing = _condor("ic-1").transition_to(StrategyStatus.CLOSING, T0 + timedelta(minutes=5))
    store.strategies.save([closing], at=T0 + timedelta(minutes=5))
    flushed = store.flush()
    assert [(f.table, f.rows) for f in flushed if f.table == "strategies"] == [
        ("strategies", 1),
        ("strategies", 1),
    ]
    assert Store(location).strategies.live() == [closing]


def test_maintenance_on_s3(location: StoreLocation) -> None:
    store = Store(location, "engine")
    for minute in range(3):
        contract = _condor("ic-1").legs[0].contract
        store.snapshots.record([LegSnapshot("ic-1", contract, T0 + timedelta(minutes=minute))])
        store.flush()
    report = maintain_table(location, POSITION_SNAPSHOTS, retention_hours=24)
    assert (report.files_compacted, report.skipped) == (3, None)
    assert table_stats(location, POSITION_SNAPSHOTS).files == 1
    assert Store(location).snapshots.day(T0.date()).num_rows == 3


def test_racing_writers_conflict_instead_of_overwriting(location: StoreLocation) -> None:
    uri, options = location.table_uri("race"), location.options()
    write_deltalake(uri, pa.table({"n": [0]}), storage_options=options)
    first, second = (DeltaTable(uri, storage_options=options) for _ in range(2))
    write_deltalake(first, pa.table({"n": [1]}), mode="append")
    with pytest.raises(CommitFailedError):
        write_deltalake(
            second,
            pa.table({"n": [2]}),
            mode="append",
            commit_properties=CommitProperties(max_commit_retries=0),
        )
    assert pa.table(DeltaTable(uri, storage_options=options).scan()).num_rows == 2
