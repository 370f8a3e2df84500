"""What the simulated exchange asks of the simulated market: prices at the current step.

`MarketView` is the seam between `v6.market` (which replays real history and prices option
chains) and `v6.brokers.sim` (which matches orders and streams quotes against those prices).
Quotes come back as one `QuoteBatch` of numpy arrays, one element per requested contract, so
that a whole chain or a whole book is priced in a single vectorized call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

import numpy as np
import numpy.typing as npt

from v6.domain import OptionContract

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class QuoteBatch:
    """Quotes for a sequence of option contracts at one instant, element-wise aligned.

    Prices in the contract's currency per share; sizes in contracts; Greeks per share in
    textbook units (theta per year, vega per 1.00) like `v6.pricing`; ``iv`` as a decimal.
    ``underlying_price`` is the spot each option was priced from. A contract that the market
    does not list (unknown strike or expiry, expired) has NaN prices and zero sizes.
    """

    time: datetime
    bid: FloatArray
    ask: FloatArray
    last: FloatArray
    bid_size: IntArray
    ask_size: IntArray
    iv: FloatArray
    delta: FloatArray
    gamma: FloatArray
    theta: FloatArray
    vega: FloatArray
    underlying_price: FloatArray

    @property
    def mid(self) -> FloatArray:
        mid: FloatArray = (self.bid + self.ask) / 2.0
        return mid

    def __len__(self) -> int:
        return int(self.bid.shape[0])


class MarketView(Protocol):
    """The simulated market as the exchange sees it at its current step (UTC, tz-aware)."""

    @property
    def now(self) -> datetime: ...

    @property
    def symbols(self) -> tuple[str, ...]: ...

    def spot(self, symbol: str) -> float:
        """The underlying's price at the current step."""
        ...

    def expirations(self, symbol: str) -> tuple[date, ...]:
        """Listed expirations on the current session, nearest first."""
        ...

    def strikes(self, symbol: str, expiry: date) -> tuple[float, ...]:
        """Listed strikes for one expiration, ascending."""
        ...

    def quote(self, contracts: Sequence[OptionContract]) -> QuoteBatch:
        """Bid/ask/last/sizes, implied vol and model Greeks for each contract now."""
        ...
