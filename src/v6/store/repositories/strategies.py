"""Strategies and their legs (tables ``strategies`` and ``legs``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from v6.domain import Leg, Strategy, StrategyKind, StrategyStatus
from v6.store.catalog import LEGS, STRATEGIES
from v6.store.records import utc
from v6.store.repositories._base import Repository, Row, option_columns, option_from_row

LIVE_STATUSES = (StrategyStatus.PENDING, StrategyStatus.OPEN, StrategyStatus.CLOSING)
"""Strategies the engine still manages (not CLOSED or CANCELLED)."""


class StrategyRepository(Repository):
    """Saves strategies with their legs; reads them back as ``Strategy`` objects."""

    def save(self, strategies: Iterable[Strategy], at: datetime) -> None:
        """Buffer the strategies (and their legs) as of ``at``; ``at`` becomes
        ``updated_at`` only for a strategy whose stored state changes."""
        stamp = utc(at, "StrategyRepository.save.at")
        batch = list(strategies)
        self._write(LEGS, (_leg_row(s.strategy_id, leg) for s in batch for leg in s.legs))
        self._write(STRATEGIES, (_strategy_row(s, stamp) for s in batch))

    def live(self) -> list[Strategy]:
        """PENDING, OPEN and CLOSING strategies with their legs, by strategy id."""
        return self.with_status(LIVE_STATUSES)

    def with_status(self, statuses: Sequence[StrategyStatus]) -> list[Strategy]:
        values = [status.value for status in statuses]
        return self._load(self._rows(STRATEGIES, [("status", "in", values)]))

    def get(self, strategy_id: str) -> Strategy | None:
        found = self._load(self._rows(STRATEGIES, [("strategy_id", "=", strategy_id)]))
        return found[0] if found else None

    def _load(self, strategy_rows: list[Row]) -> list[Strategy]:
        """Strategies from rows read first; their legs are read second (see readers)."""
        if not strategy_rows:
            return []
        ids = [row["strategy_id"] for row in strategy_rows]
        legs: defaultdict[str, list[Leg]] = defaultdict(list)
        for row in self._rows(LEGS, [("strategy_id", "in", ids)]):
            legs[row["strategy_id"]].append(Leg(option_from_row(row), row["quantity"]))
        rows = sorted(strategy_rows, key=lambda row: str(row["strategy_id"]))
        return [_strategy(row, legs[row["strategy_id"]]) for row in rows]


def _leg_row(strategy_id: str, leg: Leg) -> Row:
    return {
        "strategy_id": strategy_id,
        "occ_symbol": leg.contract.occ_symbol,
        **option_columns(leg.contract),
        "quantity": leg.quantity,
    }


def _strategy_row(strategy: Strategy, at: datetime) -> Row:
    return {
        "strategy_id": strategy.strategy_id,
        "kind": strategy.kind.value,
        "status": strategy.status.value,
        "quantity": strategy.quantity,
        "underlying": ",".join(strategy.underlyings),
        "entry_premium": strategy.entry_premium,
        "defined_risk": strategy.defined_risk,
        "opened_at": strategy.opened_at,
        "closed_at": strategy.closed_at,
        "updated_at": at,
    }


def _strategy(row: Row, legs: list[Leg]) -> Strategy:
    return Strategy(
        strategy_id=row["strategy_id"],
        kind=StrategyKind(row["kind"]),
        legs=tuple(legs),
        quantity=row["quantity"],
        status=StrategyStatus(row["status"]),
        entry_premium=row["entry_premium"],
        opened_at=row["opened_at"],
        closed_at=row["closed_at"],
        defined_risk=row["defined_risk"],
    )
