"""Interest-rate conventions: turning published T-bill quotes into the model's continuous rate."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

TBILL_DAYS = 91
"""Days to maturity of the 3-month bill that FRED's DTB3 series quotes."""


def continuous_rate_from_discount(
    discount_rate: npt.ArrayLike, days: int = TBILL_DAYS
) -> npt.NDArray[np.float64]:
    """The continuously compounded ACT/365 rate equivalent to a T-bill's bank-discount quote.

    A bill quoted at discount ``d`` (ACT/360, decimal) costs ``1 - d * days / 360`` per 1.00 of
    face value and pays 1.00 after ``days`` days, so the continuous rate is
    ``-ln(1 - d * days / 360) * 365 / days``. For d = 5 % that is 5.10 %, not 5 %: the pricing
    functions want this rate, not the quote.
    """
    discount = np.asarray(discount_rate, dtype=np.float64)
    price = 1.0 - discount * days / 360.0
    with np.errstate(invalid="ignore", divide="ignore"):
        rate: npt.NDArray[np.float64] = -np.log(price) * 365.0 / days
    return rate
