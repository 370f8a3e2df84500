from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from v6.domain import (
    ALLOWED_TRANSITIONS,
    InvalidLegError,
    InvalidStrategyError,
    InvalidTransitionError,
    Leg,
    OptionContract,
    Right,
    Strategy,
    StrategyKind,
    StrategyStatus,
)

CALL, PUT = Right.CALL, Right.PUT
EXPIRY = date(2024, 1, 19)  # the default expiry of the ``leg`` fixture
MakeLeg = Callable[..., Leg]
BuildLegs = Callable[[MakeLeg], tuple[Leg, ...]]
T0 = datetime(2024, 1, 2, 15, 0, tzinfo=UTC)


def condor(
    leg: MakeLeg, strikes: tuple[float, float, float, float] = (440, 445, 470, 475)
) -> tuple[Leg, ...]:
    lp, sp, sc, lc = strikes
    return (leg(lp, PUT, 1), leg(sp, PUT, -1), leg(sc, CALL, -1), leg(lc, CALL, 1))


def strategy_in(status: StrategyStatus, leg: MakeLeg) -> Strategy:
    """A valid iron condor in ``status`` with the timestamps that status requires."""
    s = StrategyStatus
    opened = T0 if status in {s.OPEN, s.CLOSING, s.CLOSED} else None
    closed = T0 + timedelta(days=1) if status in {s.CLOSED, s.CANCELLED} else None
    legs = condor(leg)
    return Strategy(
        "ic-1", StrategyKind.IRON_CONDOR, legs, status=status, opened_at=opened, closed_at=closed
    )


# construction -------------------------------------------------------------------------------


def test_valid_iron_condor_stores_legs_sorted(leg: MakeLeg) -> None:
    legs = condor(leg)
    strategy = Strategy("ic-1", StrategyKind.IRON_CONDOR, tuple(reversed(legs)), quantity=3)
    assert strategy.legs == (legs[2], legs[3], legs[0], legs[1])  # calls before puts, by strike
    assert strategy == Strategy("ic-1", StrategyKind.IRON_CONDOR, legs, quantity=3)
    assert strategy.status is StrategyStatus.PENDING
    assert strategy.underlyings == ("SPY",)
    assert strategy.expiries == (EXPIRY,)
    assert strategy.multiplier == 100


def test_iron_condor_may_share_the_short_strike(leg: MakeLeg) -> None:
    """An iron butterfly is the limiting case short put == short call."""
    strategy = Strategy("ib", StrategyKind.IRON_CONDOR, condor(leg, (440, 450, 450, 460)))
    assert len(strategy.legs) == 4


def test_legs_given_as_a_list_are_stored_as_a_tuple(leg: MakeLeg) -> None:
    legs = [leg(450, PUT, -1), leg(445, PUT, 1)]
    strategy = Strategy("v", StrategyKind.VERTICAL, legs)  # type: ignore[arg-type]
    assert isinstance(strategy.legs, tuple)


def test_custom_strategy_may_mix_underlyings_and_expiries(leg: MakeLeg) -> None:
    legs = (
        leg(450, PUT, -1),
        leg(445, PUT, 1),
        leg(380, CALL, 1, underlying="QQQ", expiry=date(2024, 2, 16)),
    )
    strategy = Strategy("c", StrategyKind.CUSTOM, legs)
    assert strategy.underlyings == ("QQQ", "SPY")
    assert strategy.expiries == (EXPIRY, date(2024, 2, 16))


def test_calendar_with_short_front_month_is_defined_risk(leg: MakeLeg) -> None:
    legs = (leg(450, CALL, -1), leg(450, CALL, 1, expiry=date(2024, 2, 16)))
    assert Strategy("cal", StrategyKind.CUSTOM, legs).uncovered_short() is None


def test_zero_quantity_leg_is_rejected(leg: MakeLeg) -> None:
    with pytest.raises(InvalidLegError, match=r"Leg.quantity = 0: expected a non-zero integer"):
        leg(450, PUT, 0)


@pytest.mark.parametrize("quantity", [0, -1, 1.5, True])
def test_strategy_quantity_must_be_a_positive_int(leg: MakeLeg, quantity: int) -> None:
    with pytest.raises(
        InvalidStrategyError, match=r"Strategy.quantity = .*: expected an integer > 0"
    ):
        Strategy("ic-1", StrategyKind.IRON_CONDOR, condor(leg), quantity=quantity)


def test_leg_needs_an_option_contract() -> None:
    with pytest.raises(InvalidLegError, match=r"Leg.contract = 'SPY': expected an OptionContract"):
        Leg("SPY", 1)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", [StrategyKind.IRON_CONDOR, StrategyKind.VERTICAL])
def test_mixed_underlyings_are_rejected_where_the_kind_forbids_it(
    leg: MakeLeg, kind: StrategyKind
) -> None:
    legs = (
        (leg(440, PUT, 1, underlying="QQQ"), *condor(leg)[1:])
        if kind is StrategyKind.IRON_CONDOR
        else (leg(450, PUT, -1), leg(445, PUT, 1, underlying="QQQ"))
    )
    with pytest.raises(
        InvalidStrategyError,
        match=rf"{kind.value} legs mix underlying \['QQQ', 'SPY'\]: expected one underlying",
    ):
        Strategy("s", kind, legs)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda leg: condor(leg)[:3], "an iron condor has 4 legs, got 3"),
        (
            lambda leg: (
                leg(440, PUT, -1),
                leg(445, PUT, 1),
                leg(470, CALL, 1),
                leg(475, CALL, -1),
            ),
            "are not an iron condor: expected long put < short put <= short call < long call",
        ),
        (
            lambda leg: (leg(440, PUT, 1), leg(445, PUT, -1), leg(450, PUT, -1), leg(455, PUT, 1)),
            "are not an iron condor",
        ),
        (
            lambda leg: condor(leg, (440, 470, 445, 475)),
            "short put strike 470.000 is above short call strike 445.000",
        ),
        (
            lambda leg: (
                leg(440, PUT, 1),
                leg(445, PUT, -2),
                leg(470, CALL, -2),
                leg(475, CALL, 1),
            ),
            "expected the same number of contracts on every leg",
        ),
        (
            lambda leg: (*condor(leg)[:3], leg(475, CALL, 1, expiry=date(2024, 2, 16))),
            r"expiry \['2024-01-19', '2024-02-16'\]: expected one expiry",
        ),
    ],
)
def test_leg_sets_that_are_not_an_iron_condor_are_rejected(
    leg: MakeLeg, build: BuildLegs, message: str
) -> None:
    with pytest.raises(InvalidStrategyError, match=message):
        Strategy("ic-1", StrategyKind.IRON_CONDOR, build(leg))


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda leg: (leg(450, PUT, -1),), "a vertical has 2 legs, got 1"),
        (lambda leg: (leg(450, PUT, -1), leg(455, CALL, 1)), r"right \['CALL', 'PUT'\]"),
        (lambda leg: (leg(450, PUT, -1), leg(445, PUT, -1)), "expected equal and opposite"),
        (lambda leg: (leg(450, PUT, -1), leg(445, PUT, 2)), "expected equal and opposite"),
        (
            lambda leg: (leg(450, PUT, -1), leg(445, PUT, 1, expiry=date(2024, 2, 16))),
            "expected one expiry",
        ),
    ],
)
def test_leg_sets_that_are_not_a_vertical_are_rejected(
    leg: MakeLeg, build: BuildLegs, message: str
) -> None:
    with pytest.raises(InvalidStrategyError, match=message):
        Strategy("v", StrategyKind.VERTICAL, build(leg))


@pytest.mark.parametrize(
    "build",
    [
        lambda leg: (leg(450, CALL, -1),),  # naked call
        lambda leg: (leg(450, PUT, -1),),  # naked put
        lambda leg: (leg(450, CALL, -2), leg(455, CALL, 1)),  # ratio spread, one naked
        lambda leg: (
            leg(450, CALL, -1, expiry=date(2024, 2, 16)),
            leg(450, CALL, 1),
        ),  # long expires first
        lambda leg: (leg(450, CALL, -1), leg(450, PUT, 1)),  # a put does not cover a call
        lambda leg: (leg(450, CALL, -1), leg(380, CALL, 1, underlying="QQQ")),
    ],
)
def test_undefined_risk_leg_set_is_rejected_for_a_defined_risk_strategy(
    leg: MakeLeg, build: BuildLegs
) -> None:
    with pytest.raises(InvalidStrategyError, match=r"short leg -\d SPY .* is not covered"):
        Strategy("c", StrategyKind.CUSTOM, build(leg))
    undefined = Strategy("c", StrategyKind.CUSTOM, build(leg), defined_risk=False)
    assert undefined.uncovered_short() is not None


@pytest.mark.parametrize("kind", [StrategyKind.IRON_CONDOR, StrategyKind.VERTICAL])
def test_only_custom_strategies_may_be_undefined_risk(leg: MakeLeg, kind: StrategyKind) -> None:
    legs = condor(leg) if kind is StrategyKind.IRON_CONDOR else condor(leg)[:2]
    with pytest.raises(InvalidStrategyError, match=f"defined_risk=False with kind {kind.value}"):
        Strategy("s", kind, legs, defined_risk=False)


def test_leg_ratios_must_be_in_lowest_terms(leg: MakeLeg) -> None:
    with pytest.raises(InvalidStrategyError, match=r"share the factor 3: .* with quantity=3 units"):
        Strategy("v", StrategyKind.VERTICAL, (leg(450, PUT, -3), leg(445, PUT, 3)))


def test_repeated_contract_is_rejected(leg: MakeLeg) -> None:
    with pytest.raises(InvalidStrategyError, match="repeat a contract"):
        Strategy("c", StrategyKind.CUSTOM, (leg(445, PUT, 1), leg(445, PUT, 1)))


def test_mixed_multipliers_are_rejected(leg: MakeLeg) -> None:
    legs = (leg(450, PUT, -1), leg(445, PUT, 1, multiplier=10))
    with pytest.raises(InvalidStrategyError, match=r"multipliers \[10, 100\]"):
        Strategy("v", StrategyKind.VERTICAL, legs)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"strategy_id": ""}, "Strategy.strategy_id = '': expected a non-empty identifier"),
        ({"strategy_id": "a:b"}, "Strategy.strategy_id = 'a:b'"),
        ({"kind": "vertical"}, "Strategy.kind = 'vertical': expected a member of StrategyKind"),
        ({"status": "open"}, "Strategy.status = 'open': expected a member of StrategyStatus"),
        ({"legs": ()}, "expected at least one leg"),
        ({"legs": ("SPY",)}, "expected a tuple of Leg"),
        ({"entry_premium": float("nan")}, "Strategy.entry_premium = nan"),
        ({"defined_risk": "no"}, "Strategy.defined_risk = 'no': expected True or False"),
        (
            {"status": StrategyStatus.OPEN, "opened_at": datetime(2024, 1, 2)},
            "Strategy.opened_at = .*: expected a timezone-aware UTC datetime, got naive",
        ),
        ({"status": StrategyStatus.OPEN}, "opened_at = None with status OPEN"),
        ({"opened_at": T0}, "with status PENDING: expected opened_at set exactly"),
        (
            {"status": StrategyStatus.CLOSED, "opened_at": T0},
            "closed_at = None with status CLOSED",
        ),
        (
            {"status": StrategyStatus.CLOSED, "opened_at": T0, "closed_at": T0 - timedelta(1)},
            "closed_at 2024-01-01T15:00:00\\+00:00 is before opened_at",
        ),
    ],
)
def test_invalid_fields_are_rejected_with_a_clear_message(
    leg: MakeLeg, changes: dict[str, object], message: str
) -> None:
    base = Strategy("ic-1", StrategyKind.IRON_CONDOR, condor(leg))
    with pytest.raises(InvalidStrategyError, match=message):
        replace(base, **changes)  # type: ignore[arg-type]


def test_aware_timestamps_are_stored_in_utc(leg: MakeLeg) -> None:
    new_york = timezone(timedelta(hours=-5))
    opened = datetime(2024, 1, 2, 10, 0, tzinfo=new_york)
    strategy = strategy_in(StrategyStatus.PENDING, leg)
    strategy = replace(strategy, status=StrategyStatus.OPEN, opened_at=opened)
    assert strategy.opened_at == T0
    assert strategy.opened_at is not None
    assert strategy.opened_at.tzinfo is UTC


# expiry relative to the caller's clock ------------------------------------------------------


def test_propose_rejects_legs_expired_before_the_clock(leg: MakeLeg) -> None:
    with pytest.raises(
        InvalidStrategyError,
        match=r"legs -1 SPY 2024-01-19 470C, .* expired before 2024-01-20",
    ):
        Strategy.propose("ic-1", StrategyKind.IRON_CONDOR, condor(leg), as_of=date(2024, 1, 20))


def test_propose_accepts_expiry_day_and_returns_a_pending_strategy(leg: MakeLeg) -> None:
    strategy = Strategy.propose(
        "ic-1", StrategyKind.IRON_CONDOR, condor(leg), as_of=EXPIRY, quantity=2, entry_premium=2.0
    )
    assert strategy.status is StrategyStatus.PENDING
    assert (strategy.quantity, strategy.entry_premium) == (2, 2.0)


def test_expired_legs_lists_only_the_expired_ones(leg: MakeLeg) -> None:
    legs = (leg(450, CALL, -1), leg(450, CALL, 1, expiry=date(2024, 2, 16)))
    strategy = Strategy("cal", StrategyKind.CUSTOM, legs)
    assert strategy.expired_legs(date(2024, 1, 22)) == (legs[0],)
    assert strategy.expired_legs(EXPIRY) == ()


# lifecycle ----------------------------------------------------------------------------------

ALL_PAIRS = [(a, b) for a in StrategyStatus for b in StrategyStatus]


def test_allowed_transitions_are_the_documented_lifecycle() -> None:
    s = StrategyStatus
    assert {(a, b) for a, targets in ALLOWED_TRANSITIONS.items() for b in targets} == {
        (s.PENDING, s.OPEN),
        (s.PENDING, s.CANCELLED),
        (s.OPEN, s.CLOSING),
        (s.OPEN, s.CLOSED),
        (s.CLOSING, s.CLOSED),
        (s.CLOSING, s.OPEN),
    }


@pytest.mark.parametrize(("source", "target"), ALL_PAIRS)
def test_every_transition_is_allowed_or_rejected_naming_both_states(
    leg: MakeLeg, source: StrategyStatus, target: StrategyStatus
) -> None:
    strategy = strategy_in(source, leg)
    at = T0 + timedelta(hours=2)
    if target in ALLOWED_TRANSITIONS[source]:
        assert strategy.transition_to(target, at).status is target
    else:
        with pytest.raises(
            InvalidTransitionError, match=f"cannot go from {source.name} to {target.name}"
        ):
            strategy.transition_to(target, at)


def test_terminal_states_say_so(leg: MakeLeg) -> None:
    with pytest.raises(InvalidTransitionError, match=r"allowed from CLOSED: none \(terminal"):
        strategy_in(StrategyStatus.CLOSED, leg).transition_to(StrategyStatus.OPEN, T0)
    assert strategy_in(StrategyStatus.CANCELLED, leg).is_terminal
    assert not strategy_in(StrategyStatus.CLOSING, leg).is_terminal


def test_transitions_stamp_opened_and_closed_times(leg: MakeLeg) -> None:
    t1, t2, t3, t4 = (T0 + timedelta(hours=h) for h in (1, 2, 3, 4))
    opened = strategy_in(StrategyStatus.PENDING, leg).transition_to(StrategyStatus.OPEN, t1)
    assert (opened.opened_at, opened.closed_at) == (t1, None)
    closing = opened.transition_to(StrategyStatus.CLOSING, t2)
    reopened = closing.transition_to(StrategyStatus.OPEN, t3)  # exit order rejected
    assert reopened.opened_at == t1
    closed = reopened.transition_to(StrategyStatus.CLOSED, t4)
    assert (closed.status, closed.opened_at, closed.closed_at) == (StrategyStatus.CLOSED, t1, t4)
    assert opened.status is StrategyStatus.OPEN  # the original is unchanged


def test_cancelled_pending_strategy_has_no_open_time(leg: MakeLeg) -> None:
    cancelled = strategy_in(StrategyStatus.PENDING, leg).transition_to(StrategyStatus.CANCELLED, T0)
    assert (cancelled.opened_at, cancelled.closed_at) == (None, T0)


def test_transition_time_must_be_aware_and_not_before_the_open(leg: MakeLeg) -> None:
    pending = strategy_in(StrategyStatus.PENDING, leg)
    with pytest.raises(InvalidTransitionError, match=r"transition_to.at = .* got naive"):
        pending.transition_to(StrategyStatus.OPEN, datetime(2024, 1, 2))
    with pytest.raises(InvalidTransitionError, match="is before opened_at"):
        strategy_in(StrategyStatus.OPEN, leg).transition_to(
            StrategyStatus.CLOSED, T0 - timedelta(seconds=1)
        )


def test_transition_target_must_be_a_status(leg: MakeLeg) -> None:
    with pytest.raises(InvalidTransitionError, match="new_status = 'open'"):
        strategy_in(StrategyStatus.PENDING, leg).transition_to("open", T0)  # type: ignore[arg-type]


def test_option_contract_in_legs_is_kept_intact(leg: MakeLeg) -> None:
    strategy = Strategy("v", StrategyKind.VERTICAL, (leg(450, PUT, -1), leg(445, PUT, 1)))
    assert strategy.legs[0].contract == OptionContract("SPY", EXPIRY, 445, PUT)
