"""A leg: an option contract with a signed quantity (+ bought/long, - sold/short)."""

from dataclasses import dataclass

from v6.domain._checks import require_nonzero_int
from v6.domain.contracts import OptionContract
from v6.domain.errors import InvalidLegError


@dataclass(frozen=True, slots=True)
class Leg:
    """``quantity`` is a ratio inside a strategy or order (see ``Strategy``), never zero."""

    contract: OptionContract
    quantity: int

    def __post_init__(self) -> None:
        if not isinstance(self.contract, OptionContract):
            raise InvalidLegError(f"Leg.contract = {self.contract!r}: expected an OptionContract")
        require_nonzero_int(self.quantity, "Leg.quantity", InvalidLegError)

    @property
    def is_short(self) -> bool:
        return self.quantity < 0
