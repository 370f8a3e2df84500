"""StrategyRegistry: which strategies are active this cycle, and how close each is to acting.

A strategy is *active* - its legs deserve streaming lines - when it is being entered or
exited (in flight: PENDING or CLOSING, or named by the engine) or near a decision trigger.
Nearness is the strategy's *distance*: for every enabled rule among the profit target, the
stop, the short-delta breach and the DTE exit, ``(threshold - value) / threshold`` - 0 at
the trigger, negative beyond it, 1 when the value is 0 - and the smallest of them:

* profit target: ``take_profit.profit_fraction`` against the captured fraction
  ``pnl / max_profit``;
* stop: ``stop_loss.credit_multiple`` against the loss multiple ``-pnl / entry_credit``;
* delta breach: ``delta_breach.max_short_delta`` against the largest short-leg |delta|;
* DTE exit: ``time_exit.max_dte`` against the days to the nearest expiry (a threshold of 0
  days counts as 1).

Unknown inputs (a leg without a mark) leave a rule out; a strategy with no known input, or
one the rules must not touch (``managed`` false), has no distance and is never active by
proximity. Hysteresis: a strategy becomes active at ``sync.proximity_enter_fraction``, stays
active until beyond ``sync.proximity_exit_fraction``, and for at least
``sync.min_stream_seconds`` once active.

The inputs are computed for the whole book at once, with the definitions of the decision
engine's strategy summary (``v6.book.summarize``): ``pnl`` is the entry credit plus what the
legs are worth, unknown while a leg has no mark; ``dte`` counts calendar days to the nearest
expiry. Only the columns the triggers read are aggregated, per strategy with numpy's grouped
reductions (``ufunc.at``, linear in the legs); the distances are then a few numpy operations on
those arrays (NaN for unknown). Of those columns only the marks and deltas change from cycle
to cycle: `StrategyLegs` holds the rest, so position sync (which keeps its book's strategy
columns between changes, `v6.sync.frame`) reads them once per change, not once per cycle.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final

import numpy as np
import numpy.typing as npt
import polars as pl

from v6.clock import NEW_YORK, require_utc
from v6.config.decisions import DecisionsConfig
from v6.config.sync import SyncConfig
from v6.legs import BoolArray, days_from
from v6.sync.marks import FloatArray, IntArray
from v6.table import as_array

DISTANCE_SCHEMA: Final = pl.Schema({"strategy_id": pl.String(), "distance": pl.Float64()})
"""`StrategyRegistry.distances`: one row per strategy of the book; null distance = unknown."""


@dataclass(frozen=True, slots=True)
class Activity:
    """One cycle's verdict. ``active`` is ordered most urgent first: strategies in flight,
    then the others, each group closest to a trigger first (unknown distance last), then by
    id. ``strategy_ids`` are the book's strategies and ``distances`` their distances to the
    nearest trigger (NaN: unknown)."""

    active: tuple[str, ...]
    in_flight: frozenset[str]
    strategy_ids: tuple[str, ...]
    distances: FloatArray


@dataclass(frozen=True, slots=True)
class TriggerInputs:
    """Per strategy of a book (in order of first appearance), what the triggers compare:
    ``managed``, ``entry_credit``, ``max_profit``, ``pnl``, ``dte`` and the largest
    short-leg |delta| (``short_delta``); NaN where unknown."""

    strategy_ids: tuple[str, ...]
    managed: BoolArray
    entry_credit: FloatArray
    max_profit: FloatArray
    pnl: FloatArray
    dte: FloatArray
    short_delta: FloatArray


def _relative(threshold: float, value: FloatArray) -> FloatArray:
    return (threshold - value) / threshold


@dataclass(frozen=True, slots=True)
class StrategyLegs:
    """The part of a book's `TriggerInputs` that changes only with its strategies: each leg's
    strategy (``group``: its position in ``strategy_ids``, in order of first appearance),
    ``quantity``, ``multiplier`` and ``expiry``, and per strategy ``managed``,
    ``entry_credit`` and ``max_profit``. `inputs` adds a cycle's marks and deltas."""

    strategy_ids: tuple[str, ...]
    group: IntArray
    quantity: FloatArray
    multiplier: FloatArray
    expiry: npt.NDArray[np.datetime64]
    managed: BoolArray
    entry_credit: FloatArray
    max_profit: FloatArray

    @classmethod
    def of(cls, book: pl.DataFrame) -> StrategyLegs:
        """The strategy columns of ``book`` (a book frame; its quote columns are not read)."""
        codes: dict[str, int] = {}
        ids = book.get_column("strategy_id").to_list()
        group = np.fromiter((codes.setdefault(sid, len(codes)) for sid in ids), np.int64, len(ids))
        first = np.unique(group, return_index=True)[1]
        quantity, multiplier = as_array(book["quantity"]), as_array(book["multiplier"])
        entry_credit = as_array(book["entry_premium"]) * as_array(book["units"]) * multiplier
        return cls(
            strategy_ids=tuple(codes),
            group=group,
            quantity=quantity,
            multiplier=multiplier,
            expiry=book.get_column("expiry").to_numpy(),
            managed=book.get_column("managed").to_numpy()[first],
            entry_credit=entry_credit[first],
            max_profit=as_array(book["max_profit"])[first],
        )

    def inputs(self, mark: FloatArray, delta: FloatArray, today: date) -> TriggerInputs:
        """The `TriggerInputs` with each leg's ``mark`` and ``delta`` (NaN: unknown) on
        ``today`` (the New York date the DTE counts from)."""
        count, group, quantity = len(self.strategy_ids), self.group, self.quantity
        value = quantity * mark * self.multiplier
        days = days_from(self.expiry, today)
        short_delta = np.where(quantity < 0, np.abs(delta), np.nan)
        return TriggerInputs(
            strategy_ids=self.strategy_ids,
            managed=self.managed,
            entry_credit=self.entry_credit,
            max_profit=self.max_profit,
            pnl=self.entry_credit + _grouped(np.add, 0.0, group, count, value),
            dte=_grouped(np.fmin, np.nan, group, count, days),
            short_delta=_grouped(np.fmax, np.nan, group, count, short_delta),
        )


def trigger_inputs(book: pl.DataFrame, today: date) -> TriggerInputs:
    """The book's `TriggerInputs` (``today``: the New York date the DTE counts from)."""
    legs = StrategyLegs.of(book)
    return legs.inputs(as_array(book["mark"]), as_array(book["delta"]), today)


def _grouped(
    reduce: np.ufunc, start: float, group: IntArray, groups: int, values: FloatArray
) -> FloatArray:
    """``values`` reduced per group, from ``start`` (``add`` propagates NaN; ``fmin`` and
    ``fmax`` skip it, so from NaN they give NaN only for a group of NaN alone)."""
    reduced = np.full(groups, start)
    reduce.at(reduced, group, values)
    return reduced


def nearest_trigger(inputs: TriggerInputs, decisions: DecisionsConfig) -> FloatArray:
    """Each strategy's (`trigger_inputs`) distance to its nearest enabled trigger: NaN when
    no enabled rule has a known input, or the strategy is unmanaged."""
    pnl, max_profit, credit = inputs.pnl, inputs.max_profit, inputs.entry_credit
    distances = [np.full(len(inputs.strategy_ids), np.nan)]
    with np.errstate(divide="ignore", invalid="ignore"):
        if decisions.take_profit.enabled:
            captured = np.where(max_profit > 0, pnl / max_profit, np.nan)
            distances.append(_relative(decisions.take_profit.profit_fraction, captured))
        if decisions.stop_loss.enabled:
            multiple = np.where(credit > 0, -pnl / credit, np.nan)
            distances.append(_relative(decisions.stop_loss.credit_multiple, multiple))
        if decisions.delta_breach.enabled:
            distances.append(_relative(decisions.delta_breach.max_short_delta, inputs.short_delta))
        if decisions.time_exit.enabled:
            max_dte = decisions.time_exit.max_dte
            distances.append((inputs.dte - max_dte) / max(max_dte, 1))
    nearest = np.fmin.reduce(distances)
    return np.where(inputs.managed, nearest, np.nan)


class StrategyRegistry:
    """Keeps the active set across cycles (hysteresis); see the module docstring."""

    def __init__(self, sync: SyncConfig, decisions: DecisionsConfig) -> None:
        self._enter = sync.proximity_enter_fraction
        self._exit = sync.proximity_exit_fraction
        self._hold = timedelta(seconds=sync.min_stream_seconds)
        self._decisions = decisions
        self._since: dict[str, datetime] = {}

    @property
    def active_since(self) -> Mapping[str, datetime]:
        """When each active strategy became active."""
        return self._since

    def distances(self, book: pl.DataFrame, now: datetime) -> pl.DataFrame:
        """Every strategy's distance to its nearest trigger (DISTANCE_SCHEMA)."""
        ids, distances = self._measure(book, require_utc(now, "now"))
        return pl.DataFrame(
            [
                pl.Series("strategy_id", ids, pl.String),
                pl.Series("distance", distances, nan_to_null=True),
            ],
            schema=DISTANCE_SCHEMA,
        )

    def _measure(self, book: pl.DataFrame, now: datetime) -> tuple[tuple[str, ...], FloatArray]:
        """The book's strategy ids, in order of first appearance, and their distances."""
        if book.is_empty():
            return (), np.empty(0)
        inputs = trigger_inputs(book, now.astimezone(NEW_YORK).date())
        return inputs.strategy_ids, nearest_trigger(inputs, self._decisions)

    def update(
        self, book: pl.DataFrame, now: datetime, in_flight: Collection[str] = ()
    ) -> Activity:
        """This cycle's active strategies. ``in_flight`` names strategies being entered or
        exited; they are active whether or not they are in the book yet."""
        now = require_utc(now, "now")
        return self._update(*self._measure(book, now), now, in_flight)

    def update_from(
        self, inputs: TriggerInputs, now: datetime, in_flight: Collection[str] = ()
    ) -> Activity:
        """`update` from the book's `TriggerInputs` (``trigger_inputs(book, today)``) rather
        than the book itself."""
        distances = nearest_trigger(inputs, self._decisions)
        return self._update(inputs.strategy_ids, distances, require_utc(now, "now"), in_flight)

    def _update(
        self,
        ids: tuple[str, ...],
        distances: FloatArray,
        now: datetime,
        in_flight: Collection[str],
    ) -> Activity:
        since = self._since
        watched = np.flatnonzero(
            (distances <= self._exit) | np.array([sid in since for sid in ids], dtype=bool)
        )
        known = {ids[i]: _known(distances[i]) for i in watched.tolist()}
        flying = frozenset(in_flight)
        self._since = self._next_active(known, flying, {*ids, *flying}, now)
        return Activity(self._ordered(known, flying), flying, ids, distances)

    def _next_active(
        self,
        known: Mapping[str, float | None],
        in_flight: Iterable[str],
        present: Collection[str],
        now: datetime,
    ) -> dict[str, datetime]:
        since = self._since
        active = {sid: since.get(sid, now) for sid in in_flight}
        for sid, distance in known.items():
            if distance is None or sid in active:
                continue
            threshold = self._exit if sid in since else self._enter
            if distance <= threshold:
                active[sid] = since.get(sid, now)
        for sid, started in since.items():
            if sid not in active and sid in present and now - started < self._hold:
                active[sid] = started
        return active

    def _ordered(
        self, known: Mapping[str, float | None], in_flight: frozenset[str]
    ) -> tuple[str, ...]:
        def urgency(sid: str) -> tuple[bool, float, str]:
            distance = known.get(sid)
            return (sid not in in_flight, math.inf if distance is None else distance, sid)

        return tuple(sorted(self._since, key=urgency))


def _known(distance: float) -> float | None:
    return None if math.isnan(distance) else float(distance)
