"""`v6 run`: the whole system, end to end.

With ``--days`` it runs on the simulated exchange in accelerated time (a progress bar per
simulated session) and prints a summary from the tables at the end; without, it runs on the
real clock against the configured broker (with ``broker.kind = "sim"``: the simulated exchange
replaying the ``--from`` session, or the config's first one, at 1x on today's session).
``--resume`` continues a run killed in the same ``--data-dir`` from its tables and the exchange
journal; without it the data directory must hold no earlier run.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from v6.brokers.sim import JournalMismatchError
from v6.config import ConfigError, V6Config, load_config
from v6.domain import StrategyStatus
from v6.engine import (
    RunStats,
    TradingEngine,
    UnsupportedBrokerError,
    build_engine,
    simulation_config,
    with_data_dir,
)
from v6.store import Store, table_spec

EXIT_USAGE = 2
console = Console()
error_console = Console(stderr=True, soft_wrap=True)


@dataclass(frozen=True, slots=True)
class RunSummary:
    """A run's outcome from its tables (so a resumed run is summarised whole)."""

    opened: int
    closed: int
    cancelled: int
    live: int
    realized_pnl: float
    commissions: float
    start_equity: float | None
    end_equity: float | None
    max_drawdown: float
    orders: int
    executions: int

    @classmethod
    def of(cls, store: Store) -> RunSummary:
        statuses = _frame(store, "strategies", ["strategy_id", "status"])
        fills = _frame(store, "executions")
        orders = _frame(store, "orders", ["order_id", "strategy_id"])
        equity = _frame(store, "account_snapshots", ["at", "net_liquidation"])
        curve = equity.sort("at")["net_liquidation"].drop_nulls()
        count = statuses["status"].value_counts()
        counts = dict(zip(count["status"].to_list(), count["count"].to_list(), strict=True))
        return cls(
            opened=len(statuses) - counts.get(StrategyStatus.CANCELLED.value, 0),
            closed=counts.get(StrategyStatus.CLOSED.value, 0),
            cancelled=counts.get(StrategyStatus.CANCELLED.value, 0),
            live=sum(counts.get(status, 0) for status in _LIVE),
            realized_pnl=_realized(fills, orders, statuses),
            commissions=float(fills["commission"].sum()),
            start_equity=float(curve[0]) if len(curve) else None,
            end_equity=float(curve[-1]) if len(curve) else None,
            max_drawdown=_max_drawdown(curve),
            orders=len(orders),
            executions=len(fills),
        )


_LIVE = tuple(
    s.value for s in (StrategyStatus.PENDING, StrategyStatus.OPEN, StrategyStatus.CLOSING)
)


def _max_drawdown(equity: pl.Series) -> float:
    """The largest fall from a peak of the equity curve, in currency."""
    drawdowns = (equity.cum_max() - equity).to_list()
    return float(max(drawdowns, default=0.0))


def _frame(store: Store, table: str, columns: list[str] | None = None) -> pl.DataFrame:
    frame = pl.from_arrow(store.reader.read(table_spec(table), columns=columns))
    assert isinstance(frame, pl.DataFrame)  # a table, never a single column
    return frame


def _realized(fills: pl.DataFrame, orders: pl.DataFrame, statuses: pl.DataFrame) -> float:
    """Cash flows (premium less commissions) of every fill of the CLOSED strategies."""
    closed = statuses.filter(pl.col("status") == StrategyStatus.CLOSED.value)
    flows = fills.join(orders.unique("order_id"), on="order_id").join(closed, on="strategy_id")
    cash = -pl.col("quantity") * pl.col("price") * pl.col("multiplier") - pl.col("commission")
    return float(flows.select(cash.sum()).item() or 0.0)


def summary_table(summary: RunSummary, stats: RunStats, wall: float) -> Table:
    table = Table(title="V6 run summary", show_header=False)
    table.add_column(justify="left")
    table.add_column(justify="right")
    simulated = _simulated_seconds(stats)
    rows = {
        "strategies opened / closed / live": f"{summary.opened} / {summary.closed} / "
        f"{summary.live}",
        "entries not filled (cancelled)": str(summary.cancelled),
        "realized P&L (closed, after commissions)": f"${summary.realized_pnl:,.2f}",
        "commissions": f"${summary.commissions:,.2f}",
        "equity start -> end": f"{_money(summary.start_equity)} -> {_money(summary.end_equity)}",
        "max drawdown": f"${summary.max_drawdown:,.2f}",
        "orders / executions": f"{summary.orders} / {summary.executions}",
        "rule triggers (this process)": ", ".join(
            f"{rule} {count}" for rule, count in stats.rule_triggers.most_common()
        )
        or "none",
        "cycles (this process)": str(stats.cycles),
        "wall time": f"{wall:.1f} s",
        "simulated / real time": f"{simulated / wall:,.0f}x" if wall > 0 else "n/a",
    }
    for name, value in rows.items():
        table.add_row(name, value)
    return table


def stages_table(stats: RunStats) -> Table:
    total = sum(stats.stage_seconds.values()) or 1.0
    table = Table(title="Where the time went (wall seconds per stage)")
    for column in ("stage", "seconds", "share"):
        table.add_column(column, justify="right")
    for stage, seconds in sorted(stats.stage_seconds.items(), key=lambda kv: -kv[1]):
        table.add_row(stage, f"{seconds:.2f}", f"{seconds / total:.0%}")
    return table


def _simulated_seconds(stats: RunStats) -> float:
    if stats.first_cycle_at is None or stats.last_cycle_at is None:
        return 0.0
    return (stats.last_cycle_at - stats.first_cycle_at).total_seconds()


def _money(value: float | None) -> str:
    return "n/a" if value is None else f"${value:,.2f}"


def _settings(path: Path | None) -> V6Config:
    try:
        return load_config(path)
    except ConfigError as error:
        for problem in error.problems:
            error_console.print(str(problem), markup=False, highlight=False)
        raise typer.Exit(EXIT_USAGE) from None


def _check_fresh(data_dir: Path, resume: bool) -> None:
    used = (data_dir / "tables").exists() or (data_dir / "sim").exists()
    if used and not resume:
        error_console.print(
            f"{data_dir} holds an earlier run: pass --resume to continue it, or choose an "
            "empty --data-dir",
            markup=False,
        )
        raise typer.Exit(EXIT_USAGE)


async def _run_with_progress(engine: TradingEngine, sessions: int, quiet: bool) -> RunStats:
    if quiet:
        return await engine.run()
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} sessions"),
        TextColumn("{task.fields[state]}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("simulating", total=sessions, state="")
        days: set[date] = set()

        def on_cycle(current: TradingEngine) -> None:
            at = current.parts.clock.now()
            days.add(at.date())
            equity = current.equity
            progress.update(
                task,
                completed=len(days),
                description=at.strftime("%Y-%m-%d %H:%M UTC"),
                state=f"live {len(current.book.live)}  closed {current.book.closed}  "
                f"equity {_money(equity)}",
            )

        return await engine.run(on_cycle=on_cycle)


def run(
    start: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="First simulated session (YYYY-MM-DD); on the real clock, the historical "
            "session replayed at 1x on today's session.",
        ),
    ] = None,
    days: Annotated[
        int | None,
        typer.Option(help="Simulated sessions to run; without it: the real clock, live broker."),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the simulated exchange.")] = None,
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="Tables and the exchange journal go here.")
    ] = Path("./v6-data"),
    config: Annotated[Path | None, typer.Option(help="Configuration file (TOML).")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Record intended orders, send none.")
    ] = False,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the run killed in --data-dir.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Run V6: simulated in accelerated time with --days, else on the real clock."""
    settings = with_data_dir(_settings(config), data_dir)
    _check_fresh(data_dir, resume)
    first = date.fromisoformat(start) if start else settings.broker.sim.start_date
    settings = simulation_config(settings, first, days or 1, seed)
    replay_on = settings.broker.sim.start_date if days is None else None
    try:
        engine = build_engine(settings, dry_run=dry_run or None, replay_on=replay_on)
    except UnsupportedBrokerError as error:
        error_console.print(f"run: {error}", markup=False)
        raise typer.Exit(EXIT_USAGE) from None
    except JournalMismatchError as error:
        error_console.print(f"run: {error}", markup=False)
        raise typer.Exit(EXIT_USAGE) from None
    started = time.perf_counter()
    stats = asyncio.run(_run_with_progress(engine, days or 1, quiet))
    wall = time.perf_counter() - started
    summary = RunSummary.of(Store.from_config(settings.storage))
    console.print(summary_table(summary, stats, wall))
    console.print(stages_table(stats))
    console.print(
        f"Report:    v6 report --data-dir {data_dir}\nDashboard: v6 dashboard --data-dir {data_dir}"
    )


app = typer.Typer(add_completion=False)
app.command("run")(run)
