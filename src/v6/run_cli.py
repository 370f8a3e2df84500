"""`v6 run`: the whole system, end to end.

With ``--days`` it runs on the simulated exchange in accelerated time (a progress bar per
simulated session) and prints a summary from the tables at the end (SIGTERM or SIGINT end it
early, as below, with the summary so far).

Without ``--days`` it runs on the real clock against the configured broker, until stopped
(SIGTERM or SIGINT: the cycle in progress ends, the store is flushed, the broker disconnected,
and the run exits 0). With ``broker.kind = "sim"`` that is a paper session without an IB
account: the simulated exchange replays history on the real NYSE sessions, one for one - the
first real session whose close is still ahead replays ``--from`` (default
``broker.sim.start_date``), each later real session the next historical session, through
``broker.sim.end_date`` (then the run ends). A real session's open and close are the
historical session's open and close (at 1x when both are equally long; a real half day
replays a whole historical session faster). So a run started on a closed day (a weekend,
Thanksgiving) or outside the hours waits for the next real open, saying when it is, and
trades from then on; meanwhile the engine keeps cycling on the replayed closed hours
(heartbeats; the entry window opens nothing while the market is closed).
``engine.time_acceleration`` > 0 runs that real clock so many times faster (tests and demos);
0 means real time. See `v6.clock.ReplayClock`.

A real-clock run serves ``/healthz``, ``/readyz`` and ``/metrics`` on ``health.host`` /
``health.port`` (127.0.0.1:8080) for its lifetime; an accelerated run only with ``--health``
(it is a batch job, and parallel runs would contend for the port).

``--resume`` continues a run killed in the same ``--data-dir`` from its tables and the exchange
journal (a real-clock replay carries on from the journal's session); without it the data
directory must hold no earlier run.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from v6.brokers.sim import JournalMismatchError
from v6.clock import NEW_YORK, Clock, ReplayClock
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
from v6.health import HealthServer
from v6.health.http import DEFAULT_MAX_SYNC_AGE_SECONDS
from v6.market.calendar import nyse_calendar
from v6.store import Store, table_spec

EXIT_USAGE = 2
READINESS_CYCLES = 3
"""/readyz stays ready while the last sync heartbeat is less than this many cycles old (and
never less than a minute): on a 15-minute bar the engine cycles every 15 minutes."""
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


def _replay_window(settings: V6Config, first: date, seed: int | None) -> V6Config:
    """The real-clock replay: from ``first`` through ``broker.sim.end_date``."""
    end = settings.broker.sim.end_date
    sessions = len(nyse_calendar().sessions(first, end)) if first <= end else 0
    if sessions == 0:
        error_console.print(
            f"run: --from {first.isoformat()} leaves no session before broker.sim.end_date "
            f"{end.isoformat()}: the real clock replays --from through broker.sim.end_date",
            markup=False,
        )
        raise typer.Exit(EXIT_USAGE)
    return simulation_config(settings, first, sessions, seed)


def _health_server(engine: TradingEngine) -> HealthServer:
    config = engine.parts.config
    wall_per_cycle = engine.cycle_interval.total_seconds() / (
        config.engine.time_acceleration or 1.0
    )
    max_age = max(DEFAULT_MAX_SYNC_AGE_SECONDS, READINESS_CYCLES * wall_per_cycle)
    return HealthServer(engine.parts.health, config.health.host, config.health.port, max_age)


def _start_health(server: HealthServer, engine: TradingEngine) -> None:
    health = engine.parts.config.health
    try:
        server.start()
    except OSError as error:
        error_console.print(
            f"run: cannot serve health on {health.host}:{health.port} ({error.strerror}): "
            "set health.port (V6_HEALTH__PORT) or pass --no-health",
            markup=False,
        )
        raise typer.Exit(EXIT_USAGE) from None
    _say(f"Health: http://{health.host}:{server.port}/healthz  /readyz  /metrics")


@contextmanager
def _stopping_on_signals(clock: Clock) -> Iterator[None]:
    """SIGTERM and SIGINT halt the clock: the engine ends its run after the cycle in
    progress, flushing the store and disconnecting (systemd stops a unit with SIGTERM)."""
    loop = asyncio.get_running_loop()

    def halt(name: str) -> None:
        _say(f"{name}: stopping after the cycle in progress")
        clock.halt()

    signals = (signal.SIGTERM, signal.SIGINT)
    for number in signals:
        loop.add_signal_handler(number, halt, number.name)
    try:
        yield
    finally:
        for number in signals:
            loop.remove_signal_handler(number)


def _say(line: str) -> None:
    """One line of a real-clock run's log (never wrapped: it goes to journald)."""
    console.print(line, markup=False, highlight=False, soft_wrap=True)


def _new_york(moment: datetime) -> str:
    return moment.astimezone(NEW_YORK).strftime("%a %Y-%m-%d %H:%M %Z")


async def announce_sessions(clock: ReplayClock) -> None:
    """Say when each real session opens and closes and which session it replays: the log of
    a real-clock run, which waits through closed days. Every session is announced, even when
    a busy loop wakes the announcer only after its close."""
    while not clock.finished:
        session = clock.session()
        replays = session.replays.isoformat()
        if clock.real_now() < session.opens_at:
            _say(
                f"{_new_york(clock.real_now())}: market closed; the next session opens "
                f"{_new_york(session.opens_at)} (replaying {replays})"
            )
            await clock.wait_real(session.opens_at)
            if clock.finished:
                return
        _say(
            f"{_new_york(clock.real_now())}: session open until "
            f"{_new_york(session.closes_at)} (replaying {replays})"
        )
        await clock.wait_real(session.closes_at)


async def _run_on_real_clock(engine: TradingEngine, clock: ReplayClock) -> RunStats:
    announcer = asyncio.ensure_future(announce_sessions(clock))
    try:
        return await engine.run()
    finally:
        announcer.cancel()


async def _run(engine: TradingEngine, sessions: int, quiet: bool) -> RunStats:
    clock = engine.parts.clock
    with _stopping_on_signals(clock):
        if isinstance(clock, ReplayClock):
            return await _run_on_real_clock(engine, clock)
        return await _run_with_progress(engine, sessions, quiet)


def _build(settings: V6Config, dry_run: bool, replay_on: date | None) -> TradingEngine:
    try:
        return build_engine(settings, dry_run=dry_run or None, replay_on=replay_on)
    except (UnsupportedBrokerError, JournalMismatchError) as error:
        error_console.print(f"run: {error}", markup=False)
        raise typer.Exit(EXIT_USAGE) from None


def run(
    start: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="First simulated session (YYYY-MM-DD); on the real clock, the historical "
            "session the next real session replays (default: broker.sim.start_date).",
        ),
    ] = None,
    days: Annotated[
        int | None,
        typer.Option(
            help="Simulated sessions to run in accelerated time; without it: the real clock, "
            "until stopped."
        ),
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
    health: Annotated[
        bool | None,
        typer.Option(
            "--health/--no-health",
            help="Serve /healthz /readyz /metrics on health.host:health.port "
            "(default: on the real clock only).",
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Run V6: simulated in accelerated time with --days, else on the real clock until stopped.

    On the real clock (broker.kind = "sim"), each real NYSE session replays one historical
    session, in order: the first real session whose close is still ahead replays --from,
    the next real session the next historical session, and so on through
    broker.sim.end_date. A real session's open and close are the replayed session's open
    and close. On a closed day (weekend, holiday) or outside the hours the run waits for the
    next real open, says when it is, and trades from then on. engine.time_acceleration > 0
    (V6_ENGINE__TIME_ACCELERATION) runs this real clock that many times faster.

    SIGTERM or SIGINT stops the run after the cycle in progress: the store is flushed, the
    broker disconnected, and the exit status is 0.
    """
    settings = with_data_dir(_settings(config), data_dir)
    _check_fresh(data_dir, resume)
    first = date.fromisoformat(start) if start else settings.broker.sim.start_date
    if days is None:
        settings = _replay_window(settings, first, seed)
        engine = _build(settings, dry_run, datetime.now(NEW_YORK).date())
    else:
        settings = simulation_config(settings, first, days, seed)
        engine = _build(settings, dry_run, None)
    server = _health_server(engine)
    serve_health = days is None if health is None else health
    if serve_health:
        _start_health(server, engine)
    started = time.perf_counter()
    try:
        stats = asyncio.run(_run(engine, days or 1, quiet))
    finally:
        server.stop()
    wall = time.perf_counter() - started
    summary = RunSummary.of(Store.from_config(settings.storage))
    console.print(summary_table(summary, stats, wall))
    console.print(stages_table(stats))
    console.print(
        f"Report:    v6 report --data-dir {data_dir}\nDashboard: v6 dashboard --data-dir {data_dir}"
    )


app = typer.Typer(add_completion=False)
app.command("run")(run)
