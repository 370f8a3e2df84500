"""Broker errors, split by what the caller should do, and IB's message codes.

Two families of exceptions:

* ``RetryableBrokerError`` - the same call may succeed later without changing it: the
  connection is down (1100, 502, 504) or the message rate was exceeded (100). Wait and retry.
* ``PermanentBrokerError`` - retrying the same call cannot succeed: unknown contract (200),
  order rejected (201), no free market-data line (101, free one first), unknown or finished
  order (10147, 104), a price off the tick grid (110).

IB reports everything - confirmations, farm status, warnings and real errors - through one
``error(reqId, code, message)`` callback. ``classify_code`` sorts a code into informational,
warning or error, says whether it is retryable and, crucially, whether it *ends an order*.
Only 201 (rejected) and 202 (cancelled) do: an order's fate comes from its order status, never
from another code. A client that took any unknown code for a cancellation would believe a live
order dead (ib_insync did exactly that with 10349, "TIF set from preset", and lost stops).

The descriptions below are ours, written from IB's published message-code list
(https://interactivebrokers.github.io/tws-api/message_codes.html).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """How much a code matters: news, something degraded, or a failed request."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class CodeKind(StrEnum):
    """What a code is about."""

    CONNECTIVITY = "connectivity"
    FARM = "farm"
    PACING = "pacing"
    MARKET_DATA = "market_data"
    CONTRACT = "contract"
    ORDER_REJECTED = "order_rejected"
    ORDER_CANCELLED = "order_cancelled"
    ORDER = "order"
    REQUEST = "request"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class CodeClass:
    """The classification of one IB message code."""

    code: int
    severity: Severity
    kind: CodeKind
    retryable: bool
    ends_order: bool
    description: str


def _entry(
    severity: Severity,
    kind: CodeKind,
    description: str,
    *,
    retryable: bool = False,
    ends_order: bool = False,
) -> tuple[Severity, CodeKind, bool, bool, str]:
    return severity, kind, retryable, ends_order, description


_INFO, _WARN, _ERR = Severity.INFO, Severity.WARNING, Severity.ERROR

IB_CODES: dict[int, tuple[Severity, CodeKind, bool, bool, str]] = {
    100: _entry(_ERR, CodeKind.PACING, "message rate exceeded", retryable=True),
    101: _entry(_ERR, CodeKind.MARKET_DATA, "no free market-data line (max tickers reached)"),
    102: _entry(_ERR, CodeKind.MARKET_DATA, "duplicate ticker id"),
    103: _entry(_ERR, CodeKind.ORDER, "duplicate order id"),
    104: _entry(_ERR, CodeKind.ORDER, "cannot modify a filled order"),
    105: _entry(_WARN, CodeKind.ORDER, "modification does not match the order; order still live"),
    110: _entry(_WARN, CodeKind.ORDER, "price does not conform to the minimum price variation"),
    135: _entry(_ERR, CodeKind.ORDER, "no order with this id"),
    161: _entry(_WARN, CodeKind.ORDER, "cancel attempted on an order that is not cancellable"),
    165: _entry(_INFO, CodeKind.REQUEST, "historical data service message"),
    200: _entry(_ERR, CodeKind.CONTRACT, "no security definition found"),
    201: _entry(_ERR, CodeKind.ORDER_REJECTED, "order rejected", ends_order=True),
    202: _entry(_WARN, CodeKind.ORDER_CANCELLED, "order cancelled", ends_order=True),
    321: _entry(_WARN, CodeKind.REQUEST, "request failed validation; a modified order stays live"),
    354: _entry(_ERR, CodeKind.MARKET_DATA, "market data not subscribed"),
    399: _entry(_WARN, CodeKind.ORDER, "order message warning; the order is still live"),
    404: _entry(_WARN, CodeKind.ORDER, "shares not available for short sale; order held"),
    434: _entry(_WARN, CodeKind.ORDER, "order size cannot be zero"),
    502: _entry(_ERR, CodeKind.CONNECTIVITY, "could not connect to TWS/Gateway", retryable=True),
    504: _entry(_ERR, CodeKind.CONNECTIVITY, "not connected", retryable=True),
    1100: _entry(_ERR, CodeKind.CONNECTIVITY, "connectivity to IB lost", retryable=True),
    1101: _entry(_WARN, CodeKind.CONNECTIVITY, "connectivity restored, market data lost"),
    1102: _entry(_INFO, CodeKind.CONNECTIVITY, "connectivity restored, data maintained"),
    1300: _entry(_ERR, CodeKind.CONNECTIVITY, "socket port reset", retryable=True),
    2103: _entry(_WARN, CodeKind.FARM, "market data farm connection broken"),
    2104: _entry(_INFO, CodeKind.FARM, "market data farm connection OK"),
    2105: _entry(_WARN, CodeKind.FARM, "historical data farm connection broken"),
    2106: _entry(_INFO, CodeKind.FARM, "historical data farm connection OK"),
    2107: _entry(_INFO, CodeKind.FARM, "historical data farm inactive, available on demand"),
    2108: _entry(_INFO, CodeKind.FARM, "market data farm inactive, available on demand"),
    2109: _entry(_WARN, CodeKind.ORDER, "outside-regular-hours attribute ignored"),
    2110: _entry(_WARN, CodeKind.CONNECTIVITY, "TWS to server connectivity broken"),
    2119: _entry(_INFO, CodeKind.FARM, "market data farm connecting"),
    2157: _entry(_WARN, CodeKind.FARM, "security definition farm connection broken"),
    2158: _entry(_INFO, CodeKind.FARM, "security definition farm connection OK"),
    10147: _entry(_ERR, CodeKind.ORDER, "order to cancel not found"),
    10148: _entry(_WARN, CodeKind.ORDER, "order cannot be cancelled in its state"),
    10167: _entry(_WARN, CodeKind.MARKET_DATA, "delayed market data shown"),
    10197: _entry(_ERR, CodeKind.MARKET_DATA, "no market data during a competing live session"),
    10349: _entry(_INFO, CodeKind.ORDER, "time in force set from the order preset"),
}

_IB_WARNING_RANGE = range(2100, 2200)
"""IB's own convention: codes 2100-2199 are warnings, not errors."""


def classify_code(code: int) -> CodeClass:
    """Classify an IB message code; codes not listed are errors that end nothing."""
    known = IB_CODES.get(code)
    if known is not None:
        severity, kind, retryable, ends_order, description = known
        return CodeClass(code, severity, kind, retryable, ends_order, description)
    if code in _IB_WARNING_RANGE:
        return CodeClass(code, _WARN, CodeKind.UNKNOWN, False, False, "unlisted warning")
    return CodeClass(code, _ERR, CodeKind.UNKNOWN, False, False, "unlisted error")


class BrokerError(Exception):
    """Base of every broker error. ``code`` is IB's message code (None when IB has none),
    ``req_id`` the request or order id it belongs to (-1 for none)."""

    def __init__(self, message: str, *, code: int | None = None, req_id: int = -1) -> None:
        prefix = f"[{code}] " if code is not None else ""
        super().__init__(f"{prefix}{message}")
        self.code = code
        self.message = message
        self.req_id = req_id


class RetryableBrokerError(BrokerError):
    """The call may succeed later as it is: wait (back off) and retry."""


class ConnectionLostError(RetryableBrokerError):
    """The broker is unreachable (1100 lost, 1300 reset); retry once it is restored."""


class NotConnectedError(ConnectionLostError):
    """A request was made while the API client is not connected (504)."""


class ConnectFailedError(ConnectionLostError):
    """Every connect attempt failed (502)."""


class PacingViolationError(RetryableBrokerError):
    """More messages than the broker accepts per second (100); slow down and retry."""


class PermanentBrokerError(BrokerError):
    """Retrying the same call cannot succeed; the request itself must change."""


class MarketDataLimitError(PermanentBrokerError):
    """Every market-data line is in use (101); cancel a subscription before adding one."""


class ContractNotFoundError(PermanentBrokerError):
    """No such contract at the broker (200): unknown symbol, strike or expiry, or expired."""


class OrderRejectedError(PermanentBrokerError):
    """The broker refused the order (201); ``message`` says why."""


class InvalidPriceError(PermanentBrokerError):
    """A price off the contract's tick grid (110)."""


class UnknownOrderError(PermanentBrokerError):
    """No order with this id (135, 10147)."""


class OrderNotModifiableError(PermanentBrokerError):
    """The order is filled or cancelled and can no longer change (104)."""


_EXCEPTION_FOR_CODE: dict[int, type[BrokerError]] = {
    100: PacingViolationError,
    101: MarketDataLimitError,
    104: OrderNotModifiableError,
    110: InvalidPriceError,
    135: UnknownOrderError,
    200: ContractNotFoundError,
    201: OrderRejectedError,
    502: ConnectFailedError,
    504: NotConnectedError,
    1100: ConnectionLostError,
    1300: ConnectionLostError,
    10147: UnknownOrderError,
}


def error_for_code(code: int, message: str, req_id: int = -1) -> BrokerError:
    """The exception a request that failed with ``code`` should raise."""
    exception_type = _EXCEPTION_FOR_CODE.get(code)
    if exception_type is None:
        retryable = classify_code(code).retryable
        exception_type = RetryableBrokerError if retryable else PermanentBrokerError
    return exception_type(message, code=code, req_id=req_id)
