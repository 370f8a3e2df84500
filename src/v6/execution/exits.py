"""Resting exits for a filled entry: a take-profit limit and a protective stop.

Their levels follow the rule book (``decisions.take_profit.profit_fraction``,
``decisions.stop_loss.credit_multiple``) so the broker holds the same exits the decision rules
would take, also while V6 is down. Placed as one OCA group of type 2 (reduce with block): a
partial take profit shrinks the stop instead of cancelling it, and only one of them can fill
at a time. A stop beyond the most the position can cost to close could never trigger, so it
is capped one tick below that.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from v6.brokers.types import OcaType, OrderSpec, OrderType
from v6.config.decisions import DecisionsConfig
from v6.execution.pricing import round_down, round_up
from v6.execution.records import OrderRole


@dataclass(frozen=True, slots=True)
class ExitPlan:
    """Resting exits for a filled entry: take profit when ``profit_fraction`` of the premium
    is captured; stop when the loss reaches ``loss_multiple`` times the premium."""

    profit_fraction: float
    loss_multiple: float

    def __post_init__(self) -> None:
        if not 0 < self.profit_fraction <= 1:
            raise ValueError(
                f"ExitPlan.profit_fraction = {self.profit_fraction!r}: expected 0 < f <= 1"
            )
        if not (math.isfinite(self.loss_multiple) and self.loss_multiple > 0):
            raise ValueError(f"ExitPlan.loss_multiple = {self.loss_multiple!r}: expected > 0")

    @classmethod
    def from_decisions(cls, decisions: DecisionsConfig) -> ExitPlan:
        """The levels of the take-profit and stop-loss rules, resting at the broker."""
        return cls(decisions.take_profit.profit_fraction, decisions.stop_loss.credit_multiple)

    def closing_prices(
        self, entry_price: float, tick: float, max_close_cost: float = math.inf
    ) -> tuple[float, float]:
        """(take-profit limit, stop trigger) of the order that closes an entry filled at
        ``entry_price`` (combo convention, per unit).

        A credit ``c`` (entry price -c) is closed by paying: take profit at ``c (1 - f)``,
        stop at ``c (1 + m)`` but at most one tick below ``max_close_cost`` (the most the
        position can cost to close, e.g. a spread's width). A debit ``d`` is closed by selling
        (negative prices): take profit at ``d (1 + f)``, stop when the value falls to
        ``d (1 - m)`` (needs m < 1).
        """
        premium = abs(entry_price)
        if premium == 0 or not math.isfinite(entry_price):
            raise ValueError(f"entry price {entry_price!r}: expected a non-zero credit or debit")
        if entry_price < 0:
            take_profit = max(round_down(premium * (1 - self.profit_fraction), tick), tick)
            stop = round_up(premium * (1 + self.loss_multiple), tick)
            if math.isfinite(max_close_cost):
                stop = min(stop, round_down(max_close_cost - tick, tick))
            return take_profit, max(stop, take_profit + tick)
        if self.loss_multiple >= 1:
            raise ValueError(
                f"ExitPlan.loss_multiple = {self.loss_multiple}: a debit of {premium} cannot "
                "lose more than itself; expected a multiple < 1 for a debit entry"
            )
        take_profit = round_up(premium * (1 + self.profit_fraction), tick)
        stop = max(round_down(premium * (1 - self.loss_multiple), tick), tick)
        return -take_profit, -stop


def oca_exits(
    entry: OrderSpec, units: int, take_profit: float, stop: float, ref: str
) -> tuple[tuple[OrderRole, OrderSpec], ...]:
    """The take-profit limit and the stop closing ``units`` of ``entry``, both GTC under
    ``ref`` in the OCA group ``<ref>:oca`` (type 2)."""
    filled = entry.changed(quantity=units)
    group = f"{ref}:oca"
    exits = []
    for role, order_type, price in (
        (OrderRole.TAKE_PROFIT, OrderType.LIMIT, take_profit),
        (OrderRole.STOP, OrderType.STOP, stop),
    ):
        spec = filled.closing(
            order_type, price, oca_group=group, oca_type=OcaType.REDUCE_WITH_BLOCK
        )
        exits.append((role, dataclasses.replace(spec, order_ref=ref)))
    return tuple(exits)
