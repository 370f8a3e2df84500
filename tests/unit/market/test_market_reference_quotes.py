"""Quotes pinned to the values the market gave before its pricing was restructured for speed.

The literals were printed by the earlier code (``repr`` of each float): a change of the
pricing that moves any quote, Greek or drawn size shows here, on a calm day (2019-01-02) and
in the March 2020 crash (VIX near 80)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import pytest

from v6.config.broker import SimConfig
from v6.domain import OptionContract, Right
from v6.market.simulated import SimulatedMarket

FIELDS = ("bid", "ask", "last", "bid_size", "ask_size", "iv", "delta", "gamma", "theta", "vega")
Pinned = dict[tuple[str, date, float, bool], tuple[float | int, ...]]

CALM_DAY: Pinned = {
    ("SPY", date(2019, 1, 4), 249.0, True): (
        1.36, 1.38, 1.37, 396, 123, 0.203794746004116, 0.4658523709081227,
        0.10240436487940734, -134.18435846380854, 7.570402899507323,
    ),
    ("SPY", date(2019, 1, 4), 249.0, False): (
        1.72, 1.75, 1.74, 92, 818, 0.203794746004116, -0.5341476290918773,
        0.10240436487940734, -128.18395059186574, 7.570402899507323,
    ),
    ("SPY", date(2019, 1, 25), 249.0, False): (
        5.2, 5.23, 5.22, 757, 120, 0.20848196890153428, -0.4900865279350963,
        0.03055949589707614, -37.982941217773224, 24.96532460349687,
    ),
    ("SPY", date(2019, 12, 20), 260.0, True): (
        14.19, 15.74, 14.97, 32, 40, 0.2054225785357758, 0.45315340069625837,
        0.00807830642945983, -12.36392104388924, 94.58786220576069,
    ),
    ("QQQ", date(2019, 1, 4), 175.0, False): (
        19.6, 20.38, 19.99, 7, 7, 0.2950528664489733, -0.9999999573475252,
        6.733844246718948e-08, 4.2170835617543645, 2.8011878483791196e-06,
    ),
    ("QQQ", date(2019, 1, 25), 156.0, True): (
        4.02, 4.05, 4.04, 376, 123, 0.2830520890803215, 0.4862362958299753,
        0.036094245895077426, -36.450147973214314, 15.559608146294753,
    ),
}  # fmt: skip

CRASH_DAY: Pinned = {
    ("SPY", date(2020, 3, 20), 251.0, True): (
        5.2, 5.22, 5.21, 327, 623, 0.6511558165287374, 0.46602630213999985,
        0.02632343022084918, -346.8982687765179, 9.217975051203503,
    ),
    ("SPY", date(2020, 3, 20), 251.0, False): (
        6.94, 6.97, 6.96, 342, 54, 0.6511558165287374, -0.5339736978600002,
        0.02632343022084918, -346.4146370825906, 9.217975051203503,
    ),
    ("SPY", date(2020, 4, 9), 251.0, False): (
        17.2, 17.23, 17.21, 78, 101, 0.6507469406758926, -0.4840883390864409,
        0.00975676919354538, -128.07149313006465, 25.02711160822793,
    ),
    ("SPY", date(2021, 3, 19), 240.0, True): (
        53.37, 55.27, 54.33, 132, 47, 0.5469929100425782, 0.6200600592585775,
        0.0028479176493904795, -25.487080487705057, 93.05536722121825,
    ),
    ("QQQ", date(2020, 3, 20), 205.0, False): (
        22.42, 23.2, 22.81, 18, 10, 0.5664853458494828, -0.9863413309855156,
        0.003637234537145159, -18.990430746560307, 0.5923348170549932,
    ),
    ("QQQ", date(2020, 4, 9), 181.0, True): (
        12.94, 12.98, 12.96, 174, 985, 0.6871864145813832, 0.5457532700743027,
        0.012588872906494202, -98.48253247047984, 18.156045521300847,
    ),
}  # fmt: skip


def contract(key: tuple[str, date, float, bool]) -> OptionContract:
    symbol, expiry, strike, is_call = key
    return OptionContract(symbol, expiry, strike, Right.CALL if is_call else Right.PUT)


@pytest.mark.parametrize(
    ("start", "time", "pinned"),
    [
        (date(2019, 1, 2), datetime(2019, 1, 2, 17, 35, tzinfo=UTC), CALM_DAY),
        (date(2020, 3, 16), datetime(2020, 3, 17, 16, 10, tzinfo=UTC), CRASH_DAY),
    ],
)
def test_quotes_match_the_pinned_values(start: date, time: datetime, pinned: Pinned) -> None:
    config = SimConfig(
        start_date=start, end_date=date(start.year, start.month, start.day + 10), seed=7
    )
    market = SimulatedMarket(config).at(time)
    # An off-grid strike and an unlisted expiry ride along: they must not disturb the rest.
    extra = [
        OptionContract("SPY", date(2019, 1, 4), 249.5, Right.CALL),
        OptionContract("IWM", date(2030, 1, 2), 100.0, Right.PUT),
    ]
    batch = market.quote([*map(contract, pinned), *extra])

    for row, expected in enumerate(pinned.values()):
        for name, value in zip(FIELDS, expected, strict=True):
            got = float(getattr(batch, name)[row])
            assert got == pytest.approx(value, rel=1e-12, abs=1e-15), (row, name)
    assert all(math.isnan(float(batch.bid[row])) for row in (len(pinned), len(pinned) + 1))
