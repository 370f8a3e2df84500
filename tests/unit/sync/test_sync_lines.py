"""Planning the streaming lines (whole strategies, within the budget, in flight first, and
strategies already streaming keep their lines against equally urgent newcomers) and what
connection and farm messages mean for them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from v6.brokers import ConnectionEvent, ErrorEvent
from v6.domain import OptionContract, Right
from v6.sync.streamer import Connectivity, LineHealth, plan_lines

EXPIRY = date(2024, 4, 19)
AT = datetime(2024, 3, 4, 15, 0, tzinfo=UTC)


def legs(*strikes: int) -> list[OptionContract]:
    return [OptionContract("SPY", EXPIRY, k, Right.PUT) for k in strikes]


CONDOR_A, CONDOR_B = legs(1, 2, 3, 4), legs(5, 6, 7, 8)
VERTICAL_C, VERTICAL_D = legs(9, 10), legs(11, 12)


def test_strategies_get_lines_whole_in_order_while_the_budget_lasts() -> None:
    lines = plan_lines([CONDOR_A, CONDOR_B, VERTICAL_C, VERTICAL_D], 0, [], budget=10)

    assert lines == CONDOR_A + CONDOR_B + VERTICAL_C


def test_a_strategy_that_does_not_fit_is_skipped_for_a_smaller_one() -> None:
    lines = plan_lines([VERTICAL_C, CONDOR_A, CONDOR_B, VERTICAL_D], 0, [], budget=7)

    assert lines == VERTICAL_C + CONDOR_A


def test_in_flight_first_then_incumbents_then_newcomers() -> None:
    groups = [VERTICAL_C, CONDOR_A, CONDOR_B]

    kept = plan_lines(groups, 1, streaming=CONDOR_B, budget=6)

    assert kept == VERTICAL_C + CONDOR_B


def test_shared_contracts_take_one_line() -> None:
    shared = legs(9, 20)

    assert plan_lines([VERTICAL_C, shared], 0, [], budget=3) == legs(9, 10, 20)


@given(
    groups=st.lists(st.lists(st.integers(1, 40), min_size=1, max_size=4), max_size=20),
    in_flight=st.integers(0, 5),
    streaming=st.lists(st.integers(1, 40), max_size=12),
    budget=st.integers(0, 12),
)
def test_never_over_budget_and_only_whole_strategies(
    groups: list[list[int]], in_flight: int, streaming: list[int], budget: int
) -> None:
    contracts = [legs(*group) for group in groups]

    lines = plan_lines(contracts, min(in_flight, len(groups)), legs(*streaming), budget)

    assert len(lines) == len(set(lines)) <= budget
    covered = [group for group in contracts if set(group) <= set(lines)]
    assert set(lines) == {c for group in covered for c in group}


def error(code: int) -> ErrorEvent:
    return ErrorEvent(AT, code, "")


@pytest.mark.parametrize(
    ("events", "outcomes", "stale", "resubscribe"),
    [
        ([error(1100)], [Connectivity.LOST], True, False),
        ([error(1100), error(1101)], [Connectivity.LOST, Connectivity.RESTORED], False, True),
        ([error(1100), error(1102)], [Connectivity.LOST, Connectivity.RESTORED], False, True),
        ([error(2103), error(2104)], [Connectivity.LOST, Connectivity.NOTHING], False, True),
        ([error(2104)], [Connectivity.NOTHING], False, False),
        ([error(2106), error(2158), error(201)], [Connectivity.NOTHING] * 3, False, False),
        (
            [ConnectionEvent(AT, False, "lost", 1100), ConnectionEvent(AT, True, "back", 1102)],
            [Connectivity.LOST, Connectivity.RESTORED],
            False,
            True,
        ),
        ([ConnectionEvent(AT, False, "api closed")], [Connectivity.DROPPED], True, False),
    ],
)
def test_connection_and_farm_messages_mark_the_lines(
    events: list[ErrorEvent | ConnectionEvent],
    outcomes: list[Connectivity],
    stale: bool,
    resubscribe: bool,
) -> None:
    health = LineHealth()

    assert [health.note(event, holding=True) for event in events] == outcomes
    assert (health.stale, health.resubscribe) == (stale, resubscribe)


def test_nothing_to_resubscribe_without_lines_and_the_api_coming_back_restores() -> None:
    health = LineHealth()
    health.note(ConnectionEvent(AT, False, "api closed"), holding=True)

    assert health.note(ConnectionEvent(AT, True, "api open"), holding=False) is (
        Connectivity.RESTORED
    )
    assert (health.stale, health.resubscribe) == (False, False)
    health.note(error(1100), holding=False)
    health.note(error(1102), holding=False)
    assert (health.stale, health.resubscribe) == (False, False)
