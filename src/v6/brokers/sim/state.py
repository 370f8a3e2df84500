"""Everything the simulated exchange must remember to resume exactly where it was."""

from __future__ import annotations

import dataclasses
import operator
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any, cast

import numpy as np

from v6.brokers.events import ExecutionEvent
from v6.brokers.sim import codec
from v6.brokers.sim.account import Account
from v6.brokers.sim.faults import FaultCounters
from v6.brokers.sim.orders import OrderBook, SimOrder
from v6.config.broker import SimConfig

FILL_STREAM = 1
FAULT_STREAM = 2
QUOTE_FAULT_STREAM = 3
"""Independent random streams per seed: fills never shift because faults were drawn, and
order-side faults never shift because V6 asked for more or fewer quotes."""


_order_values = operator.attrgetter(*(f.name for f in fields(SimOrder)))
_counter_values = operator.attrgetter(*(f.name for f in fields(FaultCounters)))
_holding_values = operator.attrgetter("quantity", "avg_cost")


def seeded(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, stream])


def _generator_from(state: dict[str, Any]) -> np.random.Generator:
    bit_generator = np.random.PCG64()
    bit_generator.state = cast(Any, state)
    return np.random.Generator(bit_generator)


def execution_to_json(execution: ExecutionEvent) -> dict[str, Any]:
    """An execution with its commission (``to_json`` keeps each execution's JSON)."""
    return {**codec.execution_to_json(execution), "commission": execution.commission}


_kept_execution_json = codec.KeptJson(execution_to_json)
_kept_order_text = codec.KeptText(codec.order_to_json, _order_values)


def _execution_from_json(data: dict[str, Any]) -> ExecutionEvent:
    """An execution with its commission; a journal written before commissions were kept
    resumes with it unknown (None)."""
    execution = codec.execution_from_json(data)
    return dataclasses.replace(execution, commission=data.get("commission"))


def run_header(config: SimConfig, account_id: str) -> dict[str, Any]:
    """What identifies a run in its journal: resuming needs the same."""
    return {
        "account": account_id,
        "seed": config.seed,
        "symbols": list(config.symbols),
        "start": config.start_date.isoformat(),
        "end": config.end_date.isoformat(),
        "bar_step_minutes": config.bar_step_minutes,
        "starting_cash": config.starting_cash,
    }


@dataclass(slots=True)
class ExchangeState:
    """Clock, account, orders, id counters, generator states, faults and executions.

    ``time`` is the clock; ``market_time`` the market step last processed (at or before it).
    """

    time: datetime
    market_time: datetime
    session_day: date
    account: Account
    fill_rng: np.random.Generator
    fault_rng: np.random.Generator
    quote_rng: np.random.Generator
    orders: OrderBook = field(default_factory=OrderBook)
    counters: FaultCounters = field(default_factory=FaultCounters)
    finished: bool = False
    next_order_id: int = 1
    next_exec_id: int = 1
    outage_until: datetime | None = None
    executions: list[ExecutionEvent] = field(default_factory=list)

    @classmethod
    def fresh(
        cls, config: SimConfig, time: datetime, session_day: date, account_id: str
    ) -> ExchangeState:
        return cls(
            time=time,
            market_time=time,
            session_day=session_day,
            account=Account(account_id, config.starting_cash),
            fill_rng=seeded(config.seed, FILL_STREAM),
            fault_rng=seeded(config.seed, FAULT_STREAM),
            quote_rng=seeded(config.seed, QUOTE_FAULT_STREAM),
        )

    def take_order_id(self) -> int:
        order_id = self.next_order_id
        self.next_order_id += 1
        return order_id

    def take_exec_id(self) -> str:
        exec_id = f"sim.{self.next_exec_id:08d}"
        self.next_exec_id += 1
        return exec_id

    def clock(self) -> tuple[datetime, datetime]:
        """The clock fields: they may move without anything else changing (a clock advance,
        quiet market steps)."""
        return self.time, self.market_time

    def clock_json(self, since: tuple[datetime, datetime] | None = None) -> dict[str, str]:
        """The clock fields as ``to_json`` writes them; with ``since`` (an earlier
        ``clock()``), only those that moved since."""
        moved = {}
        if since is None or self.time != since[0]:
            moved["time"] = codec.time_to_json(self.time)
        if since is None or self.market_time != since[1]:
            moved["market_time"] = codec.time_to_json(self.market_time)
        return moved

    def content_key(self) -> tuple[object, ...]:
        """What ``to_json`` writes besides the clock fields, as values compared without
        serializing: equal keys mean the same JSON but for the clock (floats compare by value,
        so a zero's sign is not seen). Orders and counters enter with every dataclass field,
        holdings with their quantity and average cost after their contracts; specs, contracts
        and executions are frozen and compare by value."""
        account = self.account
        return (
            self.session_day,
            self.finished,
            self.next_order_id,
            self.next_exec_id,
            account.account_id,
            account.cash,
            account.realized_pnl,
            tuple(account.holdings),
            tuple(map(_holding_values, account.holdings.values())),
            tuple(map(_order_values, self.orders.orders.values())),
            self.fill_rng.bit_generator.state,
            self.fault_rng.bit_generator.state,
            self.quote_rng.bit_generator.state,
            _counter_values(self.counters),
            self.outage_until,
            tuple(self.executions),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            **self._json_before_orders(),
            "orders": [codec.order_to_json(order) for order in self.orders.orders.values()],
            **self._json_after_orders(),
            "executions": [_kept_execution_json(e) for e in self.executions],
        }

    def json_text(self) -> str:
        """``codec.compact_json(self.to_json())``, with the text kept for each execution and
        each order that has not changed: the session's orders and executions are most of a
        state, and mostly the same from one state to the next (the journal writes this)."""
        before = codec.compact_json(self._json_before_orders())[:-1]
        orders = ",".join(map(_kept_order_text, self.orders.orders.values()))
        after = codec.compact_json(self._json_after_orders())[1:-1]
        executions = ",".join(map(_kept_execution_json.text, self.executions))
        return f'{before},"orders":[{orders}],{after},"executions":[{executions}]}}'

    def _json_before_orders(self) -> dict[str, Any]:
        return {
            "time": codec.time_to_json(self.time),
            "market_time": codec.time_to_json(self.market_time),
            "session_day": self.session_day.isoformat(),
            "finished": self.finished,
            "next_order_id": self.next_order_id,
            "next_exec_id": self.next_exec_id,
            "account": codec.account_to_json(self.account),
        }

    def _json_after_orders(self) -> dict[str, Any]:
        return {
            "fill_rng": self.fill_rng.bit_generator.state,
            "fault_rng": self.fault_rng.bit_generator.state,
            "quote_rng": self.quote_rng.bit_generator.state,
            "faults": codec.counters_to_json(self.counters),
            "outage_until": None
            if self.outage_until is None
            else codec.time_to_json(self.outage_until),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExchangeState:
        orders = OrderBook()
        for order_data in data["orders"]:
            orders.add(codec.order_from_json(order_data))
        outage = data["outage_until"]
        return cls(
            time=codec.time_from_json(data["time"]),
            market_time=codec.time_from_json(data["market_time"]),
            session_day=date.fromisoformat(data["session_day"]),
            account=codec.account_from_json(data["account"]),
            fill_rng=_generator_from(data["fill_rng"]),
            fault_rng=_generator_from(data["fault_rng"]),
            quote_rng=_generator_from(data["quote_rng"]),
            orders=orders,
            counters=codec.counters_from_json(data["faults"]),
            finished=bool(data["finished"]),
            next_order_id=int(data["next_order_id"]),
            next_exec_id=int(data["next_exec_id"]),
            outage_until=None if outage is None else codec.time_from_json(outage),
            executions=[_execution_from_json(e) for e in data["executions"]],
        )
