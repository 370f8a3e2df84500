"""Crash recovery: `v6 run` killed with SIGKILL at seeded random moments and resumed with
``--resume`` each time; at the end the exchange's positions and the store's live strategies
agree unit for unit, and no order or execution was duplicated. What the reports that died
with a killed process would have told the store is recovered from the broker's executions:
every execution of V6's orders is in the store with its commission, every order behind them
too, each OPEN strategy carries its entry's net price and has its take-profit and stop resting.

The run is a real subprocess; each kill lands a random (seeded) delay after the process has
started stepping the exchange (its journal changed), so every kill interrupts a live run.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from v6.brokers.sim import open_simulation
from v6.config import load_config
from v6.domain import OptionContract, Strategy, StrategyStatus
from v6.engine import simulation_config
from v6.execution.tickets import strategy_of
from v6.market.simulated import SimulatedMarket
from v6.store import Store, table_spec

CONFIG = Path(__file__).with_name("engine_run.toml")
START = date(2020, 1, 2)
SESSIONS = 8
SEED = 7
KILLS = 10
RUN = "from v6.run_cli import app; app()"
"""`v6 run` itself (the Typer command), independent of how the main CLI mounts it."""
RUN_TIMEOUT_SECONDS = 300.0
"""A hang guard, not a speed check: an 8-session run takes seconds, far more on a loaded machine."""
WORKING = {"PendingSubmit", "PreSubmitted", "Submitted", "PendingCancel"}


def command(data_dir: Path, *, resume: bool) -> list[str]:
    args = [sys.executable, "-c", RUN, "--from", START.isoformat(), "--days", str(SESSIONS)]
    args += ["--seed", str(SEED), "--data-dir", str(data_dir), "--config", str(CONFIG)]
    return [*args, "--quiet", *(["--resume"] if resume else [])]


def journal_stamp(data_dir: Path) -> tuple[int, int]:
    journal = data_dir / "sim" / "journal.jsonl"
    if not journal.exists():
        return (0, 0)
    stat = journal.stat()
    return (stat.st_mtime_ns, stat.st_size)


def kill_while_stepping(data_dir: Path, resume: bool, delay: float) -> bool:
    """Start a run, SIGKILL it ``delay`` seconds after its journal first changes; False when
    it finished before the kill."""
    before = journal_stamp(data_dir)
    process = subprocess.Popen(
        command(data_dir, resume=resume), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    while journal_stamp(data_dir) == before and process.poll() is None:
        assert time.monotonic() < deadline, "the run never stepped the exchange"
        time.sleep(0.02)
    time.sleep(delay)
    if process.poll() is not None:
        assert process.returncode == 0, process.communicate()[1].decode()
        return False
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    return True


def run_to_the_end(data_dir: Path) -> None:
    finished = subprocess.run(
        command(data_dir, resume=True),
        capture_output=True,
        timeout=RUN_TIMEOUT_SECONDS,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr.decode()


def frame(store: Store, table: str) -> pl.DataFrame:
    result = pl.from_arrow(store.reader.read(table_spec(table)))
    assert isinstance(result, pl.DataFrame)
    return result


def exchange_holdings(data_dir: Path) -> dict[OptionContract, int]:
    """The option positions of the exchange, reopened from its journal."""
    config = simulation_config(load_config(CONFIG), START, SESSIONS, SEED)
    sim = open_simulation(SimulatedMarket(config.broker.sim), config.broker, data_dir=data_dir)

    async def held() -> dict[OptionContract, int]:
        await sim.broker.connect()
        positions = await sim.broker.positions()
        await sim.broker.disconnect()
        return {
            p.contract: p.quantity
            for p in positions
            if isinstance(p.contract, OptionContract) and p.quantity
        }

    return asyncio.run(held())


def journal_states(data_dir: Path) -> list[dict[str, Any]]:
    """The exchange states in its journal now (a resumed run compacts the journal to its last
    state, so the test reads it after every kill; a torn last line is skipped)."""
    states = []
    for line in (data_dir / "sim" / "journal.jsonl").read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if record["kind"] == "state":
            states.append(record["state"])
    return states


def exchange_orders(states: list[dict[str, Any]]) -> dict[int, tuple[str, str]]:
    """The orders the exchange's journal saw working, by order id: (reference, type)."""
    return {
        order["order_id"]: (order["spec"]["order_ref"], order["spec"]["order_type"])
        for state in states
        for order in state["orders"]
    }


def exchange_executions(states: list[dict[str, Any]]) -> dict[str, tuple[str, int]]:
    """Every execution of the exchange, by exec id: (order reference, order id)."""
    return {
        execution["exec_id"]: (execution["order_ref"], execution["order_id"])
        for state in states
        for execution in state["executions"]
    }


def v6_executions(states: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every execution of an order V6 placed (it has a V6 order reference), by exec id."""
    return {
        execution["exec_id"]: execution
        for state in states
        for execution in state["executions"]
        if execution["order_id"] is not None and strategy_of(execution["order_ref"]) is not None
    }


def entry_price(strategy: Strategy, executions: list[dict[str, Any]]) -> float:
    """The net price per unit (combo convention) of ``strategy``'s entry executions."""
    first = strategy.legs[0]
    traded = sum(
        e["quantity"] for e in executions if e["contract"]["occ"] == first.contract.occ_symbol
    )
    return sum(e["quantity"] * e["price"] for e in executions) / (traded // first.quantity)


def resting_exits(state: dict[str, Any]) -> dict[str, set[str]]:
    """The order types working at the exchange per strategy under its closing references."""
    exits: dict[str, set[str]] = defaultdict(set)
    for order in state["orders"]:
        ref = order["spec"]["order_ref"]
        if order["status"] in WORKING and ":close:" in ref:
            exits[ref.split(":close:")[0]].add(order["spec"]["order_type"])
    return exits


def walked_closes(states: list[dict[str, Any]]) -> set[str]:
    """Strategies that sent a walked close (not an OCA exit). One still OPEN at the end is
    one whose close gave up: its exits were cancelled for the close, and the decision rules,
    not resting exits, manage it from then on."""
    return {
        order["spec"]["order_ref"].split(":close:")[0]
        for state in states
        for order in state["orders"]
        if ":close:" in order["spec"]["order_ref"] and not order["spec"]["oca_group"]
    }


def assert_recovered(store: Store, states: list[dict[str, Any]]) -> None:
    """What the broker's executions say is in the store: every execution of V6's orders with
    the commission charged, every order behind them, each OPEN strategy at its entry's net
    price and with its take-profit and stop resting at the exchange."""
    charged = v6_executions(states)
    executions = frame(store, "executions")
    recorded = dict(zip(executions["exec_id"], executions["commission"], strict=True))
    assert {e: recorded.get(e) for e in charged} == {e: x["commission"] for e, x in charged.items()}
    behind = {str(execution["order_id"]) for execution in charged.values()}
    assert behind - set(frame(store, "orders")["order_id"]) == set()
    entries: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for execution in charged.values():
        if ":open:" in execution["order_ref"]:
            entries[execution["order_ref"].split(":open:")[0]].append(execution)
    opened = [s for s in store.strategies.live() if s.status is StrategyStatus.OPEN]
    assert opened, "the run ends with open strategies to check"
    premiums = {s.strategy_id: s.entry_premium for s in opened}
    paid = {s.strategy_id: -entry_price(s, entries[s.strategy_id]) for s in opened}
    assert premiums == pytest.approx(paid)
    exits = resting_exits(states[-1])
    protected = [s for s in opened if s.strategy_id not in walked_closes(states)]
    assert {s.strategy_id: exits[s.strategy_id] for s in protected} == {
        s.strategy_id: {"LMT", "STP"} for s in protected
    }


def test_killed_and_resumed_runs_leave_the_broker_and_the_store_in_agreement(
    tmp_path: Path,
) -> None:
    delays = random.Random(SEED)
    kills = 0
    states: list[dict[str, Any]] = []
    while kills < KILLS and kill_while_stepping(tmp_path, kills > 0, delays.uniform(0.0, 0.6)):
        kills += 1
        states += journal_states(tmp_path)
    run_to_the_end(tmp_path)
    states += journal_states(tmp_path)

    store = Store.from_config(
        simulation_config(load_config(CONFIG), START, SESSIONS, SEED).storage.model_copy(
            update={"location": str(tmp_path)}
        )
    )
    expected: dict[OptionContract, int] = defaultdict(int)
    for strategy in store.strategies.live():
        for leg in strategy.legs:
            expected[leg.contract] += leg.quantity * strategy.quantity
    assert kills == KILLS
    assert exchange_holdings(tmp_path) == {c: q for c, q in expected.items() if q}
    placements = Counter(exchange_orders(states).values())
    assert [key for key, count in placements.items() if count > 1] == []
    traded = exchange_executions(states)
    orders_per_ref: dict[str, set[int]] = defaultdict(set)
    for ref, order_id in traded.values():
        orders_per_ref[ref].add(order_id)
    assert {ref: ids for ref, ids in orders_per_ref.items() if len(ids) > 1} == {}
    orders = frame(store, "orders")
    assert orders["order_id"].is_duplicated().sum() == 0
    executions = frame(store, "executions")
    assert executions["exec_id"].is_duplicated().sum() == 0
    assert set(executions["exec_id"]) <= set(traded)
    assert len(executions) > 0
    assert_recovered(store, states)
