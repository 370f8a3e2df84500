"""Reading the real Cboe chains and what the fits take from them (forwards, ATM vols)."""

from __future__ import annotations

import math
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest

from v6.market.cboe import (
    atm_vols,
    observed_smiles,
    read_cboe_chain,
    settlement_time,
    tbill_continuous_rate,
    vol_at_delta,
)

SPY_DAY = date(2023, 9, 14)


def test_reader_rejects_other_files(tmp_path: Path) -> None:
    path = tmp_path / "not_a_chain.csv"
    path.write_text("a,b\n1,2\n")

    with pytest.raises(ValueError, match="not a Cboe quotedata chain"):
        read_cboe_chain(path)


def test_reader_reads_every_option(shared_data: Path) -> None:
    chain = read_cboe_chain(shared_data / "options" / "SPY_2023-09-14.csv")

    assert chain.spot == 450.81
    assert chain.options.height == 2 * 3646
    first = chain.options.filter(pl.col("right") == "P").row(0, named=True)
    assert first["expiry"] == SPY_DAY
    assert first["strike"] == 360.0
    assert first["root"] == "SPY"


def test_monthly_spx_settles_at_the_open() -> None:
    assert settlement_time(date(2023, 2, 17), "SPX") == datetime(2023, 2, 17, 9, 30)
    assert settlement_time(date(2023, 2, 17), "SPXW") == datetime(2023, 2, 17, 16, 0)


def test_parity_forwards_and_atm_vols_are_plausible(shared_data: Path) -> None:
    """SPY's forward sits below spot by most of the 1.583 dividend going ex on 2023-09-15.

    Not all of it: the options are American, and in-the-money calls worth exercising before the
    ex-date keep their parity value up (the measured gap is 1.12).
    """
    chain = read_cboe_chain(shared_data / "options" / "SPY_2023-09-14.csv")
    rate = tbill_continuous_rate(0.0531)

    smiles = observed_smiles(chain, datetime(2023, 9, 14, 16), rate)
    atm = atm_vols(smiles)

    next_day = atm.row(0, named=True)
    assert next_day["expiry"] == date(2023, 9, 15)
    assert 1.0 < chain.spot - next_day["forward"] < 1.583
    month = atm.filter(pl.col("expiry") == date(2023, 10, 13)).row(0, named=True)
    assert 0.09 < month["atm"] < 0.12
    put = vol_at_delta(smiles, date(2023, 10, 13), "P", -0.25)
    call = vol_at_delta(smiles, date(2023, 10, 13), "C", 0.25)
    assert put > month["atm"] > call
    assert math.isnan(vol_at_delta(smiles, date(2023, 10, 13), "P", -0.9999))
