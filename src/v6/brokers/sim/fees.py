"""IB's commission schedule: IBKR Pro, Fixed pricing, US options and stocks.

Options: USD 0.65 per contract, minimum USD 1.00 per order, no maximum
(https://www.interactivebrokers.com/en/pricing/commissions-options.php, "Fixed" column; the
same figures at https://www.interactivebrokers.com/en/index.php?f=1590&p=options5).
Stocks: USD 0.005 per share, minimum USD 1.00, maximum 1 % of the trade value per order
(https://www.interactivebrokers.com/en/pricing/commissions-stocks.php).
Fixed pricing includes exchange fees; the small regulatory and clearing pass-through fees
(ORF, OCC, FINRA TAF: fractions of a cent per contract) are not modelled. Exercise,
assignment, expiration and cash settlement are charged nothing here.

Minimums apply per order, not per execution: an order that fills in parts pays the minimum
once, on its first execution (``commission_due`` charges the increase of the order's total).
"""

from __future__ import annotations

OPTION_PER_CONTRACT = 0.65
OPTION_MIN_PER_ORDER = 1.00
STOCK_PER_SHARE = 0.005
STOCK_MIN_PER_ORDER = 1.00
STOCK_MAX_RATE = 0.01


def option_commission(contracts: int) -> float:
    """The commission on an order that has traded ``contracts`` option contracts in total."""
    if contracts <= 0:
        return 0.0
    return max(OPTION_MIN_PER_ORDER, OPTION_PER_CONTRACT * contracts)


def stock_commission(shares: int, value: float) -> float:
    """The commission on an order that has traded ``shares`` shares worth ``value`` in total."""
    if shares <= 0:
        return 0.0
    charge = max(STOCK_MIN_PER_ORDER, STOCK_PER_SHARE * shares)
    return min(charge, STOCK_MAX_RATE * abs(value)) if value else charge


def order_commission(contracts: int, shares: int, stock_value: float) -> float:
    """An order's total commission after trading ``contracts`` option contracts and
    ``shares`` shares (worth ``stock_value``)."""
    return option_commission(contracts) + stock_commission(shares, stock_value)


def commission_due(total_after: float, charged_before: float) -> float:
    """What one execution costs: the rise of the order's total commission."""
    return round(max(total_after - charged_before, 0.0), 8)
