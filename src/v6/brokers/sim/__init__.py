"""The simulated exchange and broker: V6's embedded default, no IB account needed.

``open_simulation`` wires a market, the exchange, a clock and the broker the way the engine
needs them::

    sim = open_simulation(market, config.broker, journal_dir=data_dir / "sim")
    await sim.broker.connect()
    ...                       # the engine's cycle, sleeping on sim.clock between cycles

How time advances: the engine (or a test) sleeps on ``sim.clock``. The accelerated
``SimClock`` then asks the exchange to process every market step up to the new time
(``SimExchange.advance_to``), skipping closed hours; the real-time ``ReplayClock`` waits
really and lets the exchange catch up. The broker also lets the exchange catch up with the
clock before serving each request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from v6.brokers.sim.broker import SimBroker
from v6.brokers.sim.exchange import Dividends, SimExchange, SteppingMarket
from v6.brokers.sim.faults import BadQuoteKind, Faults
from v6.brokers.sim.journal import Journal, JournalMismatchError
from v6.clock import ReplayClock, SimClock
from v6.config.broker import BrokerConfig

JOURNAL_SUBDIRECTORY = "sim"


def journal_directory(data_dir: Path) -> Path:
    """Where a run's exchange journal lives: ``<data-dir>/sim/``."""
    return Path(data_dir) / JOURNAL_SUBDIRECTORY


@dataclass(frozen=True, slots=True)
class Simulation:
    exchange: SimExchange
    broker: SimBroker
    clock: SimClock | ReplayClock


def open_simulation(
    market: SteppingMarket,
    config: BrokerConfig,
    *,
    journal_dir: Path | None = None,
    replay_on: date | None = None,
    pace: float = 0.0,
    dividends: Dividends | None = None,
) -> Simulation:
    """The exchange on ``market`` with its broker and clock; resumes from ``journal_dir``
    when it holds a journal of the same run.

    ``replay_on`` selects the real-time clock: the market's first session
    (``config.sim.start_date``) replays at 1x on that real day (normally today). Otherwise the
    clock is accelerated, with ``pace`` simulated seconds per real second (0: unpaced).
    """
    journal = Journal(journal_dir) if journal_dir is not None else None
    exchange = SimExchange(market, config.sim, journal=journal, dividends=dividends)
    clock: SimClock | ReplayClock
    if replay_on is None:
        clock = SimClock(exchange.now, pace=pace)
    else:
        clock = ReplayClock(config.sim.start_date, replay_on)
    clock.attach(exchange)
    broker = SimBroker(exchange, clock, config)
    return Simulation(exchange, broker, clock)


__all__ = [
    "BadQuoteKind",
    "Faults",
    "Journal",
    "JournalMismatchError",
    "SimBroker",
    "SimExchange",
    "Simulation",
    "SteppingMarket",
    "journal_directory",
    "open_simulation",
]
