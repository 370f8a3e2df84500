"""Determinism and the journal: the same seed and orders give the same run, and a run killed
at any point resumes from ``<data-dir>/sim/`` exactly where the exchange was."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from brokers_sim_fakes import (
    FakeMarket,
    call,
    open_fake,
    put,
    run,
    single,
    step,
)

from v6.brokers import (
    BrokerEvent,
    ConnectionLostError,
    OcaType,
    OrderLeg,
    OrderSpec,
    OrderStatus,
    PositionEvent,
    QuoteEvent,
    TimeInForce,
)
from v6.brokers.sim import JournalMismatchError, SimExchange, Simulation
from v6.brokers.sim.codec import compact_json
from v6.brokers.sim.journal import GROWTH_BYTES, JOURNAL_FILE, Journal, read_lines
from v6.config.broker import FaultInjectionConfig

STEPS = 20
FAULTS = FaultInjectionConfig(reject_rate=0.1, partial_fill_rate=0.3)


def wavy_spot(time: datetime) -> float:
    """A deterministic path for the fake market, a function of time only (survives seek)."""
    minutes = time.hour * 60 + time.minute + time.day * 24 * 60
    return 400.0 + ((minutes // 30) % 7 - 3) * 1.5


def market() -> FakeMarket:
    return FakeMarket(spot_of=wavy_spot)


async def act(sim: Simulation, index: int) -> None:
    """The orders of step ``index``: limits inside the spread (the seeded fill model), a
    combo, OCA, a bracket, cancels, modifications and forced partial fills."""
    broker = sim.broker
    if index == 0:
        await broker.place_order(single(put(390), 1, 5, 1.00))
        await broker.place_order(single(call(405), -1, 3, -1.00, tif=TimeInForce.GTC))
        spread = (OrderLeg(put(395), -1), OrderLeg(put(385), 1))
        await broker.place_order(OrderSpec(spread, 2, limit_price=-0.05))
    elif index == 3:
        await broker.place_bracket(single(put(380), 1, 2, 1.02), -1.50, -0.60)
        for strike in (410, 415):
            spec = single(call(strike), 1, 2, 1.01, oca_group="pair", oca_type=OcaType(2))
            await broker.place_order(spec)
    elif index == 6:
        broker.faults.partial_fills(2)
        for order in await broker.open_orders():
            if order.order_id % 2 == 0:
                await broker.cancel_order(order.order_id)
    elif index == 9:
        for order in await broker.open_orders():
            if order.spec.limit_price is not None and order.status is OrderStatus.SUBMITTED:
                await broker.modify_order(order.order_id, limit_price=order.spec.limit_price)
    elif index == 15:
        await broker.place_order(single(put(400), -1, 4, -0.99))


async def play(sim: Simulation, first: int, last: int, log: list[BrokerEvent]) -> None:
    stream = sim.broker.events()
    await sim.broker.connect()
    for index in range(first, last):
        await act(sim, index)
        await step(sim)
    log.extend(e for e in stream.drain() if not isinstance(e, QuoteEvent))
    stream.close()


def full_run(seed: int, data_dir: Path | None = None) -> tuple[str, list[BrokerEvent]]:
    sim, _ = open_fake(market(), data_dir=data_dir, seed=seed, faults=FAULTS)
    log: list[BrokerEvent] = []
    run(play(sim, 0, STEPS, log))
    sim.exchange.close()
    return sim.exchange.state_json(), log


def test_the_same_seed_and_orders_give_the_same_fills_and_pnl() -> None:
    first_state, first_log = full_run(seed=11)
    second_state, second_log = full_run(seed=11)
    assert first_state == second_state
    assert first_log == second_log
    assert any(isinstance(event, PositionEvent) for event in first_log)
    other_state, _ = full_run(seed=12)
    assert other_state != first_state


@pytest.mark.parametrize("kill_after", [1, 7, 13])
def test_a_killed_run_resumes_exactly_where_the_exchange_was(
    tmp_path: Path, kill_after: int
) -> None:
    expected_state, expected_log = full_run(seed=5, data_dir=tmp_path / "whole")
    directory = tmp_path / "killed"
    first, _ = open_fake(market(), data_dir=directory, seed=5, faults=FAULTS)
    before: list[BrokerEvent] = []
    run(play(first, 0, kill_after, before))
    first.exchange.close()  # the process dies here; everything was already on disk
    second, _ = open_fake(market(), data_dir=directory, seed=5, faults=FAULTS)
    assert second.exchange.state_json() == first.exchange.state_json()
    assert second.clock.now() == first.clock.now()
    after: list[BrokerEvent] = []
    run(play(second, kill_after, STEPS, after))
    assert second.exchange.state_json() == expected_state
    trading = [e for e in expected_log if type(e).__name__ != "ConnectionEvent"]
    resumed = [e for e in before + after if type(e).__name__ != "ConnectionEvent"]
    farm_codes = {2104, 2106, 2158}
    assert [e for e in resumed if getattr(e, "code", None) not in farm_codes] == [
        e for e in trading if getattr(e, "code", None) not in farm_codes
    ]


def test_the_journal_is_json_lines_with_a_header_and_fsynced_states(tmp_path: Path) -> None:
    full_run(seed=3, data_dir=tmp_path)
    journal = tmp_path / "sim" / JOURNAL_FILE
    lines = [json.loads(line) for line in read_lines(journal)]
    records_end = len("".join(line + "\n" for line in read_lines(journal)))
    assert set(journal.read_bytes()[records_end:]) == {0}
    assert lines[0]["kind"] == "header"
    assert lines[0]["run"]["seed"] == 3
    kinds = {line["kind"] for line in lines[1:]}
    assert kinds <= {"state", "clock"}
    assert "state" in kinds
    seqs = [line["seq"] for line in lines[1:]]
    assert seqs == sorted(seqs)
    state = next(line["state"] for line in reversed(lines) if line["kind"] == "state")
    assert {"time", "account", "orders", "fill_rng", "next_order_id", "executions"} <= set(state)


def test_a_torn_last_line_is_ignored(tmp_path: Path) -> None:
    sim, _ = open_fake(market(), data_dir=tmp_path, seed=3)
    run(play(sim, 0, 4, []))
    sim.exchange.close()
    path = tmp_path / "sim" / JOURNAL_FILE
    with path.open("r+b") as journal:
        journal.seek(path.read_bytes().index(b"\0"))
        journal.write(b'{"kind": "state", "seq": 999, "state": {"ti')
    resumed, _ = open_fake(market(), data_dir=tmp_path, seed=3)
    assert resumed.exchange.state_json() == sim.exchange.state_json()


def test_a_journal_of_another_run_is_refused(tmp_path: Path) -> None:
    sim, _ = open_fake(market(), data_dir=tmp_path, seed=3)
    sim.exchange.close()
    with pytest.raises(JournalMismatchError, match="belongs to run"):
        open_fake(market(), data_dir=tmp_path, seed=4)


def test_compaction_keeps_the_journal_short_and_resumable(tmp_path: Path) -> None:
    header = {"run": "r"}
    journal = Journal(tmp_path, compact_after=5)
    assert journal.open(header) is None
    for i in range(12):
        journal.record_state(compact_json({"time": f"t{i}", "value": i}))
        journal.record_clock({"time": f"c{i}"})
    journal.close()
    assert len(read_lines(tmp_path / JOURNAL_FILE)) <= 6
    assert Journal(tmp_path).open(header) == {"time": "c11", "value": 11}


def test_clock_records_overwrite_only_the_fields_they_carry(tmp_path: Path) -> None:
    header = {"run": "r"}
    journal = Journal(tmp_path)
    journal.open(header)
    journal.record_state(compact_json({"time": "t0", "market_time": "m0", "value": 1}))
    journal.record_clock({"time": "t1", "market_time": "m1"})
    journal.record_clock({"time": "t2"})
    journal.close()
    assert Journal(tmp_path).open(header) == {"time": "t2", "market_time": "m1", "value": 1}


@pytest.mark.parametrize("clock", [{}, {"time": "t", "seq": 3}, {"kind": "state"}])
def test_a_clock_record_carries_only_state_fields(tmp_path: Path, clock: dict[str, str]) -> None:
    journal = Journal(tmp_path)
    journal.open({"run": "r"})
    with pytest.raises(ValueError, match="clock record fields"):
        journal.record_clock(clock)


def journaled_state(directory: Path) -> dict[str, object]:
    """What the journal on disk resumes to: the last state, then the later clock fields."""
    state: dict[str, object] = {}
    for line in read_lines(directory / "sim" / JOURNAL_FILE)[1:]:
        record = json.loads(line)
        fields = record["state"] if record["kind"] == "state" else record
        state.update((k, v) for k, v in fields.items() if k not in ("kind", "seq"))
    return state


@pytest.mark.parametrize(
    "faults",
    [
        FaultInjectionConfig(
            reject_rate=0.1,
            partial_fill_rate=0.3,
            disconnect_rate=0.05,
            stale_quote_rate=0.2,
            bad_quote_rate=0.2,
        ),
        FaultInjectionConfig(disconnect_rate=0.05),
    ],
    ids=["quote faults", "clean quotes"],
)
def test_after_every_change_the_journal_resumes_to_the_state_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, faults: FaultInjectionConfig
) -> None:
    """The exchange decides what to journal without serializing its state (and without
    comparing it after a call that moves only the clock): after each journaling, the file
    must still hold exactly the state (quote faults, outages, fills, cancels)."""
    sim, _ = open_fake(market(), data_dir=tmp_path, seed=7, faults=faults)
    commit = SimExchange._commit
    checks: list[bool] = []
    clock_only_calls: list[bool] = []

    def checked_commit(exchange: SimExchange, *, clock_only: bool = False) -> None:
        commit(exchange, clock_only=clock_only)
        clock_only_calls.append(clock_only)
        checks.append(
            json.dumps(journaled_state(tmp_path), sort_keys=True) == sim.exchange.state_json()
        )

    monkeypatch.setattr(SimExchange, "_commit", checked_commit)

    async def trade() -> None:
        await sim.broker.connect()
        await sim.broker.subscribe_quotes(call(400))
        for index in range(STEPS):
            try:
                await act(sim, index)
                await sim.clock.sleep(90)  # within the step: cancels apply, outages end
                await sim.broker.snapshot_quotes([put(390), call(405), put(395)])
            except ConnectionLostError:
                pass  # a random outage: the step's remaining requests are not served
            await step(sim)

    run(trade())
    assert len(checks) > 2 * STEPS
    assert all(checks)
    assert any(clock_only_calls), "calls that moved only the clock were journaled too"


def test_an_advance_between_steps_journals_an_ended_outage_and_applied_cancels(
    tmp_path: Path,
) -> None:
    """Between two market steps an advance only moves the clock, unless an outage ends or a
    requested cancel applies: those must reach the journal too."""
    sim, _ = open_fake(market(), data_dir=tmp_path)
    exchange = sim.exchange
    exchange.faults.disconnect(30)
    exchange.advance_to(exchange.now + timedelta(seconds=10))
    assert exchange.connectivity_lost
    exchange.advance_to(exchange.now + timedelta(seconds=40))
    assert not exchange.connectivity_lost
    assert json.dumps(journaled_state(tmp_path), sort_keys=True) == exchange.state_json()
    order = exchange.place_order(single(put(390), 1, 1, 0.05))
    exchange.request_cancel(order.order_id)
    exchange.advance_to(exchange.now + timedelta(seconds=10))
    cancelled = exchange.order(order.order_id)
    assert cancelled is not None
    assert cancelled.status is OrderStatus.CANCELLED
    assert json.dumps(journaled_state(tmp_path), sort_keys=True) == exchange.state_json()


def test_a_clock_line_is_the_json_encoding_of_its_record(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.open({"run": "r"})
    journal.record_clock({"time": 'a "quoted" \\ t\u00e9xt\n', "market_time": "m1"})
    journal.close()
    line = read_lines(tmp_path / JOURNAL_FILE)[-1]
    record = {"kind": "clock", "seq": 1, "time": 'a "quoted" \\ t\u00e9xt\n', "market_time": "m1"}
    assert line == json.dumps(record, separators=(",", ":"))


def test_records_are_written_over_zeros_grown_a_step_at_a_time(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.open({"run": "r"})
    big = "x" * (GROWTH_BYTES // 3)
    for i in range(4):
        journal.record_state(compact_json({"time": f"t{i}", "padding": big}))
        journal.record_clock({"time": f"c{i}"})
    journal.close()
    path = tmp_path / JOURNAL_FILE
    lines = read_lines(path)
    assert len(lines) == 9
    assert path.stat().st_size == len(lines[0]) + 1 + 2 * GROWTH_BYTES
    assert Journal(tmp_path).open({"run": "r"}) == {"time": "c3", "padding": big}


def test_every_record_is_in_the_file_before_the_journal_is_closed(tmp_path: Path) -> None:
    """What a killed process leaves: records reach the file as they are written."""
    journal = Journal(tmp_path)
    journal.open({"run": "r"})
    journal.record_state(compact_json({"time": "t0", "value": 1}))
    journal.record_clock({"time": "t1"})
    lines = read_lines(tmp_path / JOURNAL_FILE)
    journal.close()
    assert [json.loads(line)["kind"] for line in lines] == ["header", "state", "clock"]
    assert json.loads(lines[-1]) == {"kind": "clock", "seq": 2, "time": "t1"}


def test_a_cancel_requested_before_a_restart_applies_after_it(tmp_path: Path) -> None:
    sim, _ = open_fake(market(), data_dir=tmp_path)
    order = sim.exchange.place_order(single(put(390), 1, 1, 0.05))
    sim.exchange.request_cancel(order.order_id)
    sim.exchange.close()
    resumed, _ = open_fake(market(), data_dir=tmp_path)
    waiting = resumed.exchange.order(order.order_id)
    assert waiting is not None
    assert waiting.status is OrderStatus.PENDING_CANCEL
    resumed.exchange.advance_to(resumed.exchange.now + timedelta(seconds=10))
    cancelled = resumed.exchange.order(order.order_id)
    assert cancelled is not None
    assert cancelled.status is OrderStatus.CANCELLED
