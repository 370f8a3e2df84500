"""Tradable instruments: option contracts (with OCC symbols) and stock.

Strikes are ``Decimal`` values quantized to OCC's 1/1000 grid. A float strike such as
``445.3`` may be produced as ``445.30000000000001`` by arithmetic, and two such floats are
different dictionary keys; a ``Decimal`` on a fixed grid is an exact key, formats to the OCC
strike field without rounding, and compares equal however it was written (``450`` ==
``450.000``). The constructor accepts ``int``, ``float`` or ``Decimal`` and normalises; use
``float(contract.strike)`` for numeric work such as pricing.
"""

import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache

from v6.domain.errors import InvalidContractError

STRIKE_TICK = Decimal("0.001")
MAX_STRIKE = Decimal("99999.999")
"""The OCC strike field is 8 digits: 5 for dollars, 3 for thousandths."""

FIRST_EXPIRY = date(1969, 1, 1)
LAST_EXPIRY = date(2068, 12, 31)
"""OCC writes the year with two digits; we read ``69``-``99`` as 19xx and ``00``-``68`` as 20xx
(the POSIX/``strptime`` pivot), so every expiry in this range formats and parses back."""

_ROOT = re.compile(r"[A-Z0-9]{1,6}")
_DIGITS = re.compile(r"[0-9]+")
_OCC_TAIL_LENGTH = 15
_OCC_PADDED_LENGTH = 21
_STOCK_SYMBOL = re.compile(r"[A-Z0-9]{1,8}([ .][A-Z0-9]{1,4})?")


class Right(StrEnum):
    CALL = "C"
    PUT = "P"


@dataclass(frozen=True, slots=True, init=False)
class OptionContract:
    """One listed option series.

    ``underlying`` is the OCC root (1-6 of A-Z, 0-9), e.g. ``SPY`` or ``SPXW``; ``multiplier``
    is the number of underlying units one contract delivers (100 for standard equity options).
    """

    underlying: str
    expiry: date
    strike: Decimal
    right: Right
    multiplier: int

    def __init__(
        self,
        underlying: str,
        expiry: date,
        strike: Decimal | float,
        right: Right,
        multiplier: int = 100,
    ) -> None:
        object.__setattr__(self, "underlying", _check_root(underlying))
        object.__setattr__(self, "expiry", _check_expiry(expiry))
        object.__setattr__(self, "strike", normalise_strike(strike))
        object.__setattr__(self, "right", _check_right(right))
        object.__setattr__(self, "multiplier", _check_multiplier(multiplier))

    @classmethod
    def from_occ(cls, symbol: str, multiplier: int = 100) -> "OptionContract":
        """Parse an OCC symbol, padded (``SPY   240119P00450000``, 21 characters, as IB's
        ``localSymbol``) or unpadded (``SPXW220110C01200000``, as in Cboe files)."""
        if not isinstance(symbol, str):
            raise InvalidContractError(f"OCC symbol {symbol!r}: expected a string")
        root = _occ_root(symbol)
        tail = symbol[-_OCC_TAIL_LENGTH:]
        return cls(
            underlying=root,
            expiry=_occ_date(tail[:6], symbol),
            strike=_occ_strike(tail[7:], symbol),
            right=_occ_right(tail[6], symbol),
            multiplier=multiplier,
        )

    @property
    def occ_symbol(self) -> str:
        """The 21-character OCC symbol: root padded to 6, yymmdd, C or P, strike x 1000."""
        return _occ_symbol(self.underlying, self.expiry, self.right, self.strike)

    @property
    def is_call(self) -> bool:
        return self.right is Right.CALL

    def intrinsic(self, spot: float) -> float:
        """Exercise value per share at underlying price ``spot``."""
        strike = float(self.strike)
        return max(spot - strike, 0.0) if self.is_call else max(strike - spot, 0.0)

    def is_expired(self, as_of: date) -> bool:
        """True once ``as_of`` is after expiry; on expiry day the contract still trades."""
        return as_of > self.expiry

    def days_to_expiry(self, as_of: date) -> int:
        """Calendar days from ``as_of`` to expiry (0 on expiry day, negative once expired)."""
        return (self.expiry - as_of).days


@dataclass(frozen=True, slots=True)
class StockContract:
    """Shares of a stock or ETF, e.g. from an assigned option. ``symbol`` as IB writes it."""

    symbol: str

    def __post_init__(self) -> None:
        if not isinstance(self.symbol, str) or not _STOCK_SYMBOL.fullmatch(self.symbol):
            raise InvalidContractError(
                f"StockContract.symbol = {self.symbol!r}: expected an upper-case ticker "
                "such as 'SPY' or 'BRK B'"
            )

    @property
    def multiplier(self) -> int:
        return 1


Contract = OptionContract | StockContract


@lru_cache(maxsize=65_536)
def _occ_symbol(underlying: str, expiry: date, right: Right, strike: Decimal) -> str:
    """Kept: the journal, the book and reconciliation ask for the same few contracts' symbols
    again and again."""
    thousandths = int(strike / STRIKE_TICK)
    return f"{underlying:<6}{expiry:%y%m%d}{right.value}{thousandths:08d}"


def normalise_strike(strike: Decimal | float) -> Decimal:
    """Return ``strike`` as a Decimal on the 0.001 grid, or raise ``InvalidContractError``.

    Floats within 1e-9 of a grid point are snapped to it (arithmetic noise); anything else
    off the grid is rejected rather than silently rounded to a different series.
    """
    value = _strike_decimal(strike)
    if not Decimal(0) < value <= MAX_STRIKE:
        raise InvalidContractError(
            f"OptionContract.strike = {strike!r}: expected 0 < strike <= {MAX_STRIKE}"
        )
    on_grid = value.quantize(STRIKE_TICK)
    if value != on_grid:
        raise InvalidContractError(
            f"OptionContract.strike = {strike!r}: expected a multiple of {STRIKE_TICK}"
        )
    return on_grid


def _strike_decimal(strike: Decimal | float) -> Decimal:
    if isinstance(strike, bool) or not isinstance(strike, Decimal | int | float):
        raise InvalidContractError(f"OptionContract.strike = {strike!r}: expected a number")
    if isinstance(strike, Decimal):
        if not strike.is_finite():
            raise InvalidContractError(
                f"OptionContract.strike = {strike!r}: expected a finite number"
            )
        return strike
    if isinstance(strike, int):
        return Decimal(strike)
    if not math.isfinite(strike):
        raise InvalidContractError(f"OptionContract.strike = {strike!r}: expected a finite number")
    snapped = round(strike, 3)
    if abs(strike - snapped) > 1e-9 * max(1.0, abs(strike)):
        return Decimal(repr(strike))
    return Decimal(repr(snapped))


def _check_root(underlying: str) -> str:
    if not isinstance(underlying, str) or not _ROOT.fullmatch(underlying):
        raise InvalidContractError(
            f"OptionContract.underlying = {underlying!r}: expected 1-6 characters of A-Z, 0-9"
        )
    return underlying


def _check_expiry(expiry: date) -> date:
    if not isinstance(expiry, date) or isinstance(expiry, datetime):
        raise InvalidContractError(f"OptionContract.expiry = {expiry!r}: expected a datetime.date")
    if not FIRST_EXPIRY <= expiry <= LAST_EXPIRY:
        raise InvalidContractError(
            f"OptionContract.expiry = {expiry}: expected a date from {FIRST_EXPIRY} "
            f"to {LAST_EXPIRY} (two-digit OCC year)"
        )
    return expiry


def _check_right(right: Right) -> Right:
    if not isinstance(right, Right):
        raise InvalidContractError(
            f"OptionContract.right = {right!r}: expected Right.CALL or Right.PUT"
        )
    return right


def _check_multiplier(multiplier: int) -> int:
    if isinstance(multiplier, bool) or not isinstance(multiplier, int) or multiplier <= 0:
        raise InvalidContractError(
            f"OptionContract.multiplier = {multiplier!r}: expected an integer > 0"
        )
    return multiplier


def _occ_root(symbol: str) -> str:
    """The root of a padded (exactly 21 chars) or unpadded (16-21 chars, no spaces) symbol."""
    if not _OCC_TAIL_LENGTH < len(symbol) <= _OCC_PADDED_LENGTH:
        raise InvalidContractError(
            f"OCC symbol {symbol!r}: expected {_OCC_TAIL_LENGTH + 1}-{_OCC_PADDED_LENGTH} "
            f"characters, got {len(symbol)}"
        )
    head = symbol[:-_OCC_TAIL_LENGTH]
    root = head.rstrip(" ")
    if root != head and len(symbol) != _OCC_PADDED_LENGTH:
        raise InvalidContractError(
            f"OCC symbol {symbol!r}: a space-padded root must make the symbol exactly "
            f"{_OCC_PADDED_LENGTH} characters, got {len(symbol)}"
        )
    if not _ROOT.fullmatch(root):
        raise InvalidContractError(
            f"OCC symbol {symbol!r}: root {root!r} is not 1-6 characters of A-Z, 0-9"
        )
    return root


def _occ_date(digits: str, symbol: str) -> date:
    if not _DIGITS.fullmatch(digits):
        raise InvalidContractError(
            f"OCC symbol {symbol!r}: expiry {digits!r} is not 6 digits yymmdd"
        )
    yy, mm, dd = int(digits[:2]), int(digits[2:4]), int(digits[4:])
    year = 1900 + yy if yy >= FIRST_EXPIRY.year % 100 else 2000 + yy
    try:
        return date(year, mm, dd)
    except ValueError:
        raise InvalidContractError(
            f"OCC symbol {symbol!r}: expiry {digits!r} is not a valid yymmdd date"
        ) from None


def _occ_right(letter: str, symbol: str) -> Right:
    try:
        return Right(letter)
    except ValueError:
        raise InvalidContractError(
            f"OCC symbol {symbol!r}: right {letter!r} is not C or P"
        ) from None


def _occ_strike(digits: str, symbol: str) -> Decimal:
    if not _DIGITS.fullmatch(digits):
        raise InvalidContractError(
            f"OCC symbol {symbol!r}: strike {digits!r} is not 8 digits (strike x 1000)"
        )
    if int(digits) == 0:
        raise InvalidContractError(f"OCC symbol {symbol!r}: strike {digits!r} is zero")
    return Decimal(int(digits)) * STRIKE_TICK
