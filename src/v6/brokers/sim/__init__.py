"""The simulated exchange and broker: V6's embedded default, no IB account needed.

``open_simulation`` wires a market, the exchange, a clock and the broker the way the engine
needs them::

    sim = open_simulation(market, config.broker, data_dir=data_dir)
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
"""The exchange's journal lives in ``<data-dir>/sim/``."""


@dataclass(frozen=True, slots=True)
class Simulation:
    exchange: SimExchange
    broker: SimBroker
    clock: SimClock | ReplayClock


def open_simulation(
    market: SteppingMarket,
    config: BrokerConfig,
    *,
    data_dir: Path | None = None,
    replay_on: date | None = None,
    pace: float = 0.0,
    dividends: Dividends | None = None,
) -> Simulation:
    """The exchange on ``market`` with its broker and clock, journaled under
    ``<data_dir>/sim/`` (not at all without ``data_dir``); resumes from the journal there when
    it belongs to the same run, and refuses one of another run.

    ``replay_on`` selects the real-time clock: the market's first session
    (``config.sim.start_date``) replays on the real sessions from that real day (normally
    today), real time running ``pace`` times faster than the wall clock (0: at 1x). Otherwise
    the clock is accelerated, with ``pace`` simulated seconds per real second (0: unpaced).
    """
    journal = None if data_dir is None else Journal(Path(data_dir) / JOURNAL_SUBDIRECTORY)
    exchange = SimExchange(market, config.sim, journal=journal, dividends=dividends)
    clock: SimClock | ReplayClock
    if replay_on is None:
        clock = SimClock(exchange.now, pace=pace)
    else:
        clock = ReplayClock(config.sim.start_date, replay_on, pace=pace or 1.0)
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
    "open_simulation",
]
