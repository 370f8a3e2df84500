"""Speed of v6.pricing against QuantLib, measured in the same run on one core.

Run: ``.venv/bin/python benchmarks/bench_pricing.py``

Our functions are timed on 1,000,000 options in one vectorized call; QuantLib's BlackCalculator
and blackFormulaImpliedStdDev in a Python loop over a sample (each option needs its own
calculator), extrapolated per option. Each figure is the best of several repeats. QuantLib's
solver runs at its default accuracy (1e-6 on the standard deviation), ours to ~1e-14.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import math  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import numpy as np  # noqa: E402
import numpy.typing as npt  # noqa: E402
import QuantLib as ql  # noqa: E402, N813

from v6.pricing import bsm_price_greeks, implied_vol  # noqa: E402

FloatArray = npt.NDArray[np.float64]
OPTIONS = 1_000_000
QUANTLIB_SAMPLE = 20_000
CHAIN_SIZE = 200


@dataclass(frozen=True)
class Book:
    S: FloatArray
    K: FloatArray
    T: FloatArray
    r: FloatArray
    q: FloatArray
    sigma: FloatArray
    is_call: npt.NDArray[np.bool_]

    def head(self, count: int) -> Book:
        return Book(*(getattr(self, name)[:count] for name in Book.__dataclass_fields__))


def random_book(count: int, seed: int = 6) -> Book:
    """Listed-equity-like options: strikes 0.7..1.3 x spot, 1 week..2 years, vol 8..80 %."""
    rng = np.random.default_rng(seed)
    S = rng.uniform(20.0, 500.0, count)
    return Book(
        S=S,
        K=S * rng.uniform(0.7, 1.3, count),
        T=rng.uniform(7 / 365, 2.0, count),
        r=rng.uniform(0.0, 0.06, count),
        q=rng.uniform(0.0, 0.03, count),
        sigma=rng.uniform(0.08, 0.8, count),
        is_call=rng.random(count) < 0.5,
    )


def chain(size: int) -> Book:
    """One expiry of an index-like chain: calls and puts on strikes 0.8..1.2 x spot, a smile."""
    strikes = np.linspace(400.0, 600.0, size // 2)
    K = np.concatenate([strikes, strikes])
    return Book(
        S=np.full(size, 500.0),
        K=K,
        T=np.full(size, 30 / 365),
        r=np.full(size, 0.045),
        q=np.full(size, 0.013),
        sigma=0.18 + 0.4 * (K / 500.0 - 1.0) ** 2 - 0.1 * (K / 500.0 - 1.0),
        is_call=np.arange(size) < size // 2,
    )


def best_seconds(run: Callable[[], object], repeats: int, number: int = 1) -> float:
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            run()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def quantlib_greeks(book: Book) -> FloatArray:
    out = np.empty((len(book.S), 6))
    for i in range(len(book.S)):
        S, K, T, r, q = (float(v[i]) for v in (book.S, book.K, book.T, book.r, book.q))
        option_type = ql.Option.Call if book.is_call[i] else ql.Option.Put
        calculator = ql.BlackCalculator(
            ql.PlainVanillaPayoff(option_type, K),
            S * math.exp((r - q) * T),
            float(book.sigma[i]) * math.sqrt(T),
            math.exp(-r * T),
        )
        out[i] = (
            calculator.value(),
            calculator.delta(S),
            calculator.gamma(S),
            calculator.theta(S, T),
            calculator.vega(T),
            calculator.rho(T),
        )
    return out


def quantlib_implied_vol(book: Book, prices: FloatArray) -> FloatArray:
    out = np.full(len(prices), np.nan)
    for i in range(len(prices)):
        S, K, T, r, q = (float(v[i]) for v in (book.S, book.K, book.T, book.r, book.q))
        option_type = ql.Option.Call if book.is_call[i] else ql.Option.Put
        try:
            std_dev = ql.blackFormulaImpliedStdDev(
                option_type, K, S * math.exp((r - q) * T), float(prices[i]), math.exp(-r * T)
            )
        except RuntimeError:
            continue
        out[i] = std_dev / math.sqrt(T)
    return out


@dataclass(frozen=True)
class Row:
    task: str
    ours: float
    quantlib: float
    unit: str
    target: str
    met: bool


def throughput_rows(book: Book) -> list[Row]:
    args = (book.S, book.K, book.T, book.r, book.q, book.sigma, book.is_call)
    greeks_seconds = best_seconds(lambda: bsm_price_greeks(*args), repeats=7)
    prices = bsm_price_greeks(*args).price
    iv_args = (prices, book.S, book.K, book.T, book.r, book.q, book.is_call)
    iv_seconds = best_seconds(lambda: implied_vol(*iv_args), repeats=5)

    sample = book.head(QUANTLIB_SAMPLE)
    ql_greeks_seconds = best_seconds(lambda: quantlib_greeks(sample), repeats=3) / len(sample.S)
    ql_iv_seconds = best_seconds(
        lambda: quantlib_implied_vol(sample, prices[:QUANTLIB_SAMPLE]), repeats=3
    ) / len(sample.S)

    greeks_rate, iv_rate = len(book.S) / greeks_seconds, len(book.S) / iv_seconds
    return [
        Row(
            "price + 5 Greeks",
            greeks_rate / 1e6,
            1 / ql_greeks_seconds / 1e6,
            "M options/s",
            ">= 5 M/s and >= 60x QuantLib",
            greeks_rate >= 5e6 and greeks_rate * ql_greeks_seconds >= 60,
        ),
        Row(
            "implied vol",
            iv_rate / 1e6,
            1 / ql_iv_seconds / 1e6,
            "M options/s",
            ">= 0.8 M/s",
            iv_rate >= 0.8e6,
        ),
    ]


def chain_rows(options: Book) -> list[Row]:
    args = (options.S, options.K, options.T, options.r, options.q, options.sigma, options.is_call)
    greeks_seconds = best_seconds(lambda: bsm_price_greeks(*args), repeats=7, number=200)
    prices = bsm_price_greeks(*args).price
    iv_args = (prices, options.S, options.K, options.T, options.r, options.q, options.is_call)
    iv_seconds = best_seconds(lambda: implied_vol(*iv_args), repeats=7, number=50)
    ql_greeks_seconds = best_seconds(lambda: quantlib_greeks(options), repeats=5)
    ql_iv_seconds = best_seconds(lambda: quantlib_implied_vol(options, prices), repeats=5)
    return [
        Row(
            f"{len(options.S)}-option chain Greeks",
            greeks_seconds * 1e3,
            ql_greeks_seconds * 1e3,
            "ms",
            "<= 0.1 ms",
            greeks_seconds <= 1e-4,
        ),
        Row(
            f"{len(options.S)}-option chain implied vols",
            iv_seconds * 1e3,
            ql_iv_seconds * 1e3,
            "ms",
            "<= 3 ms",
            iv_seconds <= 3e-3,
        ),
    ]


def agreement(book: Book) -> tuple[float, float]:
    """Largest price difference to QuantLib (relative to spot), and largest implied-vol round-trip
    error on quotable prices (time value at least 1e-6 of spot)."""
    sample = book.head(QUANTLIB_SAMPLE)
    args = (sample.S, sample.K, sample.T, sample.r, sample.q, sample.sigma, sample.is_call)
    ours = bsm_price_greeks(*args).price
    price_error = float(np.max(np.abs(ours - quantlib_greeks(sample)[:, 0]) / sample.S))
    sign = np.where(sample.is_call, 1.0, -1.0)
    forward_value = sample.S * np.exp(-sample.q * sample.T) - sample.K * np.exp(
        -sample.r * sample.T
    )
    quotable = ours - np.maximum(sign * forward_value, 0.0) >= 1e-6 * sample.S
    vols = implied_vol(ours, *args[:5], sample.is_call)
    return price_error, float(np.max(np.abs(vols[quotable] - sample.sigma[quotable])))


def print_table(rows: list[Row]) -> None:
    header = f"{'task':<32} {'v6':>10} {'QuantLib':>10} {'unit':<12} {'ratio':>8}  target"
    print(header)
    print("-" * len(header))
    for row in rows:
        ratio = row.quantlib / row.ours if row.unit == "ms" else row.ours / row.quantlib
        verdict = "met" if row.met else "MISSED"
        print(
            f"{row.task:<32} {row.ours:>10.3f} {row.quantlib:>10.3f} {row.unit:<12} "
            f"{ratio:>7.0f}x  {row.target} ({verdict})"
        )


def main() -> None:
    book = random_book(OPTIONS)
    print(
        f"v6.pricing vs QuantLib {ql.__version__}, numpy {np.__version__}, one thread; "
        f"{OPTIONS:,} options vectorized, QuantLib looped over {QUANTLIB_SAMPLE:,} and "
        "extrapolated; best of several repeats.\n"
    )
    print_table(throughput_rows(book) + chain_rows(chain(CHAIN_SIZE)))
    price_error, vol_error = agreement(book)
    print(
        f"\nagreement on the sample: max |price - QuantLib| / spot = {price_error:.1e}; "
        f"max |implied vol - sigma| on quotable prices = {vol_error:.1e}"
    )


if __name__ == "__main__":
    main()
