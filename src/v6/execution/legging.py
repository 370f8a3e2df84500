"""Legging protection: legs held out of their strategy's ratios, and how to repair them.

A strategy of unit legs ``r_i`` (signed ratios) holds ``h_i`` contracts of each leg. It is
balanced when every ``h_i = u r_i`` for one whole number of units ``u``. Otherwise some legs
were filled without the others - a combo filled leg by leg, or an order that placed one leg
alone - and a short leg may be naked.

The repair never adds risk:

* **complete** - when every missing contract is a long leg (buying protection), buy them up to
  the most units any leg holds;
* **flatten** - otherwise, close every contract beyond the whole units all legs hold: buy back
  excess shorts, sell excess longs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum, auto

from v6.brokers.events import ExecutionEvent
from v6.domain import InvalidOrderError, Leg, OptionContract, parse_order_ref
from v6.execution.pricing import ComboMarket, round_up


class RepairKind(StrEnum):
    COMPLETE = auto()
    FLATTEN = auto()


@dataclass(frozen=True, slots=True)
class LegImbalance:
    """Contracts ``held`` per unit leg, the whole ``units`` every leg holds, and the repair
    ``trades`` (signed contracts per contract: + buy, - sell)."""

    legs: tuple[Leg, ...]
    held: tuple[int, ...]
    units: int
    kind: RepairKind
    trades: tuple[Leg, ...]

    def describe(self) -> str:
        held = ", ".join(
            f"{quantity:+d} {leg.contract.occ_symbol.replace(' ', '')}"
            for leg, quantity in zip(self.legs, self.held, strict=True)
        )
        trades = ", ".join(
            f"{trade.quantity:+d} {trade.contract.occ_symbol.replace(' ', '')}"
            for trade in self.trades
        )
        return f"held {held} ({self.units} whole units): {self.kind.value} with {trades}"


def leg_imbalance(legs: Sequence[Leg], held: Mapping[OptionContract, int]) -> LegImbalance | None:
    """The imbalance of ``legs`` (one unit's signed ratios) given the contracts ``held``
    (signed, contracts missing from the mapping are 0); None when balanced."""
    quantities = tuple(held.get(leg.contract, 0) for leg in legs)
    per_leg = [h / leg.quantity for leg, h in zip(legs, quantities, strict=True)]
    whole = max(0, min(math.floor(units) for units in per_leg))
    if all(h == whole * leg.quantity for leg, h in zip(legs, quantities, strict=True)):
        return None
    most = max(whole, *(math.ceil(units) for units in per_leg))
    completion = [
        (leg.contract, most * leg.quantity - h) for leg, h in zip(legs, quantities, strict=True)
    ]
    if all(trade >= 0 for _, trade in completion):
        return LegImbalance(
            tuple(legs), quantities, whole, RepairKind.COMPLETE, _trades(completion)
        )
    excess = [
        (leg.contract, whole * leg.quantity - h) for leg, h in zip(legs, quantities, strict=True)
    ]
    return LegImbalance(tuple(legs), quantities, whole, RepairKind.FLATTEN, _trades(excess))


def order_imbalance(
    order_legs: Sequence[Leg],
    units: int,
    executions: Sequence[ExecutionEvent],
    *,
    closing: bool,
) -> LegImbalance | None:
    """The imbalance a combo order of ``units`` left, from its executions. An opening order
    starts from nothing; a closing one from the ``units`` it closes, whose strategy legs are
    the order's legs reversed (so completing never re-opens and flattening finishes the close)."""
    sign = -1 if closing else 1
    legs = [Leg(leg.contract, sign * leg.quantity) for leg in order_legs]
    held = {leg.contract: (units if closing else 0) * leg.quantity for leg in legs}
    for execution in executions:
        contract = execution.contract
        if isinstance(contract, OptionContract) and contract in held:
            held[contract] += execution.quantity
    return leg_imbalance(legs, held)


def held_by_strategy(
    executions: Iterable[ExecutionEvent], strategy_id: str
) -> dict[OptionContract, int]:
    """Signed option contracts traded under ``strategy_id``'s order refs."""
    held: dict[OptionContract, int] = {}
    for execution in executions:
        contract = execution.contract
        if isinstance(contract, OptionContract) and _owner(execution.order_ref) == strategy_id:
            held[contract] = held.get(contract, 0) + execution.quantity
    return held


def _owner(ref: str) -> str | None:
    try:
        return parse_order_ref(ref)[0]
    except InvalidOrderError:
        return None


def _trades(pairs: list[tuple[OptionContract, int]]) -> tuple[Leg, ...]:
    return tuple(Leg(contract, quantity) for contract, quantity in pairs if quantity != 0)


def as_order_legs(trades: Sequence[Leg]) -> tuple[tuple[Leg, ...], int]:
    """The trades as one order: unit legs in lowest terms and the number of units."""
    size = math.gcd(*(trade.quantity for trade in trades))
    return tuple(Leg(t.contract, t.quantity // size) for t in trades), size


def repair_limit(market: ComboMarket, tick: float) -> float:
    """The limit of a repair order: up to one combo width beyond the natural price (it must
    fill), and a credit stays a credit."""
    limit = round_up(market.natural + market.width, tick)
    return min(limit, -tick) if market.natural < 0 else limit
