"""Reading Cboe "quotedata" option-chain downloads, to fit and check the simulated market.

The chains themselves are not shipped (Cboe's terms of use): ``tools/fit_market_models.py``
and the tests read them from the shared data folder. A download is three header lines (the
second holds ``Last: <underlying>``, the third ``Date: <time stamp>``), then a header row, then
one row per strike and expiry with the call's and the put's columns side by side.

:func:`read_cboe_chain` turns a file into one row per option; :func:`observed_smiles` adds
what a model is fitted to: per expiry the time to settlement, the forward implied by put-call
parity and, for the out-of-the-money side of each strike, the implied volatility of the mid.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from v6.market.rates import continuous_rate_from_discount
from v6.pricing import bsm_price_greeks, implied_vol

_HEADER_LINES = 4
_SPOT = re.compile(r"Last: ([0-9.]+)")
_OCC = re.compile(r"([A-Z]+)\d{6}[CP]\d{8}")
_STRIKE_COLUMN = 11
_SIDE_COLUMNS = {
    "C": {"symbol": 1, "last": 2, "bid": 4, "ask": 5, "volume": 6, "iv": 7, "delta": 8,
          "open_interest": 10},
    "P": {"symbol": 12, "last": 13, "bid": 15, "ask": 16, "volume": 17, "iv": 18, "delta": 19,
          "open_interest": 21},
}  # fmt: skip
_NUMERIC = ("last", "bid", "ask", "volume", "iv", "delta", "open_interest")
AM_SETTLED_ROOTS = frozenset({"SPX"})
"""Roots whose options settle on the opening print (the monthly SPX); the rest settle at 16:00."""
SETTLEMENT_CLOSE = time(16, 0)
SETTLEMENT_OPEN = time(9, 30)
_YEAR = timedelta(days=365)
_PARITY_STRIKES = 4


@dataclass(frozen=True, slots=True)
class CboeChain:
    """One downloaded chain: the underlying's last price and one row per option.

    ``options`` columns: expiry (Date), root (OCC root, e.g. SPY, SPXW), strike, right ("C"
    or "P"), last, bid, ask, volume, iv (Cboe's, 0 = none), delta (Cboe's forward delta),
    open_interest.
    """

    spot: float
    options: pl.DataFrame


def read_cboe_chain(path: Path) -> CboeChain:
    """Parse a Cboe quotedata CSV; raise ValueError naming the file if it is not one."""
    lines = path.read_text().splitlines()
    match = _SPOT.search(lines[1]) if len(lines) > _HEADER_LINES else None
    if match is None:
        raise ValueError(f"{path}: not a Cboe quotedata chain (no 'Last: <price>' on line 2)")
    records = [
        _option_record(row, right, path)
        for row in csv.reader(lines[_HEADER_LINES:])
        for right in _SIDE_COLUMNS
    ]
    options = pl.DataFrame(records).with_columns(
        pl.col("expiry").str.to_date("%a %b %d %Y"), *(pl.col(c).cast(pl.Float64) for c in _NUMERIC)
    )
    return CboeChain(spot=float(match.group(1)), options=options)


def _option_record(row: list[str], right: str, path: Path) -> dict[str, object]:
    columns = _SIDE_COLUMNS[right]
    symbol = row[columns["symbol"]]
    root = _OCC.fullmatch(symbol)
    if root is None:
        raise ValueError(f"{path}: {symbol!r} is not an OCC option symbol")
    record: dict[str, object] = {
        "expiry": row[0],
        "root": root.group(1),
        "strike": float(row[_STRIKE_COLUMN]),
        "right": right,
    }
    record.update({name: float(row[columns[name]]) for name in _NUMERIC})
    return record


def settlement_time(expiry: date, root: str) -> datetime:
    """New York wall time at which an option of ``root`` expiring on ``expiry`` settles."""
    at = SETTLEMENT_OPEN if root in AM_SETTLED_ROOTS else SETTLEMENT_CLOSE
    return datetime.combine(expiry, at)


def tbill_continuous_rate(discount: float) -> float:
    """The continuous rate of a 3-month bill quoted at ``discount`` (see v6.market.rates)."""
    return float(continuous_rate_from_discount(discount))


def observed_smiles(chain: CboeChain, valuation: datetime, rate: float) -> pl.DataFrame:
    """Out-of-the-money quotes with their implied volatility, per PM-settled expiry.

    ``valuation`` is the New York wall time the quotes are valued at (the close of the trade
    day); ``rate`` is continuous. Each expiry's forward comes from put-call parity at the
    strikes where the call and put mids are closest; its dividend yield is
    ``q = r - ln(F/S)/T``. Rows keep both sides where bid and ask are positive, with columns
    expiry, T (years), forward, q, strike, k (log-moneyness ln(K/F)), right, bid, ask, mid,
    iv (from the mid, our solver), delta (spot delta at that iv), out_of_the_money (bool).
    AM-settled roots are dropped: the PM-settled weekly of the same date prices the same risk.
    """
    frames = []
    pm_settled = chain.options.filter(~pl.col("root").is_in(list(AM_SETTLED_ROOTS)))
    for (expiry, root), options in pm_settled.group_by(["expiry", "root"], maintain_order=True):
        years = (settlement_time(expiry, root) - valuation) / _YEAR
        if years > 0:
            frames.append(_expiry_smile(options, chain.spot, years, rate))
    return pl.concat(frames).sort("T", "strike", "right")


def _expiry_smile(options: pl.DataFrame, spot: float, years: float, rate: float) -> pl.DataFrame:
    two_sided = options.filter((pl.col("bid") > 0) & (pl.col("ask") > 0)).with_columns(
        mid=(pl.col("bid") + pl.col("ask")) / 2
    )
    forward = _parity_forward(two_sided, math.exp(rate * years))
    q = rate - math.log(forward / spot) / years
    is_call = (two_sided["right"] == "C").to_numpy()
    strike = two_sided["strike"].to_numpy()
    mid = two_sided["mid"].to_numpy()
    iv = implied_vol(mid, spot, strike, years, rate, q, is_call)
    delta = bsm_price_greeks(spot, strike, years, rate, q, iv, is_call).delta
    return two_sided.select("expiry", "strike", "right", "bid", "ask", "mid").with_columns(
        T=pl.lit(years),
        forward=pl.lit(forward),
        q=pl.lit(q),
        k=pl.Series(np.log(strike / forward)),
        iv=pl.Series(iv),
        delta=pl.Series(delta),
        out_of_the_money=pl.Series(np.where(is_call, strike > forward, strike < forward)),
    )


def _parity_forward(two_sided: pl.DataFrame, growth: float) -> float:
    """F = K + e^(rT) (C - P), the median over the strikes where the C and P mids are closest."""
    pairs = (
        two_sided.pivot(on="right", index="strike", values="mid")
        .drop_nulls()
        .with_columns(gap=(pl.col("C") - pl.col("P")))
        .sort(pl.col("gap").abs())
        .head(_PARITY_STRIKES)
    )
    if pairs.is_empty():
        raise ValueError("no strike with both a call and a put quote: no parity forward")
    forwards = pairs["strike"] + growth * pairs["gap"]
    return float(np.median(forwards.to_numpy()))


def atm_vols(smiles: pl.DataFrame) -> pl.DataFrame:
    """Per expiry, the out-of-the-money implied vol interpolated at the forward (k = 0).

    Columns expiry, T, forward, q, atm; expiries without a valid quote on each side of the
    forward are left out.
    """
    rows = []
    valid = smiles.filter(pl.col("out_of_the_money") & pl.col("iv").is_not_nan())
    for (expiry,), quotes in valid.sort("k").group_by(["expiry"], maintain_order=True):
        k = quotes["k"].to_numpy()
        if k.min() < 0.0 < k.max():
            atm = float(np.interp(0.0, k, quotes["iv"].to_numpy()))
            first = quotes.row(0, named=True)
            rows.append((expiry, first["T"], first["forward"], first["q"], atm))
    schema = ["expiry", "T", "forward", "q", "atm"]
    return pl.DataFrame(rows, schema=schema, orient="row").sort("T")


def vol_at_delta(smiles: pl.DataFrame, expiry: date, right: str, delta: float) -> float:
    """Implied vol of the out-of-the-money ``right`` of ``expiry`` interpolated at ``delta``.

    ``delta`` is a spot delta (negative for puts, e.g. -0.25); NaN if the quotes do not
    bracket it.
    """
    side = smiles.filter(
        (pl.col("expiry") == expiry)
        & (pl.col("right") == right)
        & pl.col("out_of_the_money")
        & pl.col("iv").is_not_nan()
    ).sort("delta")
    deltas = side["delta"].to_numpy()
    if deltas.size < 2 or not deltas.min() <= delta <= deltas.max():
        return math.nan
    return float(np.interp(delta, deltas, side["iv"].to_numpy()))


def strike_vols(smiles: pl.DataFrame, spot: float, rate: float) -> pl.DataFrame:
    """Both rights of every strike priced at the out-of-the-money side's implied vol.

    An in-the-money mid is mostly intrinsic value and often below it after rounding, so its own
    implied vol is noise or undefined; by put-call parity the call and put of one strike share
    a vol. Adds ``strike_iv`` and replaces ``delta``, adding ``vega`` (per 1.00 of vol), both
    at that vol; rows whose strike has no out-of-the-money vol are dropped.
    """
    otm = smiles.filter(pl.col("out_of_the_money") & pl.col("iv").is_not_nan()).select(
        "expiry", "strike", strike_iv="iv"
    )
    joined = smiles.join(otm, on=["expiry", "strike"], how="inner")
    greeks = bsm_price_greeks(
        spot,
        joined["strike"].to_numpy(),
        joined["T"].to_numpy(),
        rate,
        joined["q"].to_numpy(),
        joined["strike_iv"].to_numpy(),
        (joined["right"] == "C").to_numpy(),
    )
    return joined.with_columns(delta=pl.Series(greeks.delta), vega=pl.Series(greeks.vega))
