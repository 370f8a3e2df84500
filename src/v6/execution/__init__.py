"""The order execution engine: combo orders walked from the mid toward the natural price,
resting exits (OCA or bracket), legging protection, idempotent order references, the what-if
margin check and dry run.

Wiring (the engine's cycle)::

    paced = PacedBroker(broker, bucket, clock)   # the connection's message budget
    orders = OrderEngine(paced, clock, config.execution, dry_run=config.engine.dry_run)
    await orders.start()                         # after connecting; adopts working orders
    plan = ExitPlan.from_decisions(config.decisions)
    check = await orders.check_margin(intent)    # what-if margin for the risk candidate
    key = await orders.submit(OrderRequest(intent, attempt, exits=plan))
    ...
    for report in await orders.poll():           # once per cycle
        ...                                      # report.outcome, report.fills(), ...
    changed = orders.take_records()             # order records to persist (orders table)
"""

from v6.execution.exits import ExitPlan
from v6.execution.legging import LegImbalance, RepairKind, leg_imbalance
from v6.execution.order_engine import OrderEngine
from v6.execution.records import (
    ExecutionReport,
    MarginCheck,
    OrderRecord,
    OrderRole,
    Outcome,
    RecordStatus,
)
from v6.execution.tickets import OrderRequest

__all__ = [
    "ExecutionReport",
    "ExitPlan",
    "LegImbalance",
    "MarginCheck",
    "OrderEngine",
    "OrderRecord",
    "OrderRequest",
    "OrderRole",
    "Outcome",
    "RecordStatus",
    "RepairKind",
    "leg_imbalance",
]
