"""Clean quotes at one market step, built from the market's ``QuoteBatch`` and spot prices.

The exchange keeps one ``PriceBook`` per step: every contract it needs at that step (working
orders' legs, positions, streaming lines) is priced in one vectorized ``MarketView.quote``
call, and later requests add to it. After the market moves on, the previous step's book still
answers - the exchange settles expirations from the last book of a session (its close).

Options get the market's bid/ask/last/sizes, implied vol and model Greeks, converted to IB's
units (theta per day, vega per vol point). The underlying gets a one-cent market around the
path's price (``products.stock_bid_ask``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime

import numpy as np

from v6.brokers.sim.products import STOCK_QUOTE_SIZE, stock_bid_ask
from v6.brokers.types import Quote
from v6.domain import Contract, Greeks, OptionContract, StockContract
from v6.domain.greeks import DAYS_PER_YEAR, PERCENT
from v6.market.quotes import MarketView, QuoteBatch


def stock_quote(contract: StockContract, spot: float, time: datetime) -> Quote:
    bid, ask = stock_bid_ask(spot)
    return Quote(
        contract=contract,
        time=time,
        bid=bid,
        ask=ask,
        last=round(spot, 2),
        bid_size=STOCK_QUOTE_SIZE,
        ask_size=STOCK_QUOTE_SIZE,
        iv=math.nan,
        greeks=None,
        underlying_price=spot,
    )


def _model_greeks(batch: QuoteBatch) -> list[Greeks | None]:
    """Each row's model Greeks in IB's units; None where the model has none (not finite)."""
    columns = (batch.delta, batch.gamma, batch.theta / DAYS_PER_YEAR, batch.vega / PERCENT)
    rows: list[list[float]] = np.column_stack(columns).tolist()
    return [Greeks(*row) if all(map(math.isfinite, row)) else None for row in rows]


def option_quotes(
    contracts: Sequence[OptionContract], batch: QuoteBatch
) -> dict[OptionContract, Quote]:
    """The batch's rows as quotes (converted column by column: one call per array)."""
    rows = zip(
        contracts,
        batch.bid.tolist(),
        batch.ask.tolist(),
        batch.last.tolist(),
        batch.bid_size.tolist(),
        batch.ask_size.tolist(),
        batch.iv.tolist(),
        _model_greeks(batch),
        batch.underlying_price.tolist(),
        strict=True,
    )
    return {
        contract: Quote(
            contract=contract,
            time=batch.time,
            bid=bid,
            ask=ask,
            last=last,
            bid_size=int(bid_size),
            ask_size=int(ask_size),
            iv=iv,
            greeks=greeks,
            underlying_price=underlying,
        )
        for contract, bid, ask, last, bid_size, ask_size, iv, greeks, underlying in rows
    }


class PriceBook:
    """Clean quotes and spot prices at one market step."""

    def __init__(self, market: MarketView) -> None:
        self._market = market
        self.time = market.now
        self.spots = {symbol: market.spot(symbol) for symbol in market.symbols}
        self._quotes: dict[Contract, Quote] = {}
        self._marks: dict[Contract, float] = {}
        self._live = True

    def freeze(self) -> None:
        """The market has moved on: from now on answer from what is cached only."""
        self._live = False

    def add(self, contracts: Iterable[Contract]) -> None:
        """Price every contract not yet in the book (one market call for all options)."""
        missing = [c for c in dict.fromkeys(contracts) if c not in self._quotes]
        if not missing or not self._live:
            return
        options = [c for c in missing if isinstance(c, OptionContract)]
        if options:
            for option, quote in option_quotes(options, self._market.quote(options)).items():
                self._quotes[option] = quote
        for stock in missing:
            if isinstance(stock, StockContract):
                self._quotes[stock] = stock_quote(stock, self.spot(stock.symbol), self.time)

    def quotes(self, contracts: Sequence[Contract]) -> list[Quote]:
        try:
            return [self._quotes[contract] for contract in contracts]
        except KeyError:
            self.add(contracts)
            return [self._quotes[contract] for contract in contracts]

    def spot(self, symbol: str) -> float:
        spot = self.spots.get(symbol)
        if spot is None:
            raise KeyError(f"no spot price for {symbol!r}: the market lists {sorted(self.spots)}")
        return spot

    def mark(self, contract: Contract) -> float:
        """The mid price per share; intrinsic value (options) or spot (stock) without one.
        Kept per contract: a book's quotes and spots never change once priced."""
        found = self._marks.get(contract)
        if found is None:
            found = self._marks[contract] = self._mark(contract)
        return found

    def _mark(self, contract: Contract) -> float:
        quote = self._quotes.get(contract)
        if quote is None:
            self.add([contract])
            quote = self._quotes.get(contract)
        mid = math.nan if quote is None else quote.mid
        if not math.isnan(mid):
            return mid
        if isinstance(contract, StockContract):
            return self.spot(contract.symbol)
        return contract.intrinsic(self.spot(contract.underlying))
