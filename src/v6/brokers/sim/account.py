"""The simulated account: cash, positions with IB-style average cost, P&L and margin.

Accounting identity (checked in the tests): net liquidation - starting cash = realized P&L +
unrealized P&L, where realized P&L is net of every commission paid and unrealized P&L is the
open positions' mark minus their average cost. Average cost follows IB's ``avgCost``: per
contract including the multiplier, >= 0 whatever the side; commissions are not folded in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from v6.brokers.sim.margin import requirement
from v6.brokers.types import AccountValues
from v6.domain import Contract, OptionContract, Position

Mark = Callable[[Contract], float]


@dataclass(slots=True)
class Holding:
    quantity: int
    avg_cost: float


@dataclass(frozen=True, slots=True)
class TradeResult:
    """What one execution did to the account: the P&L it realized (gross of commission)."""

    realized_gross: float
    closed: bool


class Account:
    """Cash and positions of one simulated account (mutable; owned by the exchange)."""

    def __init__(
        self,
        account_id: str,
        cash: float,
        holdings: Mapping[Contract, Holding] | None = None,
        realized_pnl: float = 0.0,
    ) -> None:
        self.account_id = account_id
        self.cash = float(cash)
        self.realized_pnl = float(realized_pnl)
        self.holdings: dict[Contract, Holding] = {
            contract: Holding(h.quantity, h.avg_cost) for contract, h in (holdings or {}).items()
        }

    def copy(self) -> Account:
        return Account(self.account_id, self.cash, self.holdings, self.realized_pnl)

    def quantity(self, contract: Contract) -> int:
        holding = self.holdings.get(contract)
        return 0 if holding is None else holding.quantity

    def open_positions(self) -> dict[Contract, int]:
        return {c: h.quantity for c, h in self.holdings.items() if h.quantity != 0}

    def trade(
        self, contract: Contract, quantity: int, price: float, commission: float
    ) -> TradeResult:
        """Book an execution of ``quantity`` (signed) at ``price`` per share."""
        multiplier = contract.multiplier
        self.cash -= quantity * price * multiplier + commission
        self.realized_pnl -= commission
        holding = self.holdings.setdefault(contract, Holding(0, 0.0))
        old = holding.quantity
        if old == 0 or (old > 0) == (quantity > 0):
            total = abs(old) + abs(quantity)
            holding.avg_cost = (
                abs(old) * holding.avg_cost + abs(quantity) * price * multiplier
            ) / total
            holding.quantity = old + quantity
            return TradeResult(0.0, closed=False)
        closed = min(abs(quantity), abs(old))
        direction = 1 if old > 0 else -1
        gross = (price * multiplier - holding.avg_cost) * closed * direction
        self.realized_pnl += gross
        holding.quantity = old + quantity
        if holding.quantity == 0:
            holding.avg_cost = 0.0
        elif (holding.quantity > 0) != (old > 0):
            holding.avg_cost = price * multiplier
        return TradeResult(gross, closed=True)

    def drop_flat(self) -> None:
        """Forget closed positions (IB reports them with quantity 0 until the session ends)."""
        self.holdings = {c: h for c, h in self.holdings.items() if h.quantity != 0}

    def positions(self) -> tuple[Position, ...]:
        return tuple(
            Position(self.account_id, contract, h.quantity, h.avg_cost)
            for contract, h in self.holdings.items()
        )

    def position(self, contract: Contract) -> Position:
        holding = self.holdings.get(contract, Holding(0, 0.0))
        return Position(self.account_id, contract, holding.quantity, holding.avg_cost)

    def values(self, time: datetime, spots: Mapping[str, float], mark: Mark) -> AccountValues:
        """The account summary with positions marked by ``mark`` (per share)."""
        stock_value = option_value = unrealized = 0.0
        for contract, holding in self.holdings.items():
            value = holding.quantity * mark(contract) * contract.multiplier
            unrealized += value - holding.quantity * holding.avg_cost
            if isinstance(contract, OptionContract):
                option_value += value
            else:
                stock_value += value
        margin = requirement(self.open_positions(), spots, mark)
        equity = self.cash + stock_value
        available = equity - margin.initial
        return AccountValues(
            account=self.account_id,
            time=time,
            net_liquidation=equity + option_value,
            total_cash=self.cash,
            equity_with_loan=equity,
            initial_margin=margin.initial,
            maintenance_margin=margin.maintenance,
            available_funds=available,
            excess_liquidity=equity - margin.maintenance,
            buying_power=available,
            realized_pnl=self.realized_pnl,
            unrealized_pnl=unrealized,
        )
