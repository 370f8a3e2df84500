"""Fit the simulated market's volatility surface and spread model to the real Cboe chains.

Usage: ``python tools/fit_market_models.py [DATA_DIR]`` (default ../shared/data, or
$SHARED_DATA_DIR). Reads ``options/*.csv``, fits, and prints the parameters and fit errors
that ``v6.market.surface`` and ``v6.market.spreads`` carry as constants (paste them there with
this output). Deterministic: least squares from fixed starting points.

What is fitted, in this order:

1. the smile shape ``f(z)`` against each expiry's own observed ATM vol (so term-structure
   errors do not leak into the shape), on out-of-the-money quotes with both sides quoted,
   |delta| >= 0.02 and 7 days to 1 year; each day weighs the same;
2. the ATM term structure (VIX-to-ATM ratio, kappa, theta) on the observed ATM vols of
   expiries from 7 days to 1 year;
3. the spread model on the SPY chain's two-sided quotes up to 1 year (the ETF options the
   simulator lists; SPX spreads are an index market's), in log width.

Then it prints the end-to-end error of the surface (VIX of the day -> vol at each strike),
the 25-delta risk reversal of real and model vols, and a butterfly-arbitrage scan.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt
import polars as pl
from scipy.optimize import least_squares

from v6.market.cboe import (
    CboeChain,
    atm_vols,
    observed_smiles,
    read_cboe_chain,
    strike_vols,
    vol_at_delta,
)
from v6.market.history import rate_as_of, vix_close_as_of
from v6.market.rates import continuous_rate_from_discount
from v6.market.spreads import SpreadModel
from v6.market.surface import Smile, TermStructure, VolSurface
from v6.pricing import bsm_price

FloatArray = npt.NDArray[np.float64]
CHAIN_FILES = ("SPX_2022-01-07.csv", "SPX_2023-02-07.csv", "SPY_2023-09-14.csv")
SPREAD_CHAIN = "SPY_2023-09-14.csv"
MIN_YEARS = 7 / 365
MAX_YEARS = 1.0
MIN_ABS_DELTA = 0.02
REPORT_MIN_ABS_DELTA = 0.01
"""Error tables also cover the far wings (0.01 <= |delta| < 0.05) the fit leaves out."""
Z_BUCKETS = (-6.0, -3.0, -1.0, 1.0, 3.0)
DELTA_BUCKETS = (0.05, 0.15, 0.3, 0.45, 0.55, 0.7, 0.85, 0.95)
RISK_REVERSAL_DAYS = (14, 30, 60)


@dataclass(frozen=True)
class Day:
    """One real chain with the market inputs of its trade day."""

    name: str
    chain: CboeChain
    vix: float
    rate: float
    smiles: pl.DataFrame
    atm: pl.DataFrame


def load_day(folder: Path, name: str) -> Day:
    trade_day = date.fromisoformat(name.removesuffix(".csv").split("_")[1])
    chain = read_cboe_chain(folder / "options" / name)
    discount = rate_as_of([trade_day])[0]
    vix = vix_close_as_of([trade_day])[0]
    rate = float(continuous_rate_from_discount(discount))
    valuation = datetime.combine(trade_day, datetime.min.time()).replace(hour=16)
    smiles = observed_smiles(chain, valuation, rate)
    return Day(name, chain, float(vix), rate, smiles, atm_vols(smiles))


def fit_sample(day: Day, min_abs_delta: float = MIN_ABS_DELTA) -> pl.DataFrame:
    """The quotes the smile is fitted to, with their expiry's observed ATM vol."""
    return (
        day.smiles.filter(
            pl.col("out_of_the_money")
            & pl.col("iv").is_not_nan()
            & pl.col("T").is_between(MIN_YEARS, MAX_YEARS)
            & (pl.col("delta").abs() >= min_abs_delta)
        )
        .join(day.atm.select("expiry", "atm"), on="expiry")
        .with_columns(z=pl.col("k") / (pl.col("atm") * pl.col("T").sqrt()), vix=pl.lit(day.vix))
    )


def equal_day_weights(day_index: npt.NDArray[np.int64]) -> FloatArray:
    counts = np.bincount(day_index)
    weights: FloatArray = 1.0 / np.sqrt(counts[day_index])
    return weights


def fit_smile(sample: pl.DataFrame, day_index: npt.NDArray[np.int64]) -> Smile:
    z, years = sample["z"].to_numpy(), sample["T"].to_numpy()
    atm, iv = sample["atm"].to_numpy(), sample["iv"].to_numpy()
    weights = equal_day_weights(day_index)

    def residuals(p: FloatArray) -> FloatArray:
        smile = Smile(rho=p[0], eta=p[1], gamma=p[2])
        error: FloatArray = (atm * smile.ratio(z, years, atm) - iv) * weights
        return error

    bounds = ([-0.99, 0.01, -0.5], [0.99, 5.0, 0.5])
    fit = least_squares(residuals, [-0.5, 0.7, 0.1], bounds=bounds)
    return Smile(rho=float(fit.x[0]), eta=float(fit.x[1]), gamma=float(fit.x[2]))


def fit_term(atm: pl.DataFrame, day_index: npt.NDArray[np.int64]) -> TermStructure:
    years, observed, vix = atm["T"].to_numpy(), atm["atm"].to_numpy(), atm["vix"].to_numpy()
    weights = equal_day_weights(day_index)

    def residuals(p: FloatArray) -> FloatArray:
        term = TermStructure(vix_to_atm=p[0], kappa=p[1], theta=p[2])
        error: FloatArray = (term.atm_vol(vix, years) - observed) * weights
        return error

    fit = least_squares(residuals, [0.85, 2.0, 0.04], bounds=([0.5, 0.05, 0.001], [1.2, 20, 0.25]))
    return TermStructure(vix_to_atm=float(fit.x[0]), kappa=float(fit.x[1]), theta=float(fit.x[2]))


def spread_sample(day: Day) -> pl.DataFrame:
    return (
        strike_vols(day.smiles, day.chain.spot, day.rate)
        .filter(pl.col("T") <= MAX_YEARS)
        .with_columns(
            width=pl.col("ask") - pl.col("bid"),
            abs_delta=pl.col("delta").abs(),
            vega_per_point=pl.col("vega") / 100.0,
        )
    )


def fit_spreads(sample: pl.DataFrame) -> SpreadModel:
    vega, delta = sample["vega_per_point"].to_numpy(), sample["abs_delta"].to_numpy()
    years, width = sample["T"].to_numpy(), sample["width"].to_numpy()

    def residuals(p: FloatArray) -> FloatArray:
        model = SpreadModel(*p).width(vega, delta, years)
        error: FloatArray = np.log(model) - np.log(width)
        return error

    start = [0.06, 0.2, 0.7, 0.5, 0.62, 0.03]
    lower, upper = [0.001, 0.01, 0.0, 0.0, 0.3, 0.005], [2.0, 10.0, 5.0, 10.0, 0.95, 0.3]
    fit = least_squares(residuals, start, bounds=(lower, upper), loss="soft_l1", f_scale=0.3)
    return SpreadModel(*(float(x) for x in fit.x))


def bucket(values: pl.Series, edges: tuple[float, ...], scale: float = 1.0) -> pl.Series:
    """Label each value with its bucket ``(lower, upper]`` of ``edges``, sortable by label."""
    bounds = [-math.inf, *edges, math.inf]
    labels = [
        f"{i}: {bounds[i] * scale:g}..{bounds[i + 1] * scale:g}" for i in range(len(edges) + 1)
    ]
    positions = np.searchsorted(np.asarray(edges), values.to_numpy(), side="left")
    return pl.Series([labels[i] for i in positions.tolist()])


def bucket_table(
    title: str, frame: pl.DataFrame, by: str, edges: tuple[float, ...], value: str
) -> None:
    """Print RMSE and mean of ``value`` per bucket of ``by`` and per day."""
    print(title)
    table = (
        frame.with_columns(bucket=bucket(frame[by], edges))
        .group_by("day", "bucket")
        .agg(
            pl.len().alias("n"),
            (pl.col(value).pow(2).mean().sqrt() * 100).round(2).alias("rmse_pts"),
            (pl.col(value).mean() * 100).round(2).alias("mean_pts"),
        )
        .sort("day", "bucket")
    )
    with pl.Config(tbl_rows=100, tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True):
        print(table)


def surface_errors(days: list[Day], surface: VolSurface) -> pl.DataFrame:
    frames = []
    for day in days:
        sample = fit_sample(day, REPORT_MIN_ABS_DELTA)
        k, years = sample["k"].to_numpy(), sample["T"].to_numpy()
        model = surface.vol(day.vix, k, years)
        frames.append(
            sample.with_columns(
                day=pl.lit(day.name),
                error=pl.Series(model) - pl.col("iv"),
                abs_delta=pl.col("delta").abs(),
            )
        )
    return pl.concat(frames)


def risk_reversals(days: list[Day], surface: VolSurface) -> None:
    """25-delta put vol minus 25-delta call vol, real vs model, at the listed expiry nearest
    to each of RISK_REVERSAL_DAYS."""
    print("25-delta risk reversal (put vol - call vol, vol points): real vs model")
    for day in days:
        nearest = (
            day.atm.sort((pl.col("T") - target / 365).abs()).row(0, named=True)
            for target in RISK_REVERSAL_DAYS
        )
        for expiry in {row["expiry"]: row for row in nearest}.values():
            real = vol_at_delta(day.smiles, expiry["expiry"], "P", -0.25) - vol_at_delta(
                day.smiles, expiry["expiry"], "C", 0.25
            )
            model = surface.vol_at_delta(day.vix, expiry["T"], -0.25) - surface.vol_at_delta(
                day.vix, expiry["T"], 0.25
            )
            print(
                f"  {day.name} {expiry['T'] * 365:5.0f} d: real {real * 100:5.2f}  "
                f"model {model * 100:5.2f}"
            )


def butterfly_scan(surface: VolSurface) -> None:
    """Smallest second difference of call prices across strikes, over VIX 9-85, 1 day-1 year."""
    strikes = np.linspace(20.0, 300.0, 2801)
    worst = math.inf
    for vix in (9.0, 15.0, 25.0, 45.0, 85.0):
        for days in (1, 7, 30, 91, 182, 365):
            years = days / 365
            vol = surface.vol(vix, np.log(strikes / 100.0), years)
            calls = bsm_price(100.0, strikes, years, 0.0, 0.0, vol, True)
            worst = min(worst, float(np.min(np.diff(calls, 2))))
    print(f"butterfly scan: smallest second difference of call prices {worst:.3e} (>= 0: none)")


def spread_errors(sample: pl.DataFrame, model: SpreadModel) -> None:
    fitted = model.width(
        sample["vega_per_point"].to_numpy(), sample["abs_delta"].to_numpy(), sample["T"].to_numpy()
    )
    table = (
        sample.with_columns(
            model=pl.Series(fitted),
            delta_bucket=bucket(sample["abs_delta"], DELTA_BUCKETS),
            days_bucket=bucket(sample["T"], (30 / 365, 120 / 365), scale=365),
        )
        .group_by("days_bucket", "delta_bucket")
        .agg(
            pl.len().alias("n"),
            pl.col("width").median().alias("real_median"),
            pl.col("model").median().round(3).alias("model_median"),
            ((pl.col("model").log() - pl.col("width").log()).pow(2).mean().sqrt())
            .round(2)
            .alias("rmse_log"),
        )
        .sort("days_bucket", "delta_bucket")
    )
    print("spread widths by maturity and |delta| bucket (dollars; rmse of ln(model/real))")
    with pl.Config(tbl_rows=100, tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True):
        print(table)


def day_samples(days: list[Day], min_abs_delta: float) -> pl.DataFrame:
    return pl.concat(
        fit_sample(day, min_abs_delta).with_columns(day=pl.lit(i)) for i, day in enumerate(days)
    )


def smile_errors(days: list[Day], smile: Smile) -> pl.DataFrame:
    sample = day_samples(days, REPORT_MIN_ABS_DELTA)
    atm, z, years = (sample[name].to_numpy() for name in ("atm", "z", "T"))
    return sample.with_columns(
        error=pl.Series(atm * smile.ratio(z, years, atm)) - pl.col("iv"),
        day=pl.col("day").map_elements(lambda i: days[i].name, return_dtype=pl.String),
    )


def run(folder: Path) -> None:
    days = [load_day(folder, name) for name in CHAIN_FILES]
    sample = day_samples(days, MIN_ABS_DELTA)
    smile = fit_smile(sample, sample["day"].to_numpy())
    print(f"smile: {smile}")
    bucket_table("smile shape error by z bucket (vs each expiry's ATM)",
                 smile_errors(days, smile), "z", Z_BUCKETS, "error")  # fmt: skip

    atm = pl.concat(
        day.atm.filter(pl.col("T").is_between(MIN_YEARS, MAX_YEARS)).with_columns(
            vix=pl.lit(day.vix), day=pl.lit(i)
        )
        for i, day in enumerate(days)
    )
    term = fit_term(atm, atm["day"].to_numpy())
    print(f"term structure: {term}  (long-run ATM vol {math.sqrt(term.theta):.4f})")
    report_atm(days, term)

    surface = VolSurface(term=term, smile=smile)
    bucket_table("surface error (VIX -> vol) by |delta| bucket", surface_errors(days, surface),
                 "abs_delta", DELTA_BUCKETS, "error")  # fmt: skip
    risk_reversals(days, surface)
    butterfly_scan(surface)

    spy = spread_sample(next(day for day in days if day.name == SPREAD_CHAIN))
    two_sided = spy.filter((pl.col("bid") > 0) & (pl.col("width") > 0))
    spreads = fit_spreads(two_sided)
    print(f"spreads: {spreads}")
    spread_errors(two_sided, spreads)


def report_atm(days: list[Day], term: TermStructure) -> None:
    print("ATM vol by expiry: observed vs model (vol points)")
    for day in days:
        rows = day.atm.filter(pl.col("T").is_between(MIN_YEARS, MAX_YEARS))
        model = term.atm_vol(day.vix, rows["T"].to_numpy())
        errors = model - rows["atm"].to_numpy()
        at_30 = float(np.interp(30 / 365, rows["T"].to_numpy(), rows["atm"].to_numpy()))
        model_30 = float(term.atm_vol(day.vix, 30 / 365))
        print(
            f"  {day.name}: VIX {day.vix:.2f}, observed 30-day ATM {at_30:.4f} "
            f"({at_30 / day.vix * 100:.3f} x VIX), model {model_30:.4f};"
            f" error RMSE {np.sqrt(np.mean(errors**2)) * 100:.2f}, "
            f"range {errors.min() * 100:+.2f}..{errors.max() * 100:+.2f}"
        )


def main(argv: list[str]) -> None:
    default = os.environ.get("SHARED_DATA_DIR", str(Path(__file__).parents[2] / "shared" / "data"))
    folder = Path(argv[1] if len(argv) > 1 else default)
    if not (folder / "options").is_dir():
        raise SystemExit(f"no options/ folder under {folder}: pass the shared data directory")
    run(folder)


if __name__ == "__main__":
    main(sys.argv)
