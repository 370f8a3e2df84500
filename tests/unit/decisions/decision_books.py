"""Books for decision tests: domain strategies with quotes set leg by leg (imported by the
test modules of this folder)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import polars as pl

from v6.book import QUOTES_SCHEMA, build_book
from v6.config.decisions import DecisionsConfig
from v6.decisions import CycleContext, CycleDecisions, DecisionEngine
from v6.domain import Leg, OptionContract, Right, Strategy, StrategyKind, StrategyStatus

TODAY = date(2024, 1, 10)
NOW = datetime(2024, 1, 10, 15, 0, tzinfo=UTC)
OPENED = datetime(2024, 1, 2, 15, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Quote:
    """One leg's quote: bid/ask around ``mark`` (``width`` apart) unless given."""

    mark: float
    delta: float = 0.1
    gamma: float = 0.01
    theta: float = -5.0
    vega: float = 20.0
    width: float = 0.04
    bid: float | None = None
    ask: float | None = None


def open_strategy(
    strategy_id: str,
    legs: Sequence[tuple[float, Right, int]],
    *,
    credit: float,
    dte: int = 30,
    units: int = 1,
    underlying: str = "SPY",
    kind: StrategyKind = StrategyKind.CUSTOM,
) -> Strategy:
    expiry = TODAY + timedelta(days=dte)
    return Strategy(
        strategy_id,
        kind,
        tuple(
            Leg(OptionContract(underlying, expiry, strike, right), qty)
            for strike, right, qty in legs
        ),
        quantity=units,
        status=StrategyStatus.OPEN,
        entry_premium=credit,
        opened_at=OPENED,
    )


def put_spread(
    strategy_id: str = "ps", short: float = 440, long: float = 430, **kw: object
) -> Strategy:
    """A bull put spread: short ``short`` put, long ``long`` put (legs sorted by strike)."""
    kw.setdefault("credit", 2.0)
    return open_strategy(
        strategy_id,
        [(long, Right.PUT, 1), (short, Right.PUT, -1)],
        kind=StrategyKind.VERTICAL,
        **kw,  # type: ignore[arg-type]
    )


def quotes_frame(
    strategy: Strategy, quotes: Sequence[Quote], spot: float, mark_time: datetime = NOW
) -> pl.DataFrame:
    """Quotes for ``strategy``'s legs in their (sorted) order."""
    rows = []
    for leg, quote in zip(strategy.legs, quotes, strict=True):
        bid = quote.bid if quote.bid is not None else max(quote.mark - quote.width / 2, 0.0)
        ask = quote.ask if quote.ask is not None else quote.mark + quote.width / 2
        rows.append(
            (
                leg.contract.occ_symbol,
                bid,
                ask,
                quote.mark,
                0.2,
                quote.delta,
                quote.gamma,
                quote.theta,
                quote.vega,
                spot,
                mark_time,
            )
        )
    return pl.DataFrame(rows, schema=QUOTES_SCHEMA, orient="row")


def book_of(
    *pairs: tuple[Strategy, pl.DataFrame],
    dividends: pl.DataFrame | None = None,
    unmanaged: Sequence[str] = (),
) -> pl.DataFrame:
    quotes = pl.concat([frame for _, frame in pairs])
    return build_book(
        [strategy for strategy, _ in pairs], quotes, dividends=dividends, unmanaged=unmanaged
    )


def decide(
    book: pl.DataFrame, config: DecisionsConfig | None = None, **context: object
) -> CycleDecisions:
    engine = DecisionEngine(config or DecisionsConfig())
    return engine.evaluate(book, CycleContext(NOW, TODAY, **context))  # type: ignore[arg-type]
