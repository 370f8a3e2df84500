"""JSON forms of the simulated exchange's state, for the journal.

Plain dicts, lists, strings and numbers only (no NaN): floats round-trip exactly through
Python's ``json``; contracts are written as OCC symbols or stock symbols; times as ISO 8601
UTC strings. The journal writes them as compact JSON text (``compact_json``).
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from v6.brokers.events import ExecutionEvent
from v6.brokers.sim.account import Account, Holding
from v6.brokers.sim.faults import BadQuoteKind, FaultCounters
from v6.brokers.sim.orders import SimOrder
from v6.brokers.types import (
    ExecutionKind,
    OcaType,
    OrderLeg,
    OrderSpec,
    OrderStatus,
    OrderType,
    TimeInForce,
)
from v6.domain import Contract, OptionContract, StockContract

Json = dict[str, Any]
Frozen = TypeVar("Frozen")
Mutable = TypeVar("Mutable")

_COMPACT = json.JSONEncoder(allow_nan=False, separators=(",", ":"))


def compact_json(value: Any) -> str:
    """``value`` as JSON text without spaces (NaN and infinities refused)."""
    return _COMPACT.encode(value)


@dataclass(slots=True)
class _Kept(Generic[Frozen]):
    value: Frozen
    json: Json
    text: str | None = None


class KeptJson(Generic[Frozen]):
    """``encode`` of frozen objects (specs, executions), kept per object with its compact text:
    every state journaled writes the session's orders and executions again, mostly the very
    same objects.

    Kept by identity, not equality: equal objects may still write different JSON (``0.0`` and
    ``-0.0``, ``1`` and ``1.0`` compare equal). Each entry holds its object, so its id is not
    reused while kept; all are dropped when ``limit`` is reached. The returned dict is shared:
    callers must not change it."""

    def __init__(self, encode: Callable[[Frozen], Json], limit: int = 4_096) -> None:
        self._encode = encode
        self._limit = limit
        self._kept: dict[int, _Kept[Frozen]] = {}

    def __call__(self, value: Frozen) -> Json:
        return self._entry(value).json

    def text(self, value: Frozen) -> str:
        """``compact_json`` of ``self(value)``."""
        entry = self._entry(value)
        if entry.text is None:
            entry.text = compact_json(entry.json)
        return entry.text

    def _entry(self, value: Frozen) -> _Kept[Frozen]:
        found = self._kept.get(id(value))
        if found is not None and found.value is value:
            return found
        if len(self._kept) >= self._limit:
            self._kept.clear()
        entry = self._kept[id(value)] = _Kept(value, self._encode(value))
        return entry


def time_to_json(value: datetime) -> str:
    return value.isoformat()


def time_from_json(text: str) -> datetime:
    return datetime.fromisoformat(text)


@dataclass(frozen=True, slots=True)
class _KeptText(Generic[Mutable]):
    value: Mutable
    fields: tuple[object, ...]
    text: str


class KeptText(Generic[Mutable]):
    """``compact_json(encode(value))`` of mutable objects (orders), kept per object while each
    of its ``fields`` still holds the very same object: every state journaled writes the
    session's orders again, and most have not changed since the last record.

    The same objects, not equal ones: equal values may still write different JSON (``0.0``
    and ``-0.0``, ``1`` and ``True``). Each entry holds its object and the field values it was
    written from, so no id is reused while kept; all are dropped when ``limit`` is reached."""

    def __init__(
        self,
        encode: Callable[[Mutable], Json],
        fields: Callable[[Mutable], tuple[object, ...]],
        limit: int = 4_096,
    ) -> None:
        self._encode = encode
        self._fields = fields
        self._limit = limit
        self._kept: dict[int, _KeptText[Mutable]] = {}

    def __call__(self, value: Mutable) -> str:
        current = self._fields(value)
        found = self._kept.get(id(value))
        if (
            found is not None
            and found.value is value
            and all(map(operator.is_, found.fields, current))
        ):
            return found.text
        if len(self._kept) >= self._limit:
            self._kept.clear()
        text = compact_json(self._encode(value))
        self._kept[id(value)] = _KeptText(value, current, text)
        return text


def contract_to_json(contract: Contract) -> Json:
    if isinstance(contract, OptionContract):
        return {"occ": contract.occ_symbol, "multiplier": contract.multiplier}
    return {"stock": contract.symbol}


def contract_from_json(data: Json) -> Contract:
    if "occ" in data:
        return OptionContract.from_occ(data["occ"], int(data["multiplier"]))
    return StockContract(data["stock"])


def spec_to_json(spec: OrderSpec) -> Json:
    return {
        "legs": [[contract_to_json(leg.contract), leg.ratio] for leg in spec.legs],
        "quantity": spec.quantity,
        "order_type": spec.order_type.value,
        "limit_price": spec.limit_price,
        "stop_price": spec.stop_price,
        "tif": spec.tif.value,
        "order_ref": spec.order_ref,
        "oca_group": spec.oca_group,
        "oca_type": int(spec.oca_type),
    }


def spec_from_json(data: Json) -> OrderSpec:
    return OrderSpec(
        legs=tuple(OrderLeg(contract_from_json(c), int(ratio)) for c, ratio in data["legs"]),
        quantity=int(data["quantity"]),
        order_type=OrderType(data["order_type"]),
        limit_price=data["limit_price"],
        stop_price=data["stop_price"],
        tif=TimeInForce(data["tif"]),
        order_ref=data["order_ref"],
        oca_group=data["oca_group"],
        oca_type=OcaType(data["oca_type"]),
    )


_kept_spec_json = KeptJson(spec_to_json)


def order_to_json(order: SimOrder) -> Json:
    return {
        "order_id": order.order_id,
        "spec": _kept_spec_json(order.spec),
        "status": order.status.value,
        "parent_id": order.parent_id,
        "filled": order.filled,
        "fill_value": order.fill_value,
        "commission": order.commission,
        "contracts_traded": order.contracts_traded,
        "shares_traded": order.shares_traded,
        "stock_value_traded": order.stock_value_traded,
        "triggered": order.triggered,
        "cancel_requested": order.cancel_requested,
        "message": order.message,
    }


def order_from_json(data: Json) -> SimOrder:
    return SimOrder(
        order_id=int(data["order_id"]),
        spec=spec_from_json(data["spec"]),
        status=OrderStatus(data["status"]),
        parent_id=data["parent_id"],
        filled=int(data["filled"]),
        fill_value=float(data["fill_value"]),
        commission=float(data["commission"]),
        contracts_traded=int(data["contracts_traded"]),
        shares_traded=int(data["shares_traded"]),
        stock_value_traded=float(data["stock_value_traded"]),
        triggered=bool(data["triggered"]),
        cancel_requested=bool(data["cancel_requested"]),
        message=data["message"],
    )


def account_to_json(account: Account) -> Json:
    return {
        "account_id": account.account_id,
        "cash": account.cash,
        "realized_pnl": account.realized_pnl,
        "holdings": [
            [contract_to_json(contract), holding.quantity, holding.avg_cost]
            for contract, holding in account.holdings.items()
        ],
    }


def account_from_json(data: Json) -> Account:
    holdings = {
        contract_from_json(contract): Holding(int(quantity), float(avg_cost))
        for contract, quantity, avg_cost in data["holdings"]
    }
    return Account(data["account_id"], data["cash"], holdings, data["realized_pnl"])


def counters_to_json(counters: FaultCounters) -> Json:
    return {
        "reject_orders": counters.reject_orders,
        "partial_fills": counters.partial_fills,
        "stale_quotes": counters.stale_quotes,
        "bad_quotes": counters.bad_quotes,
        "bad_kind": counters.bad_kind.value,
    }


def counters_from_json(data: Json) -> FaultCounters:
    return FaultCounters(
        reject_orders=int(data["reject_orders"]),
        partial_fills=int(data["partial_fills"]),
        stale_quotes=int(data["stale_quotes"]),
        bad_quotes=int(data["bad_quotes"]),
        bad_kind=BadQuoteKind(data["bad_kind"]),
    )


def execution_to_json(execution: ExecutionEvent) -> Json:
    return {
        "time": time_to_json(execution.time),
        "exec_id": execution.exec_id,
        "order_id": execution.order_id,
        "contract": contract_to_json(execution.contract),
        "quantity": execution.quantity,
        "price": execution.price,
        "kind": execution.kind.value,
        "order_ref": execution.order_ref,
    }


def execution_from_json(data: Json) -> ExecutionEvent:
    return ExecutionEvent(
        time=time_from_json(data["time"]),
        exec_id=data["exec_id"],
        order_id=data["order_id"],
        contract=contract_from_json(data["contract"]),
        quantity=int(data["quantity"]),
        price=float(data["price"]),
        kind=ExecutionKind(data["kind"]),
        order_ref=data["order_ref"],
    )
