from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from v6.domain import (
    InvalidContractError,
    OptionContract,
    Right,
    StockContract,
    normalise_strike,
)
from v6.domain.contracts import FIRST_EXPIRY, LAST_EXPIRY


def test_parses_padded_occ_symbol() -> None:
    contract = OptionContract.from_occ("SPY   240119P00450000")
    assert contract == OptionContract("SPY", date(2024, 1, 19), Decimal(450), Right.PUT)
    assert contract.multiplier == 100


@pytest.mark.parametrize(
    ("symbol", "expected"),
    [
        ("SPY230914C00360000", OptionContract("SPY", date(2023, 9, 14), 360, Right.CALL)),
        ("SPXW220110C01200000", OptionContract("SPXW", date(2022, 1, 10), 1200, Right.CALL)),
        ("IWM240621P00187500", OptionContract("IWM", date(2024, 6, 21), 187.5, Right.PUT)),
    ],
)
def test_parses_unpadded_cboe_symbols(symbol: str, expected: OptionContract) -> None:
    assert OptionContract.from_occ(symbol) == expected


def test_formats_occ_symbol_with_padded_root_and_thousandths() -> None:
    contract = OptionContract("SPXW", date(2022, 1, 10), Decimal("1200.5"), Right.CALL)
    assert contract.occ_symbol == "SPXW  220110C01200500"
    assert len(contract.occ_symbol) == 21


def test_from_occ_takes_the_multiplier() -> None:
    assert OptionContract.from_occ("SPY230914C00360000", multiplier=10).multiplier == 10


@pytest.mark.parametrize(
    ("symbol", "message"),
    [
        ("SPY240119P0045000", "expiry 'Y24011' is not 6 digits yymmdd"),
        ("SPY   240119P0045000", "exactly 21 characters, got 20"),
        ("SPY    240119P00450000", "expected 16-21 characters, got 22"),
        ("240119P00450000", "expected 16-21 characters, got 15"),
        ("SPY   240230P00450000", "expiry '240230' is not a valid yymmdd date"),
        ("SPY   24O119P00450000", "expiry '24O119' is not 6 digits yymmdd"),
        ("SPY   240119X00450000", "right 'X' is not C or P"),
        ("SPY   240119P0045O000", "strike '0045O000' is not 8 digits"),
        ("SPY   240119P00000000", "strike '00000000' is zero"),
        ("spy   240119P00450000", "root 'spy' is not 1-6 characters"),
        (" SPY  240119P00450000", "root ' SPY' is not 1-6 characters"),
        ("TOOLONG240119P00450000", "got 22"),
    ],
)
def test_malformed_occ_symbols_are_rejected_with_the_reason(symbol: str, message: str) -> None:
    with pytest.raises(InvalidContractError, match="OCC symbol") as caught:
        OptionContract.from_occ(symbol)
    assert message in str(caught.value)


roots = st.from_regex(r"[A-Z0-9]{1,6}", fullmatch=True)
expiries = st.dates(min_value=FIRST_EXPIRY, max_value=LAST_EXPIRY)
strikes = st.integers(min_value=1, max_value=99_999_999).map(lambda t: Decimal(t) / 1000)
contracts = st.builds(
    OptionContract, roots, expiries, strikes, st.sampled_from(Right), st.just(100)
)


@given(contracts)
def test_occ_format_then_parse_returns_the_contract(contract: OptionContract) -> None:
    assert OptionContract.from_occ(contract.occ_symbol) == contract


@given(contracts)
def test_unpadded_occ_symbol_parses_to_the_same_contract(contract: OptionContract) -> None:
    unpadded = contract.occ_symbol.replace(" ", "")
    assert OptionContract.from_occ(unpadded) == contract


@given(
    roots,
    st.from_regex(r"[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|1[0-9]|2[0-8])", fullmatch=True),
    st.sampled_from("CP"),
    st.from_regex(r"[0-9]{8}", fullmatch=True).filter(lambda d: int(d) > 0),
)
def test_occ_parse_then_format_returns_the_symbol(
    root: str, yymmdd: str, right: str, strike: str
) -> None:
    symbol = f"{root:<6}{yymmdd}{right}{strike}"
    assert OptionContract.from_occ(symbol).occ_symbol == symbol


def test_two_digit_years_pivot_at_69() -> None:
    assert OptionContract.from_occ("SPY   680120C00100000").expiry == date(2068, 1, 20)
    assert OptionContract.from_occ("SPY   990115C00100000").expiry == date(1999, 1, 15)


@pytest.mark.parametrize(
    ("strike", "expected"),
    [
        (450, Decimal("450")),
        (450.5, Decimal("450.5")),
        (445.0 + 0.1 * 3, Decimal("445.3")),
        (Decimal("187.50"), Decimal("187.5")),
        (0.001, Decimal("0.001")),
        (Decimal("99999.999"), Decimal("99999.999")),
    ],
)
def test_strikes_normalise_to_the_thousandth_grid(strike: float, expected: Decimal) -> None:
    normalised = normalise_strike(strike)
    assert normalised == expected
    assert normalised.as_tuple().exponent == -3


@pytest.mark.parametrize(
    ("strike", "message"),
    [
        (450.0005, "expected a multiple of 0.001"),
        (Decimal("450.0005"), "expected a multiple of 0.001"),
        (0, "expected 0 < strike <= 99999.999"),
        (-5.0, "expected 0 < strike <= 99999.999"),
        (100_000, "expected 0 < strike <= 99999.999"),
        (1e30, "expected 0 < strike <= 99999.999"),
        (Decimal("1E+40"), "expected 0 < strike <= 99999.999"),
        (0.0004, "expected a multiple of 0.001"),
        (float("nan"), "expected a finite number"),
        (Decimal("Infinity"), "expected a finite number"),
        ("450", "expected a number"),
        (True, "expected a number"),
    ],
)
def test_bad_strikes_are_rejected(strike: float, message: str) -> None:
    with pytest.raises(InvalidContractError, match=r"OptionContract\.strike") as caught:
        OptionContract("SPY", date(2024, 1, 19), strike, Right.CALL)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"underlying": "spy"}, "OptionContract.underlying = 'spy': expected 1-6 characters"),
        ({"underlying": "TOOLONG"}, "OptionContract.underlying = 'TOOLONG'"),
        ({"underlying": ""}, "OptionContract.underlying = ''"),
        ({"expiry": datetime(2024, 1, 19)}, "expected a datetime.date"),
        ({"expiry": date(1968, 12, 31)}, "expected a date from 1969-01-01 to 2068-12-31"),
        ({"right": "C"}, "OptionContract.right = 'C': expected Right.CALL or Right.PUT"),
        ({"multiplier": 0}, "OptionContract.multiplier = 0: expected an integer > 0"),
        ({"multiplier": 100.0}, "OptionContract.multiplier = 100.0"),
    ],
)
def test_bad_contract_fields_are_rejected(kwargs: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {
        "underlying": "SPY",
        "expiry": date(2024, 1, 19),
        "strike": 450,
        "right": Right.CALL,
        "multiplier": 100,
    }
    with pytest.raises(InvalidContractError) as caught:
        OptionContract(**(fields | kwargs))  # type: ignore[arg-type]
    assert message in str(caught.value)


def test_equal_contracts_are_equal_keys_whatever_the_strike_spelling() -> None:
    a = OptionContract("SPY", date(2024, 1, 19), 450, Right.PUT)
    b = OptionContract("SPY", date(2024, 1, 19), Decimal("450.000"), Right.PUT)
    c = OptionContract("SPY", date(2024, 1, 19), 450.0, Right.PUT)
    assert a == b == c
    assert len({a, b, c}) == 1


@pytest.mark.parametrize(
    ("right", "spot", "expected"),
    [
        (Right.CALL, 460.0, 10.0),
        (Right.CALL, 440.0, 0.0),
        (Right.PUT, 440.0, 10.0),
        (Right.PUT, 460.0, 0.0),
        (Right.PUT, 450.0, 0.0),
    ],
)
def test_intrinsic_value_per_share(right: Right, spot: float, expected: float) -> None:
    assert OptionContract("SPY", date(2024, 1, 19), 450, right).intrinsic(spot) == expected


def test_expiry_day_counts_and_expired_only_after_expiry_day() -> None:
    contract = OptionContract("SPY", date(2024, 1, 19), 450, Right.CALL)
    assert contract.days_to_expiry(date(2024, 1, 12)) == 7
    assert contract.days_to_expiry(date(2024, 1, 19)) == 0
    assert contract.days_to_expiry(date(2024, 1, 22)) == -3
    assert not contract.is_expired(date(2024, 1, 19))
    assert contract.is_expired(date(2024, 1, 20))


def test_replace_revalidates_and_normalises() -> None:
    contract = OptionContract("SPY", date(2024, 1, 19), 450, Right.CALL)
    assert replace(contract, strike=451.5).strike == Decimal("451.5")
    with pytest.raises(InvalidContractError, match="multiplier"):
        replace(contract, multiplier=0)


def test_contracts_are_immutable() -> None:
    contract = OptionContract("SPY", date(2024, 1, 19), 450, Right.CALL)
    with pytest.raises(AttributeError):
        contract.strike = Decimal(1)  # type: ignore[misc]


@pytest.mark.parametrize("symbol", ["SPY", "BRK B", "BRK.B", "QQQ"])
def test_stock_contract_accepts_tickers(symbol: str) -> None:
    assert StockContract(symbol).multiplier == 1


@pytest.mark.parametrize("symbol", ["", "spy", " SPY", "SPY ", 7])
def test_stock_contract_rejects_bad_symbols(symbol: str) -> None:
    with pytest.raises(InvalidContractError, match=r"StockContract\.symbol"):
        StockContract(symbol)
