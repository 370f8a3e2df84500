"""IB message codes: informational vs warning vs error, and which exceptions requests raise."""

from __future__ import annotations

import pytest

from v6.brokers import (
    BrokerError,
    CodeKind,
    ConnectFailedError,
    ConnectionLostError,
    ContractNotFoundError,
    MarketDataLimitError,
    NotConnectedError,
    OrderRejectedError,
    PacingViolationError,
    PermanentBrokerError,
    RetryableBrokerError,
    Severity,
    UnknownOrderError,
    classify_code,
    error_for_code,
)
from v6.brokers.errors import IB_CODES

FARM_AND_CONNECT_NEWS = [2104, 2106, 2107, 2108, 2119, 2158, 1102, 10349]


@pytest.mark.parametrize("code", FARM_AND_CONNECT_NEWS)
def test_informational_codes_are_neither_errors_nor_order_endings(code: int) -> None:
    classified = classify_code(code)
    assert classified.severity is Severity.INFO
    assert not classified.ends_order


def test_only_rejection_and_cancellation_end_an_order() -> None:
    ending = {code for code in IB_CODES if classify_code(code).ends_order}
    assert ending == {201, 202}
    assert classify_code(201).kind is CodeKind.ORDER_REJECTED
    assert classify_code(202).kind is CodeKind.ORDER_CANCELLED


def test_broken_farms_and_lost_data_are_warnings() -> None:
    for code in (2103, 2105, 2157, 1101, 2110):
        assert classify_code(code).severity is Severity.WARNING


def test_unlisted_codes_follow_ibs_ranges_and_end_nothing() -> None:
    warning, error = classify_code(2150), classify_code(9999)
    assert (warning.severity, warning.kind) == (Severity.WARNING, CodeKind.UNKNOWN)
    assert (error.severity, error.kind) == (Severity.ERROR, CodeKind.UNKNOWN)
    assert not warning.ends_order
    assert not error.ends_order


@pytest.mark.parametrize(
    ("code", "exception", "retryable"),
    [
        (100, PacingViolationError, True),
        (502, ConnectFailedError, True),
        (504, NotConnectedError, True),
        (1100, ConnectionLostError, True),
        (101, MarketDataLimitError, False),
        (200, ContractNotFoundError, False),
        (201, OrderRejectedError, False),
        (10147, UnknownOrderError, False),
    ],
)
def test_request_errors_map_to_what_the_caller_should_do(
    code: int, exception: type[BrokerError], retryable: bool
) -> None:
    error = error_for_code(code, "text", req_id=12)
    assert type(error) is exception
    assert isinstance(error, RetryableBrokerError) is retryable
    assert isinstance(error, PermanentBrokerError) is not retryable
    assert (error.code, error.req_id, error.message) == (code, 12, "text")
    assert str(error) == f"[{code}] text"


def test_unmapped_codes_raise_by_their_classification() -> None:
    assert type(error_for_code(1300, "reset")) is ConnectionLostError
    assert type(error_for_code(354, "not subscribed")) is PermanentBrokerError
    assert classify_code(100).retryable
    assert not classify_code(200).retryable
