import math
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from v6.domain import (
    Fill,
    IntentKind,
    InvalidOrderError,
    Leg,
    OptionContract,
    OrderIntent,
    Right,
    StockContract,
    parse_order_ref,
)

CALL, PUT = Right.CALL, Right.PUT
MakeLeg = Callable[..., Leg]
T0 = datetime(2024, 1, 2, 15, 30, tzinfo=UTC)
CONTRACT = OptionContract("SPY", date(2024, 1, 19), 450, PUT)


def condor_intent(leg: MakeLeg) -> OrderIntent:
    legs = (leg(440, PUT, 1), leg(445, PUT, -1), leg(470, CALL, -1), leg(475, CALL, 1))
    return OrderIntent("ic-1", IntentKind.OPEN, legs, quantity=5, limit_price=-2.00)


def test_credit_combo_has_a_negative_limit_price(leg: MakeLeg) -> None:
    intent = condor_intent(leg)
    assert intent.limit_price == -2.00
    assert intent.quantity == 5


def test_order_ref_is_deterministic_and_parses_back(leg: MakeLeg) -> None:
    intent = condor_intent(leg)
    assert intent.order_ref(1) == "ic-1:open:1"
    assert intent.order_ref(1) == replace(intent).order_ref(1)
    assert parse_order_ref(intent.order_ref(3)) == ("ic-1", IntentKind.OPEN, 3)


@given(
    st.from_regex(r"[A-Za-z0-9_.\-]{1,30}", fullmatch=True),
    st.sampled_from(IntentKind),
    st.integers(min_value=1, max_value=10_000),
)
def test_order_ref_round_trip(strategy_id: str, kind: IntentKind, attempt: int) -> None:
    legs = (Leg(CONTRACT, -1),)
    ref = OrderIntent(strategy_id, kind, legs, 1, -1.0).order_ref(attempt)
    assert parse_order_ref(ref) == (strategy_id, kind, attempt)


@pytest.mark.parametrize("ref", ["", "ic-1:open", "ic-1:open:0", "ic-1:buy:1", "ic-1:open:x", None])
def test_malformed_order_refs_are_rejected(ref: str) -> None:
    with pytest.raises(InvalidOrderError, match=r"expected '<strategy_id>:<intent>:<attempt>'"):
        parse_order_ref(ref)


@pytest.mark.parametrize("attempt", [0, -1, True])
def test_attempts_count_from_one(leg: MakeLeg, attempt: int) -> None:
    with pytest.raises(InvalidOrderError, match="attempt"):
        condor_intent(leg).order_ref(attempt)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"quantity": 0}, r"OrderIntent.quantity = 0: expected an integer > 0"),
        ({"quantity": -5}, r"OrderIntent.quantity = -5"),
        ({"limit_price": math.nan}, r"OrderIntent.limit_price = nan: expected a finite number"),
        ({"limit_price": math.inf}, r"OrderIntent.limit_price = inf"),
        ({"intent": "open"}, r"OrderIntent.intent = 'open': expected a member of IntentKind"),
        ({"strategy_id": "a b"}, r"OrderIntent.strategy_id = 'a b'"),
        ({"legs": ()}, r"OrderIntent.legs = \(\): expected at least one leg"),
        ({"legs": ("SPY",)}, r"expected a tuple of Leg"),
    ],
)
def test_invalid_intents_are_rejected(
    leg: MakeLeg, changes: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidOrderError, match=message):
        replace(condor_intent(leg), **changes)  # type: ignore[arg-type]


def test_repeated_contract_in_an_order_is_rejected() -> None:
    with pytest.raises(InvalidOrderError, match="repeat"):
        OrderIntent("v", IntentKind.CLOSE, (Leg(CONTRACT, 1), Leg(CONTRACT, -1)), 1, 0.5)


@pytest.mark.parametrize(
    ("quantity", "price", "ok"),
    [(1, 1.5, True), (1, 0.0, True), (1, -1.5, False), (-1, -1.5, True), (-1, 1.5, False)],
)
def test_single_leg_price_sign_follows_the_side(quantity: int, price: float, ok: bool) -> None:
    def build() -> OrderIntent:
        return OrderIntent("s", IntentKind.CLOSE, (Leg(CONTRACT, quantity),), 1, price)

    if ok:
        assert build().limit_price == price
    else:
        with pytest.raises(InvalidOrderError, match=r"expected >= 0 to buy .* <= 0 to sell"):
            build()


def fill(**changes: object) -> Fill:
    fields: dict[str, object] = {
        "exec_id": "0000e0d5.6553a8c5.01.01",
        "order_id": "17",
        "contract": CONTRACT,
        "quantity": -2,
        "price": 1.5,
        "commission": 1.3,
        "time": T0,
    }
    return Fill(**(fields | changes))  # type: ignore[arg-type]


def test_fill_cash_flow_includes_multiplier_and_commission() -> None:
    assert fill().cash_flow == pytest.approx(2 * 1.5 * 100 - 1.3)
    bought = fill(quantity=3, contract=StockContract("SPY"), price=450.0, commission=0.0)
    assert bought.cash_flow == pytest.approx(-1350.0)


def test_fill_time_is_converted_to_utc() -> None:
    new_york = timezone(timedelta(hours=-5))
    local = fill(time=datetime(2024, 1, 2, 10, 30, tzinfo=new_york))
    assert local.time == T0
    assert local.time.tzinfo is UTC


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"time": datetime(2024, 1, 2, 15, 30)}, r"Fill.time = .*got naive"),
        ({"quantity": 0}, r"Fill.quantity = 0: expected a non-zero integer"),
        ({"price": -0.01}, r"Fill.price = -0.01: expected a finite number >= 0"),
        ({"price": math.nan}, r"Fill.price = nan"),
        ({"commission": -1.0}, r"Fill.commission = -1.0: expected a finite number >= 0"),
        ({"exec_id": ""}, r"Fill.exec_id = ''"),
        ({"order_id": 17}, r"Fill.order_id = 17"),
        ({"contract": "SPY"}, r"Fill.contract = 'SPY': expected an OptionContract"),
    ],
)
def test_invalid_fills_are_rejected(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidOrderError, match=message):
        fill(**changes)
