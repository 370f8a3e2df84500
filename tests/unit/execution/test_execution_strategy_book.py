"""The workflows' strategy book: what the entry workflow counts per template and symbol."""

from __future__ import annotations

from datetime import UTC, date, datetime

from v6.domain import Leg, OptionContract, Right, Strategy, StrategyKind, StrategyStatus
from v6.execution.workflows import StrategyBook

NOW = datetime(2024, 1, 2, 15, tzinfo=UTC)
EXPIRY = date(2024, 2, 16)


def put_spread(strategy_id: str, symbol: str = "SPY") -> Strategy:
    legs = (
        Leg(OptionContract(symbol, EXPIRY, 400, Right.PUT), -1),
        Leg(OptionContract(symbol, EXPIRY, 395, Right.PUT), 1),
    )
    return Strategy(strategy_id, StrategyKind.VERTICAL, legs)


def test_open_counts_are_per_template_and_symbol_of_the_live_strategies() -> None:
    book = StrategyBook.of(
        [
            put_spread("bull_put.SPY.20240102T1000"),
            put_spread("bull_put.SPY.20240102T1100"),
            put_spread("bull_put.QQQ.20240102T1000", "QQQ"),
            put_spread("adopted-spread"),
        ]
    )
    counts = book.open_counts()
    assert counts["bull_put", "SPY"] == 2
    assert counts["bull_put", "QQQ"] == 1
    assert counts["bull_put", "IWM"] == 0
    assert sum(count for (template, _), count in counts.items() if template) == 3
    cancelled = book.live["bull_put.SPY.20240102T1000"].transition_to(StrategyStatus.CANCELLED, NOW)
    book.put(cancelled)
    book.put(put_spread("bull_put.IWM.20240102T1200", "IWM"))
    counts = book.open_counts()
    assert (counts["bull_put", "SPY"], counts["bull_put", "IWM"]) == (1, 1)
