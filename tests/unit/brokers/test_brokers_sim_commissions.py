"""Executions re-delivered with their commissions (IB's reqExecutions gives each Fill its
commission report): the simulated broker lists the commission its live CommissionEvent
reported, after a restart from the journal too; a journal written before commissions were
kept resumes with them unknown."""

from __future__ import annotations

import json
from pathlib import Path

from brokers_sim_fakes import open_fake, put, run, single, step

from v6.brokers import CommissionEvent, ExecutionEvent
from v6.brokers.sim.journal import JOURNAL_FILE, read_lines


def test_executions_are_listed_with_the_commission_their_live_report_carried() -> None:
    sim, _ = open_fake()

    async def scenario() -> None:
        await sim.broker.connect()
        stream = sim.broker.events()
        await sim.broker.place_order(single(put(390), -1, 3, -0.01))
        await step(sim)
        events = stream.drain()
        live = [e for e in events if isinstance(e, ExecutionEvent)]
        charged = {e.exec_id: e.commission for e in events if isinstance(e, CommissionEvent)}
        assert [e.commission for e in live] == [None], "as IB's execDetails"
        listed = await sim.broker.executions()
        assert {e.exec_id: e.commission for e in listed} == charged
        assert sum(charged.values()) > 0

    run(scenario())


def test_a_restart_from_the_journal_lists_the_same_commissions(tmp_path: Path) -> None:
    first, _ = open_fake(data_dir=tmp_path)

    async def trade() -> dict[str, float | None]:
        await first.broker.connect()
        await first.broker.place_order(single(put(390), -1, 2, -0.01))
        await step(first)
        return {e.exec_id: e.commission for e in await first.broker.executions()}

    before = run(trade())
    first.exchange.close()
    second, _ = open_fake(data_dir=tmp_path)

    async def listed() -> dict[str, float | None]:
        await second.broker.connect()
        return {e.exec_id: e.commission for e in await second.broker.executions()}

    assert before
    assert None not in before.values()
    assert run(listed()) == before


def test_a_journal_without_commissions_resumes_with_them_unknown(tmp_path: Path) -> None:
    first, _ = open_fake(data_dir=tmp_path)

    async def trade() -> None:
        await first.broker.connect()
        await first.broker.place_order(single(put(390), -1, 1, -0.01))
        await step(first)

    run(trade())
    first.exchange.close()
    journal = tmp_path / "sim" / JOURNAL_FILE
    records = [json.loads(line) for line in read_lines(journal)]
    for record in records:
        for execution in record.get("state", {}).get("executions", []):
            del execution["commission"]
    journal.write_text("".join(json.dumps(record) + "\n" for record in records))
    second, _ = open_fake(data_dir=tmp_path)

    async def listed() -> list[float | None]:
        await second.broker.connect()
        return [e.commission for e in await second.broker.executions()]

    assert run(listed()) == [None]
