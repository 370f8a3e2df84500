"""A position as the broker reports it (one account, one contract)."""

from dataclasses import dataclass

from v6.domain._checks import require_identifier, require_non_negative
from v6.domain.contracts import Contract, OptionContract, StockContract
from v6.domain.errors import InvalidPositionError


@dataclass(frozen=True, slots=True)
class Position:
    """``quantity`` is signed (long +, short -) in contracts or shares.

    Zero is allowed: IB keeps reporting a position with quantity 0 for the rest of the
    session after it is closed, and reconciliation needs to see that close. ``avg_cost`` follows
    IB: per contract *including* the multiplier (a short put sold at 1.50 reports 150.0), always
    >= 0 whatever the side; ``avg_price`` is the per-share price.
    """

    account: str
    contract: Contract
    quantity: int
    avg_cost: float

    def __post_init__(self) -> None:
        require_identifier(self.account, "Position.account", InvalidPositionError)
        if not isinstance(self.contract, OptionContract | StockContract):
            raise InvalidPositionError(
                f"Position.contract = {self.contract!r}: expected an OptionContract or "
                "StockContract"
            )
        if isinstance(self.quantity, bool) or not isinstance(self.quantity, int):
            raise InvalidPositionError(
                f"Position.quantity = {self.quantity!r}: expected an integer"
            )
        require_non_negative(self.avg_cost, "Position.avg_cost", InvalidPositionError)

    @property
    def is_flat(self) -> bool:
        return self.quantity == 0

    @property
    def avg_price(self) -> float:
        return self.avg_cost / self.contract.multiplier
