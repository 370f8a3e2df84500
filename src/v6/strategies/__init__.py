"""Strategy builders (iron condor, verticals, custom) chosen from the broker's chain, and the
entry signals of the strategy templates.

Wiring (the entry workflow)::

    paced = PacedBroker(broker, bucket, clock)   # the connection's message budget
    builder = StrategyBuilder(paced, clock, config.execution.selection,
                              price_tick=config.execution.walk.price_tick)
    signals = EntrySignals(config.execution.signals, config.decisions.event)
    facts = await signals.facts(paced, symbol, clock.now())
    if signals.evaluate(template, symbol, clock.now(), facts, open_count=n).passed:
        result = await builder.from_template(strategy_id, template, symbol)
        if isinstance(result, BuiltStrategy):
            ...  # result.entry_candidate(margin) -> RiskGate.check(result.open_intent(), ...)
"""

from v6.strategies.builders import LegSpec, StrategyBuilder, VerticalSpread
from v6.strategies.results import BuildResult, BuiltStrategy, Rejection, RejectReason
from v6.strategies.selection import DteWindow, Wing
from v6.strategies.signals import (
    CheckResult,
    EntrySignal,
    EntrySignals,
    MarketFacts,
    SignalCheck,
    iv_rank,
)

__all__ = [
    "BuildResult",
    "BuiltStrategy",
    "CheckResult",
    "DteWindow",
    "EntrySignal",
    "EntrySignals",
    "LegSpec",
    "MarketFacts",
    "RejectReason",
    "Rejection",
    "SignalCheck",
    "StrategyBuilder",
    "VerticalSpread",
    "Wing",
    "iv_rank",
]
