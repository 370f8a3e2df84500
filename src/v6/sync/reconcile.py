"""Reconciliation: the broker's positions against the local strategies, and what is done.

`reconcile` is a pure function of the live strategies, what the broker reports (positions,
executions since the last session close, open orders) and the stock positions seen at the
last reconciliation. Contracts that an open order or a PENDING strategy is still working on
are left to execution. For every other option contract the local quantity (leg ratio x units,
summed over OPEN and CLOSING strategies) must equal the broker's; when it does not:

* **missing at the broker** (local != 0, broker 0): the leg expired, was assigned, exercised,
  cash-settled, or closed by a trade - V6's own (its order ref) or from outside V6. Which, the
  broker's executions say; without one, a contract past its expiry expired (or was assigned
  or exercised, when shares of its underlying appeared), otherwise it was closed outside V6.
  The leg leaves its strategy (see below);
* **unknown at the broker** (local 0, broker != 0): adopted as an *unmanaged* strategy of its
  own - ``Strategy(kind=CUSTOM, defined_risk=False)``, id ``adopted-<date>-<OCC>`` - which
  risk counts but the rules never touch until a user assigns it;
* **quantity mismatch** (both != 0): the broker wins. The difference goes to the strategy
  holding most of the contract (then the first by id).

A strategy that lost legs or quantity is *resolved*: with no leg left it is CLOSED; when its
legs still have their ratios it keeps its kind with the new number of units; otherwise it
becomes an unmanaged custom strategy with the broker's legs (same id, total entry premium
kept), so no rule acts on a shape it was not built for. Either way it is flagged for review
(an alert). Shares are never strategy legs: a change of a stock position against the last
reconciliation is an **assignment** (or exercise) when the broker's executions delivered the
shares - linked to the option and the strategy it came from - and otherwise a stock position
unknown to V6.

Every conflict becomes a `ReconciliationEvent` whose ``event_id`` is a hash of its facts
(account, New York date, symbol, kind, both quantities), so a reconciliation repeated after
a restart finds the same ids; `PositionSync` records only ids not yet recorded. Each event
comes with an `Alert` of the same id.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Final

from v6.brokers.events import ExecutionEvent
from v6.brokers.types import ExecutionKind, OrderState, underlying_of
from v6.clock import NEW_YORK, require_utc
from v6.domain import (
    Alert,
    InvalidOrderError,
    Leg,
    OptionContract,
    Position,
    Severity,
    StockContract,
    Strategy,
    StrategyKind,
    StrategyStatus,
    parse_order_ref,
)
from v6.store.records import ReconciliationEvent

SOURCE: Final = "reconcile"
_HELD: Final = frozenset({StrategyStatus.OPEN, StrategyStatus.CLOSING})


class ConflictKind(StrEnum):
    MISSING = "missing_at_broker"
    UNKNOWN = "unknown_at_broker"
    MISMATCH = "quantity_mismatch"
    ASSIGNMENT = "assignment"


class LegFate(StrEnum):
    """Why a leg is gone from the broker."""

    EXPIRED = "expired"
    ASSIGNED = "assigned"
    EXERCISED = "exercised"
    CASH_SETTLED = "cash_settled"
    CLOSED_BY_V6 = "closed_by_v6"
    CLOSED_OUTSIDE = "closed_outside_v6"


_FATE_OF_KIND: Final = {
    ExecutionKind.ASSIGNMENT: LegFate.ASSIGNED,
    ExecutionKind.EXERCISE: LegFate.EXERCISED,
    ExecutionKind.CASH_SETTLEMENT: LegFate.CASH_SETTLED,
    ExecutionKind.EXPIRATION: LegFate.EXPIRED,
}
_DELIVERIES: Final = frozenset({ExecutionKind.ASSIGNMENT, ExecutionKind.EXERCISE})
_ROUTINE: Final = frozenset({LegFate.EXPIRED, LegFate.CLOSED_BY_V6})


def is_unmanaged(strategy: Strategy) -> bool:
    """True for positions adopted from the broker: the rules never act on them."""
    return strategy.kind is StrategyKind.CUSTOM and not strategy.defined_risk


@dataclass(frozen=True, slots=True)
class BrokerBook:
    """What the broker reports, as reconciliation reads it."""

    account: str
    positions: tuple[Position, ...]
    executions: tuple[ExecutionEvent, ...]
    open_orders: tuple[OrderState, ...]


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """The outcome: conflicts found (events, with an alert each), strategies changed (closed,
    resized or taken over as unmanaged) and strategies adopted."""

    events: tuple[ReconciliationEvent, ...]
    alerts: tuple[Alert, ...]
    changed: tuple[Strategy, ...]
    adopted: tuple[Strategy, ...]

    def live(self, strategies: Iterable[Strategy]) -> list[Strategy]:
        """``strategies`` after reconciliation: changed ones replaced, closed ones dropped,
        adopted ones added."""
        changed = {s.strategy_id: s for s in self.changed}
        updated = [changed.get(s.strategy_id, s) for s in strategies]
        return [s for s in (*updated, *self.adopted) if not s.is_terminal]


@dataclass(frozen=True, slots=True)
class _Conflict:
    kind: ConflictKind
    symbol: str
    broker: int
    local: int
    note: str
    holders: tuple[str, ...] = ()
    severity: Severity = Severity.WARNING


def new_york_date(now: datetime) -> date:
    return require_utc(now, "now").astimezone(NEW_YORK).date()


AGREED: Final = Reconciliation((), (), (), ())
"""`reconcile`'s outcome when the broker `agrees` with the strategies."""


def held_options(strategies: Iterable[Strategy]) -> dict[OptionContract, int]:
    """Each option contract's quantity summed over the OPEN and CLOSING ``strategies``, those
    whose legs cancel out left out (as the broker leaves out flat positions): what `agrees`
    compares the broker's option positions with."""
    expected = _local_quantities(s for s in strategies if s.status in _HELD)
    return {c: total for c, holders in expected.items() if (total := sum(holders.values()))}


def agrees(
    held: Mapping[OptionContract, int],
    positions: Iterable[Position],
    known_stock: Mapping[str, int],
) -> bool:
    """Whether the broker's option positions are exactly ``held`` (`held_options` of the
    strategies) and no stock position moved from ``known_stock``. Then `reconcile` finds no
    conflict whatever the executions and open orders (they only explain or excuse a
    difference): its outcome is `AGREED`. (One dictionary comparison: it reuses the hashes
    the dictionaries keep, where looking up every contract would hash it anew.)"""
    options, stock = _broker_quantities(positions)
    return options == held and not _stock_moved(stock, known_stock)


def reconcile(
    strategies: Sequence[Strategy],
    broker: BrokerBook,
    known_stock: Mapping[str, int],
    now: datetime,
) -> Reconciliation:
    """Compare, decide and describe; see the module docstring. ``known_stock`` is each stock
    symbol's quantity at the last reconciliation."""
    now = require_utc(now, "now")
    today = new_york_date(now)
    held = [s for s in strategies if s.status in _HELD]
    expected = _local_quantities(held)
    options, stock = _broker_quantities(broker.positions)
    stock_moved = _stock_moved(stock, known_stock)
    busy = _contracts_in_flight(strategies, broker.open_orders)
    changes: defaultdict[str, dict[OptionContract, int]] = defaultdict(dict)
    conflicts: list[_Conflict] = []
    adopted: list[Strategy] = []
    for contract in _discrepant(expected, options, busy):
        holders, actual = expected.get(contract, {}), options.get(contract, 0)
        local = sum(holders.values())
        if local == 0:
            strategy = _adopt(contract, actual, broker.positions, today, now)
            adopted.append(strategy)
            note = (
                f"adopted as unmanaged strategy {strategy.strategy_id}: rules leave it alone "
                "until a user assigns it"
            )
            conflicts.append(_Conflict(ConflictKind.UNKNOWN, contract.occ_symbol, actual, 0, note))
        elif actual == 0:
            fate = leg_fate(contract, broker.executions, today, contract.underlying in stock_moved)
            for sid in holders:
                changes[sid][contract] = 0
            severity = Severity.INFO if fate in _ROUTINE else Severity.WARNING
            conflicts.append(
                _Conflict(
                    ConflictKind.MISSING,
                    contract.occ_symbol,
                    0,
                    local,
                    fate.value,
                    tuple(holders),
                    severity,
                )
            )
        else:
            target = min(holders, key=lambda sid: (-abs(holders[sid]), sid))
            changes[target][contract] = holders[target] + actual - local
            note = f"the broker's quantity wins ({actual} instead of {local})"
            conflicts.append(
                _Conflict(
                    ConflictKind.MISMATCH, contract.occ_symbol, actual, local, note, (target,)
                )
            )
    by_id = {s.strategy_id: s for s in held}
    outcomes = {sid: _resolve(by_id[sid], changed, now) for sid, changed in changes.items()}
    conflicts += _stock_conflicts(stock, known_stock, broker.executions, expected)
    events, alerts = _records(conflicts, outcomes, broker.account, today, now)
    changed = tuple(strategy for strategy, _ in outcomes.values())
    return Reconciliation(events, alerts, changed, tuple(adopted))


def _local_quantities(held: Iterable[Strategy]) -> dict[OptionContract, dict[str, int]]:
    expected: defaultdict[OptionContract, dict[str, int]] = defaultdict(dict)
    for strategy in held:
        for leg in strategy.legs:
            expected[leg.contract][strategy.strategy_id] = leg.quantity * strategy.quantity
    return dict(expected)


def _stock_moved(stock: Mapping[str, int], known_stock: Mapping[str, int]) -> set[str]:
    """The symbols whose stock quantity differs from the last reconciliation's."""
    return {
        symbol
        for symbol in {*stock, *known_stock}
        if stock.get(symbol, 0) != known_stock.get(symbol, 0)
    }


def _discrepant(
    expected: Mapping[OptionContract, Mapping[str, int]],
    options: Mapping[OptionContract, int],
    busy: Collection[OptionContract],
) -> list[OptionContract]:
    """The contracts outside ``busy`` whose local and broker quantities differ, by OCC
    symbol."""
    return sorted(
        (
            contract
            for contract in {*expected, *options}
            if contract not in busy
            and sum(expected.get(contract, {}).values()) != options.get(contract, 0)
        ),
        key=lambda c: c.occ_symbol,
    )


def _broker_quantities(
    positions: Iterable[Position],
) -> tuple[dict[OptionContract, int], dict[str, int]]:
    options: defaultdict[OptionContract, int] = defaultdict(int)
    stock: defaultdict[str, int] = defaultdict(int)
    for position in positions:
        contract = position.contract
        if isinstance(contract, OptionContract):
            options[contract] += position.quantity
        elif isinstance(contract, StockContract):
            stock[contract.symbol] += position.quantity
    return (
        {c: q for c, q in options.items() if q},
        {s: q for s, q in stock.items() if q},
    )


def _contracts_in_flight(
    strategies: Iterable[Strategy], open_orders: Iterable[OrderState]
) -> set[OptionContract]:
    """Contracts an open order or an entry still pending works on: execution's to settle."""
    busy = {
        leg.contract
        for order in open_orders
        for leg in order.spec.legs
        if isinstance(leg.contract, OptionContract)
    }
    for strategy in strategies:
        if strategy.status is StrategyStatus.PENDING:
            busy.update(leg.contract for leg in strategy.legs)
    return busy


def leg_fate(
    contract: OptionContract,
    executions: Iterable[ExecutionEvent],
    today: date,
    shares_moved: bool,
) -> LegFate:
    """Why ``contract`` is gone: from the broker's executions, else from its expiry (and
    whether shares of its underlying moved), else closed outside V6."""
    own = [e for e in executions if e.contract == contract]
    for execution in own:
        fate = _FATE_OF_KIND.get(execution.kind)
        if fate is not None:
            return fate
    if own:
        return LegFate.CLOSED_BY_V6 if any(_is_v6_order(e) for e in own) else LegFate.CLOSED_OUTSIDE
    if contract.is_expired(today):
        return LegFate.ASSIGNED if shares_moved else LegFate.EXPIRED
    return LegFate.CLOSED_OUTSIDE


def _is_v6_order(execution: ExecutionEvent) -> bool:
    try:
        parse_order_ref(execution.order_ref)
    except InvalidOrderError:
        return False
    return True


def _adopt(
    contract: OptionContract,
    quantity: int,
    positions: Iterable[Position],
    today: date,
    now: datetime,
) -> Strategy:
    """An unmanaged single-leg strategy for a broker position V6 does not know."""
    average = next((p.avg_price for p in positions if p.contract == contract and p.quantity), 0.0)
    side = 1 if quantity > 0 else -1
    return Strategy(
        strategy_id=f"adopted-{today:%Y%m%d}-{contract.occ_symbol.replace(' ', '')}",
        kind=StrategyKind.CUSTOM,
        legs=(Leg(contract, side),),
        quantity=abs(quantity),
        status=StrategyStatus.OPEN,
        entry_premium=-side * average,
        opened_at=now,
        defined_risk=False,
    )


def _resolve(
    strategy: Strategy, changed: Mapping[OptionContract, int], now: datetime
) -> tuple[Strategy, str]:
    """The strategy with the broker's quantities for ``changed`` contracts, and what happened
    to it."""
    totals = {leg.contract: leg.quantity * strategy.quantity for leg in strategy.legs}
    totals.update(changed)
    remaining = {c: q for c, q in totals.items() if q}
    sid = strategy.strategy_id
    if not remaining:
        return strategy.transition_to(StrategyStatus.CLOSED, now), f"strategy {sid} closed"
    units = math.gcd(*remaining.values())
    ratios = {c: q // units for c, q in remaining.items()}
    if ratios == {leg.contract: leg.quantity for leg in strategy.legs}:
        resized = dataclasses.replace(strategy, quantity=units)
        return resized, f"strategy {sid} resized to {units} unit(s), flagged for review"
    assert strategy.entry_premium is not None  # OPEN and CLOSING strategies have one
    custom = Strategy(
        strategy_id=sid,
        kind=StrategyKind.CUSTOM,
        legs=tuple(Leg(c, q) for c, q in ratios.items()),
        quantity=units,
        status=strategy.status,
        entry_premium=strategy.entry_premium * strategy.quantity / units,
        opened_at=strategy.opened_at,
        defined_risk=False,
    )
    return custom, (
        f"strategy {sid} taken over as unmanaged custom with the broker's legs, flagged for review"
    )


def _stock_conflicts(
    stock: Mapping[str, int],
    known: Mapping[str, int],
    executions: Sequence[ExecutionEvent],
    expected: Mapping[OptionContract, Mapping[str, int]],
) -> list[_Conflict]:
    conflicts = []
    for symbol in sorted({*stock, *known}):
        actual, before = stock.get(symbol, 0), known.get(symbol, 0)
        if actual == before:
            continue
        deliveries = [
            e for e in executions if e.kind in _DELIVERIES and underlying_of(e.contract) == symbol
        ]
        options = sorted(
            {e.contract for e in deliveries if isinstance(e.contract, OptionContract)},
            key=lambda c: c.occ_symbol,
        )
        if not options:
            note = "stock position changed outside V6; no strategy holds shares, left to the user"
            conflicts.append(_Conflict(ConflictKind.UNKNOWN, symbol, actual, before, note))
            continue
        holders = tuple(sorted({sid for c in options for sid in expected.get(c, {})}))
        note = (
            f"{before:+d} -> {actual:+d} shares delivered by the {deliveries[0].kind.value} of "
            f"{', '.join(c.occ_symbol for c in options)}; linked to strategy "
            f"{', '.join(holders) or 'none held'}"
        )
        conflicts.append(
            _Conflict(
                ConflictKind.ASSIGNMENT, symbol, actual, before, note, holders, Severity.CRITICAL
            )
        )
    return conflicts


def _records(
    conflicts: Iterable[_Conflict],
    outcomes: Mapping[str, tuple[Strategy, str]],
    account: str,
    today: date,
    now: datetime,
) -> tuple[tuple[ReconciliationEvent, ...], tuple[Alert, ...]]:
    events, alerts = [], []
    for conflict in conflicts:
        details = [outcomes[sid][1] for sid in conflict.holders if sid in outcomes]
        resolution = "; ".join([conflict.note, *details])
        event_id = _event_id(account, today, conflict)
        events.append(
            ReconciliationEvent(
                event_id=event_id,
                at=now,
                account=account,
                symbol=conflict.symbol,
                kind=conflict.kind.value,
                broker_quantity=conflict.broker,
                store_quantity=conflict.local,
                resolution=resolution,
            )
        )
        alerts.append(
            Alert(
                alert_id=event_id,
                severity=conflict.severity,
                source=SOURCE,
                message=(
                    f"{conflict.symbol}: {conflict.kind.value} (broker {conflict.broker}, "
                    f"V6 {conflict.local}): {resolution}"
                ),
                dedup_key=f"{SOURCE}:{conflict.kind.value}:{conflict.symbol}",
                created_at=now,
            )
        )
    return tuple(events), tuple(alerts)


def _event_id(account: str, today: date, conflict: _Conflict) -> str:
    kind, quantities = conflict.kind.value, f"{conflict.broker}|{conflict.local}"
    facts = "|".join((account, today.isoformat(), conflict.symbol, kind, quantities))
    return f"recon-{hashlib.sha256(facts.encode()).hexdigest()[:24]}"
