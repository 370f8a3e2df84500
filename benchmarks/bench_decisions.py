"""Speed of one decision + risk cycle for 5,000 strategies (20,000 legs) on one core, beside
a straightforward per-strategy Python loop doing the same work, measured in the same run.

Run: ``.venv/bin/python benchmarks/bench_decisions.py``

The book is 5,000 iron condors on ten underlyings, 0-60 days to expiry, priced with v6.pricing
(Black-Scholes-Merton) at an underlying that moved since entry, quoted with a bid/ask spread.
Each cycle brings new marks (a newer mark time, prices jittered) and runs: the book summary
(legs -> strategies), trailing stops, the portfolio limit monitor and the twelve rules with
priority resolution and the market veto. The loop gets the legs already grouped per strategy
as Python dicts (its conversion is not timed) and keeps its own trailing-stop state; both must
reach the same verdict for every strategy. The risk gate's entry checks are per intent in any
design, so they are timed separately; so is building Decision records, which the engine does
only on demand. Figures are medians of several cycles after a warm-up.
"""

from __future__ import annotations

import os

os.environ["POLARS_MAX_THREADS"] = "1"
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import math  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import UTC, date, datetime, timedelta  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

from v6.book import BOOK_SCHEMA  # noqa: E402
from v6.config import V6Config  # noqa: E402
from v6.config.decisions import DecisionsConfig, EventRule  # noqa: E402
from v6.config.risk import RiskConfig  # noqa: E402
from v6.decisions import CycleContext, DecisionEngine  # noqa: E402
from v6.domain import Greeks, IntentKind, Leg, OptionContract, OrderIntent, Right  # noqa: E402
from v6.pricing import bsm_price_greeks  # noqa: E402
from v6.risk import (  # noqa: E402
    EntryCandidate,
    Exposure,
    LimitMonitor,
    RiskGate,
    TrailingState,
    TrailingStopManager,
    violations,
)
from v6.table import ArrayTable  # noqa: E402

STRATEGIES = 5_000
CYCLES = 9
WARMUP = 2
ENTRIES = 10
TARGET_MS = 25.0
BUYING_POWER = 50_000_000.0
TODAY = date(2024, 3, 1)
START = datetime(2024, 3, 1, 15, 0, tzinfo=UTC)
SYMBOLS = {
    "SPY": 510.0,
    "QQQ": 440.0,
    "IWM": 205.0,
    "DIA": 390.0,
    "XLF": 41.0,
    "XLE": 92.0,
    "EEM": 40.0,
    "GLD": 190.0,
    "TLT": 95.0,
    "SMH": 210.0,
}
Row = dict[str, Any]


def priced(
    spot: np.ndarray, strike: np.ndarray, days: np.ndarray, vol: np.ndarray, call: np.ndarray
) -> Any:
    return bsm_price_greeks(spot, strike, np.maximum(days, 0) / 365, 0.05, 0.0, vol, call)


def make_book(seed: int = 6) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    symbols = rng.choice(list(SYMBOLS), STRATEGIES)
    entry_spot = np.array([SYMBOLS[s] for s in symbols]) * rng.uniform(0.97, 1.03, STRATEGIES)
    spot = entry_spot * np.exp(rng.normal(0, 0.03, STRATEGIES))
    dte = rng.integers(0, 61, STRATEGIES)
    vol = rng.uniform(0.14, 0.32, STRATEGIES)
    wing = np.maximum(np.round(entry_spot * 0.01), 1.0)
    put_short = np.round(entry_spot * rng.uniform(0.90, 0.97, STRATEGIES))
    call_short = np.round(entry_spot * rng.uniform(1.03, 1.10, STRATEGIES))
    strikes = np.stack([put_short - wing, put_short, call_short, call_short + wing], axis=1)
    ratios = np.array([1, -1, -1, 1])
    calls = np.array([False, False, True, True])

    def legs(values: np.ndarray) -> np.ndarray:
        return np.repeat(values, 4)

    flat_strikes, flat_calls = strikes.ravel(), np.tile(calls, STRATEGIES)
    at_entry = priced(legs(entry_spot), flat_strikes, legs(dte + 14), legs(vol), flat_calls)
    now = priced(legs(spot), flat_strikes, legs(dte), legs(vol), flat_calls)
    credit = -(at_entry.price.reshape(-1, 4) * ratios).sum(axis=1)
    max_profit, max_loss = credit * 100, (wing - credit) * 100
    half_spread = np.maximum(0.01, now.price * rng.uniform(0.02, 0.12, len(now.price))) / 2
    return pl.DataFrame(
        {
            "strategy_id": legs(np.array([f"ic-{i:05d}" for i in range(STRATEGIES)])),
            "kind": "iron_condor",
            "underlying": legs(symbols),
            "expiry": [TODAY + timedelta(days=int(d)) for d in legs(dte)],
            "strike": flat_strikes,
            "right": np.where(flat_calls, "C", "P"),
            "quantity": np.tile(ratios, STRATEGIES),
            "units": 1,
            "multiplier": 100,
            "entry_premium": legs(credit),
            "max_profit": legs(max_profit),
            "max_loss": legs(max_loss),
            "bid": np.maximum(now.price - half_spread, 0.0),
            "ask": now.price + half_spread,
            "mark": now.price,
            "iv": legs(vol),
            "delta": now.delta,
            "gamma": now.gamma,
            "theta": now.theta,
            "vega": now.vega,
            "underlying_price": legs(spot),
            "ex_div_date": [
                TODAY + timedelta(days=2) if s == "SPY" else None for s in legs(symbols)
            ],
            "ex_div_amount": [1.6 if s == "SPY" else None for s in legs(symbols)],
            "mark_time": START,
            "managed": True,
        }
    ).cast(BOOK_SCHEMA)


def cycles(book: pl.DataFrame, count: int, seed: int = 7) -> list[tuple[datetime, pl.DataFrame]]:
    """``count`` successive books: new mark times, marks jittered by up to +-15%."""
    rng = np.random.default_rng(seed)
    out = []
    for index in range(count):
        at = START + timedelta(seconds=30 * (index + 1))
        factor = pl.Series(rng.uniform(0.85, 1.15, book.height))
        out.append(
            (
                at,
                book.with_columns(
                    mark=pl.col("mark") * factor,
                    bid=pl.col("bid") * factor,
                    ask=pl.col("ask") * factor,
                    mark_time=pl.lit(at, BOOK_SCHEMA["mark_time"]),
                ),
            )
        )
    return out


def benchmark_config() -> V6Config:
    events = EventRule(
        per_symbol={"QQQ": (TODAY + timedelta(days=1),), "GLD": (TODAY + timedelta(days=5),)}
    )
    return V6Config(decisions=DecisionsConfig(event=events))


@dataclass
class Vectorized:
    config: V6Config
    engine: DecisionEngine = field(init=False)
    trailing: TrailingStopManager = field(init=False)
    state: TrailingState = field(default_factory=TrailingState)
    monitor: LimitMonitor = field(default_factory=LimitMonitor)

    def __post_init__(self) -> None:
        self.engine = DecisionEngine(self.config.decisions)
        self.trailing = TrailingStopManager(self.config.risk.trailing_stop)

    def cycle(self, book: pl.DataFrame, now: datetime, timings: dict[str, list[float]]) -> Any:
        started = time.perf_counter()
        strategies = self.engine.summarize(book, TODAY)
        summarized = time.perf_counter()
        update = self.trailing.update(self.state, strategies)
        self.state = update.state
        trailed = time.perf_counter()
        result = self.monitor.update(strategies, self.config.risk.portfolio, BUYING_POWER, now)
        self.monitor = result.monitor
        monitored = time.perf_counter()
        context = CycleContext(now, TODAY, trailing=update.context, limit_targets=result.targets)
        decisions = self.engine.decide(strategies, context)
        decided = time.perf_counter()
        for name, start, end in (
            ("summarize (legs -> strategies)", started, summarized),
            ("trailing stops", summarized, trailed),
            ("limit monitor", trailed, monitored),
            ("rules + resolution + veto", monitored, decided),
        ):
            timings[name].append(end - start)
        timings["vectorized decisions + risk"].append(decided - started)
        return strategies, decisions


@dataclass
class Loop:
    """The same cycle written strategy by strategy in plain Python."""

    config: V6Config
    trailing: dict[str, dict[str, Any]] = field(default_factory=dict)

    def cycle(self, grouped: list[list[Row]], now: datetime) -> dict[str, tuple[str, str]]:
        summaries = [self.summary(legs) for legs in grouped]
        hits = self.trail(summaries)
        targets = self.limit_targets(summaries)
        return {s["id"]: self.decide(s, hits, targets) for s in summaries}

    def summary(self, legs: list[Row]) -> Row:
        first, rules = legs[0], self.config.decisions
        spot = first["underlying_price"]
        s: Row = {"id": first["strategy_id"], "underlying": first["underlying"]}
        s["credit"] = first["entry_premium"] * first["units"] * first["multiplier"]
        s["max_profit"], s["max_loss"] = first["max_profit"], first["max_loss"]
        s["pnl"] = s["credit"] + sum(
            leg["quantity"] * leg["mark"] * leg["multiplier"] for leg in legs
        )
        for greek, scale in (("delta", 1), ("gamma", 1), ("theta", 1 / 365), ("vega", 1 / 100)):
            s[greek] = sum(leg[greek] * scale * leg["quantity"] * leg["multiplier"] for leg in legs)
        s["dte"] = min((leg["expiry"] - TODAY).days for leg in legs)
        s["last_expiry"] = max(leg["expiry"] for leg in legs)
        width = sum(abs(leg["quantity"]) * (leg["ask"] - leg["bid"]) for leg in legs)
        mid = abs(sum(leg["quantity"] * (leg["bid"] + leg["ask"]) / 2 for leg in legs))
        s["spread"] = width / mid if mid > 0 else None
        s["quote_ok"] = all(0 <= leg["bid"] <= leg["ask"] and leg["ask"] > 0 for leg in legs)
        s["mark_time"] = min(leg["mark_time"] for leg in legs)
        breach, pin, short_delta, assignment = -math.inf, math.inf, 0.0, False
        for leg in legs:
            if leg["quantity"] >= 0:
                continue
            call, strike = leg["right"] == "C", leg["strike"]
            breach = max(breach, ((spot - strike) if call else (strike - spot)) / strike)
            leg_dte = (leg["expiry"] - TODAY).days
            if leg_dte <= rules.expiration_pin.max_dte:
                pin = min(pin, abs(spot - strike) / spot)
            short_delta = max(short_delta, abs(leg["delta"]))
            assignment = assignment or self.assignment_risk(leg, spot)
        s.update(breach=breach, pin=pin, short_delta=short_delta, assignment=assignment)
        return s

    def assignment_risk(self, leg: Row, spot: float) -> bool:
        rule, call = self.config.decisions.early_assignment, leg["right"] == "C"
        intrinsic = max((spot - leg["strike"]) if call else (leg["strike"] - spot), 0.0)
        if intrinsic <= 0:
            return False
        extrinsic = leg["mark"] - intrinsic
        if extrinsic < rule.min_extrinsic:
            return True
        ex_date = leg["ex_div_date"]
        if not call or ex_date is None or ex_date > leg["expiry"]:
            return False
        days = (ex_date - TODAY).days
        return 0 < days <= rule.ex_dividend_days and leg["ex_div_amount"] > extrinsic

    def trail(self, summaries: list[Row]) -> set[str]:
        config, hits, kept = self.config.risk.trailing_stop, set(), {}
        for s in summaries:
            t = self.trailing.get(s["id"]) or {
                "armed": False,
                "peak": None,
                "n": 0,
                "since": None,
                "last": None,
                "hit": False,
            }
            fair = (
                s["quote_ok"]
                and s["spread"] is not None
                and s["spread"] <= config.max_spread_fraction
            )
            if fair and (t["last"] is None or s["mark_time"] > t["last"]):
                pnl = s["pnl"]
                t["armed"] = t["armed"] or (
                    s["max_profit"] > 0
                    and pnl >= config.activation_profit_fraction * s["max_profit"]
                )
                if t["armed"]:
                    t["peak"] = pnl if t["peak"] is None else max(t["peak"], pnl)
                breach = t["armed"] and pnl <= t["peak"] * (1 - config.trail_fraction)
                t["n"] = t["n"] + 1 if breach else 0
                t["since"] = (t["since"] or s["mark_time"]) if breach else None
                t["last"] = s["mark_time"]
                lasted = (
                    breach
                    and (s["mark_time"] - t["since"]).total_seconds() >= config.confirm_seconds
                )
                t["hit"] = t["hit"] or (breach and (t["n"] >= config.confirm_marks or lasted))
            kept[s["id"]] = t
            if t["hit"]:
                hits.add(s["id"])
        self.trailing = kept
        return hits

    def limit_targets(self, summaries: list[Row]) -> dict[str, str]:
        losses: dict[str, float] = defaultdict(float)
        for s in summaries:
            losses[s["underlying"]] += s["max_loss"]
        exposure = Exposure(
            *(sum(s[g] for s in summaries) for g in ("delta", "gamma", "theta", "vega")),
            open_strategies=len(summaries),
            max_loss_by_symbol=tuple(sorted(losses.items())),
        )
        targets: dict[str, str] = {}
        for found in violations(exposure, self.config.risk.portfolio, BUYING_POWER):
            if found.limit.value in ("delta", "gamma", "theta", "vega"):
                sign = 1.0 if found.value > 0 else -1.0
                ranked = [(s[found.limit.value] * sign, s["id"]) for s in summaries]
            else:
                ranked = [
                    (s["max_loss"], s["id"])
                    for s in summaries
                    if found.symbol in (None, s["underlying"])
                ]
            best: tuple[float, str] | None = None
            for share, sid in ranked:
                if share > 0 and (best is None or share > best[0]):
                    best = (share, sid)
            if best is not None:
                targets.setdefault(best[1], found.key)
        return targets

    def decide(self, s: Row, hits: set[str], targets: dict[str, str]) -> tuple[str, str]:
        r, today = self.config.decisions, TODAY
        events = [d for d in r.event.dates_for(s["underlying"]) if d >= today]
        next_event = min(events) if events else None
        flags = [
            (
                "catastrophic_move",
                s["breach"] > r.catastrophic_move.strike_breach_fraction
                or (
                    s["max_loss"] > 0
                    and -s["pnl"] / s["max_loss"] >= r.catastrophic_move.max_loss_fraction
                ),
            ),
            ("expiration_pin", s["pin"] <= r.expiration_pin.pin_distance_fraction),
            ("early_assignment", s["assignment"]),
            (
                "stop_loss",
                s["credit"] > 0 and -s["pnl"] / s["credit"] >= r.stop_loss.credit_multiple,
            ),
            ("delta_breach", s["short_delta"] >= r.delta_breach.max_short_delta),
            (
                "gamma_risk",
                s["dte"] <= r.gamma_risk.max_dte and abs(s["gamma"]) > r.gamma_risk.max_abs_gamma,
            ),
            (
                "event",
                next_event is not None
                and next_event <= s["last_expiry"]
                and (next_event - today).days <= r.event.days_before,
            ),
            ("trailing_stop", s["id"] in hits),
            (
                "take_profit",
                s["max_profit"] > 0 and s["pnl"] / s["max_profit"] >= r.take_profit.profit_fraction,
            ),
            ("time_exit", s["dte"] <= r.time_exit.max_dte),
            ("portfolio_limit", s["id"] in targets),
        ]
        for priority, (rule, triggered) in enumerate(flags, start=2):
            if triggered:
                absurd = not (
                    s["quote_ok"]
                    and s["spread"] is not None
                    and s["spread"] <= r.market_veto.max_spread_fraction
                )
                if priority > 5 and absurd:
                    return "hold", "market_veto"
                return ("reduce" if rule == "portfolio_limit" else "close"), rule
        return "hold", "hold"


def entry_candidates() -> list[EntryCandidate]:
    legs = (
        Leg(OptionContract("SPY", TODAY + timedelta(days=45), 480, Right.PUT), 1),
        Leg(OptionContract("SPY", TODAY + timedelta(days=45), 485, Right.PUT), -1),
    )
    intents = [OrderIntent(f"new-{i}", IntentKind.OPEN, legs, 1, -1.5) for i in range(ENTRIES)]
    return [EntryCandidate(i, "SPY", Greeks(5.0, -0.5, 2.0, -8.0), 350.0) for i in intents]


def gate_entries(
    config: RiskConfig, strategies: ArrayTable, now: datetime, entries: list[EntryCandidate]
) -> float:
    started = time.perf_counter()
    gate = RiskGate(config)
    gate.begin_cycle(strategies, BUYING_POWER, now)
    for entry in entries:
        gate.check(entry.intent, now, entry)
    gate.take_events()
    return time.perf_counter() - started


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main() -> None:
    config = benchmark_config()
    base = make_book()
    runs = cycles(base, WARMUP + CYCLES)
    vectorized, loop = Vectorized(config), Loop(config)
    entries = entry_candidates()
    timings: dict[str, list[float]] = defaultdict(list)
    loop_times, gate_times, record_times = [], [], []
    agree = total = triggered = 0
    for index, (now, book) in enumerate(runs):
        lap: dict[str, list[float]] = defaultdict(list)
        strategies, decisions = vectorized.cycle(book, now, lap)
        grouped = [
            rows
            for _, rows in book.rows_by_key("strategy_id", named=True, include_key=True).items()
        ]
        started = time.perf_counter()
        verdicts = loop.cycle(grouped, now)
        loop_elapsed = time.perf_counter() - started
        gate_elapsed = gate_entries(config.risk, strategies, now, entries)
        records = decisions.triggered
        record_elapsed = timed(records)
        if index < WARMUP:
            continue
        for name, values in lap.items():
            timings[name].extend(values)
        loop_times.append(loop_elapsed)
        gate_times.append(gate_elapsed)
        record_times.append(record_elapsed)
        frame = decisions.frame.select("strategy_id", "action", "rule")
        agree += sum(verdicts[sid] == (action, rule) for sid, action, rule in frame.iter_rows())
        total += frame.height
        triggered += len(records())
    report(
        timings,
        loop_times,
        gate_times,
        record_times,
        agree,
        total,
        triggered // CYCLES,
        base.height,
    )


def report(
    timings: dict[str, list[float]],
    loop_times: list[float],
    gate_times: list[float],
    record_times: list[float],
    agree: int,
    total: int,
    triggered: int,
    legs: int,
) -> None:
    vector = median_ms(timings["vectorized decisions + risk"])
    gate = median_ms(gate_times)
    verdict = "met" if vector + gate <= TARGET_MS else "MISSED"
    print(f"decisions + risk per cycle: {STRATEGIES:,} strategies, {legs:,} legs, one core")
    print(f"median of {CYCLES} cycles after {WARMUP} warm-up cycles\n")
    for name, values in timings.items():
        line(name, f"{median_ms(values):8.2f} ms")
    line("per-strategy Python loop", f"{median_ms(loop_times):8.2f} ms")
    line("loop / vectorized", f"{median_ms(loop_times) / vector:8.1f} x")
    line(f"risk gate: {ENTRIES} entry checks", f"{gate:8.2f} ms")
    line(
        "cycle total (vectorized + gate)",
        f"{vector + gate:8.2f} ms",
        f"target <= {TARGET_MS:g} ms: {verdict}",
    )
    line("verdicts agreeing with the loop", f"{agree:,} / {total:,}")
    line(
        "Decision records on demand",
        f"{median_ms(record_times):8.2f} ms",
        f"({triggered:,} triggered rules per cycle)",
    )


def line(name: str, value: str, note: str = "") -> None:
    print(f"  {name:<34} {value}   {note}".rstrip())


if __name__ == "__main__":
    main()
