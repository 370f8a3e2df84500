"""A small, realistic paper-trading week written through the real store, with the numbers
worked out by hand beside it (SPY, 2020-03-02 .. 2020-03-09; New York moves to daylight time
on 2020-03-08).

Strategies (multiplier 100, commission 0.65 per contract):

* ic-1 iron condor 270/280P 330/340C, opened 03-02 15:00, closed 03-05 19:00:
  entry  -110 + 230 + 190 - 80 - 2.60 = +227.40; exit +60 - 120 - 90 + 30 - 2.60 = -122.60;
  P&L +104.80 over 3 d 4 h.
* ps-2 bull put 290/280 x2, opened 03-03 15:30, closed 03-06 16:00 (stop loss):
  entry +600 - 360 - 2.60 = +237.40; exit -1300 + 780 - 2.60 = -522.60; P&L -285.20 over
  3 d 30 min.
* cs-3 bear call 350/355 expiring 03-06, opened 03-04 15:00, expired worthless 03-06 21:00:
  entry +45 - 20 - 1.30 = +23.70, its whole P&L, over 2 d 6 h.
* ps-4 bull put 270/260, opened 03-09 15:00, still OPEN: entry +78.70 (not realized).
* ps-5 cancelled: its entry was rejected; no executions.
* one assignment execution of an order V6 did not place (100 SPY at 285.00, commission 1.00).

Slippage against the snapshot mids (positive = cost): ic-1's exit 0 + 2.00 + 1.00 + 1.00,
ps-2's exit 10.00 + 10.00: 24.00 over 8 contracts. ic-1's and ps-4's entries have no
snapshot; cs-3's entry only one 20 minutes old (> 15).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Final

from v6.domain import (
    Action,
    Decision,
    Fill,
    IntentKind,
    Leg,
    OptionContract,
    Right,
    StockContract,
    Strategy,
    StrategyKind,
    StrategyStatus,
)
from v6.risk import RiskEvent, RiskEventKind
from v6.store import AccountSnapshot, LegSnapshot, OrderRecord, OrderStatus, Store

APRIL: Final = date(2020, 4, 17)
FRIDAY: Final = date(2020, 3, 6)
ACCOUNT: Final = "DU1234567"


def utc(month_day: str, clock: str) -> datetime:
    """``"03-05", "19:00"`` -> 2020-03-05 19:00 UTC."""
    return datetime.fromisoformat(f"2020-{month_day}T{clock}:00+00:00")


def option(strike: int, right: Right, expiry: date = APRIL) -> OptionContract:
    return OptionContract("SPY", expiry, Decimal(strike), right)


P260, P270, P280, P290 = (option(k, Right.PUT) for k in (260, 270, 280, 290))
C330, C340 = option(330, Right.CALL), option(340, Right.CALL)
C350, C355 = option(350, Right.CALL, FRIDAY), option(355, Right.CALL, FRIDAY)

EQUITY: Final = [
    (utc("03-02", "14:35"), 100_000.0),
    (utc("03-02", "20:00"), 100_150.0),
    (utc("03-03", "15:00"), 100_400.0),
    (utc("03-03", "20:00"), 99_800.0),
    (utc("03-04", "15:00"), 99_300.0),
    (utc("03-04", "20:00"), 99_900.0),
    (utc("03-05", "15:00"), 100_600.0),
    (utc("03-06", "01:30"), 100_900.0),  # 03-05 20:30 in New York: still 03-05's session date
    (utc("03-06", "15:00"), 100_200.0),
    (utc("03-06", "20:00"), 100_500.0),
    (utc("03-09", "15:00"), 99_700.0),
    (utc("03-09", "20:00"), 101_200.0),
]
"""Account net liquidation values in time order."""
DAY_ENDS: Final = {
    date(2020, 3, 2): 100_150.0,
    date(2020, 3, 3): 99_800.0,
    date(2020, 3, 4): 99_900.0,
    date(2020, 3, 5): 100_900.0,
    date(2020, 3, 6): 100_500.0,
    date(2020, 3, 9): 101_200.0,
}

STRATEGY_PNL: Final = {"ic-1": 104.80, "ps-2": -285.20, "cs-3": 23.70}
DAYS_IN_TRADE: Final = {"ic-1": 3 + 4 / 24, "ps-2": 3 + 0.5 / 24, "cs-3": 2 + 6 / 24}
COMMISSIONS: Final = 5.20 + 5.20 + 1.30 + 1.30 + 1.00
SLIPPAGE_TOTAL: Final = 24.00
SLIPPAGE_CONTRACTS: Final = 8


def strategy(
    strategy_id: str,
    kind: StrategyKind,
    legs: tuple[Leg, ...],
    status: StrategyStatus,
    opened: datetime | None,
    closed: datetime | None = None,
    quantity: int = 1,
) -> Strategy:
    return Strategy(strategy_id, kind, legs, quantity, status, opened_at=opened, closed_at=closed)


STRATEGIES: Final = [
    strategy(
        "ic-1",
        StrategyKind.IRON_CONDOR,
        (Leg(P270, 1), Leg(P280, -1), Leg(C330, -1), Leg(C340, 1)),
        StrategyStatus.CLOSED,
        utc("03-02", "15:00"),
        utc("03-05", "19:00"),
    ),
    strategy(
        "ps-2",
        StrategyKind.VERTICAL,
        (Leg(P290, -1), Leg(P280, 1)),
        StrategyStatus.CLOSED,
        utc("03-03", "15:30"),
        utc("03-06", "16:00"),
        quantity=2,
    ),
    strategy(
        "cs-3",
        StrategyKind.VERTICAL,
        (Leg(C350, -1), Leg(C355, 1)),
        StrategyStatus.CLOSED,
        utc("03-04", "15:00"),
        utc("03-06", "21:00"),
    ),
    strategy(
        "ps-4",
        StrategyKind.VERTICAL,
        (Leg(P270, -1), Leg(P260, 1)),
        StrategyStatus.OPEN,
        utc("03-09", "15:00"),
    ),
    strategy(
        "ps-5",
        StrategyKind.VERTICAL,
        (Leg(P290, -1), Leg(P280, 1)),
        StrategyStatus.CANCELLED,
        None,
        utc("03-09", "15:05"),
    ),
]


def order(
    order_id: str,
    strategy_id: str,
    intent: IntentKind,
    status: OrderStatus,
    at: datetime,
    legs: tuple[Leg, ...] = (Leg(P290, -1), Leg(P280, 1)),
) -> OrderRecord:
    return OrderRecord(order_id, strategy_id, intent, 1, legs, 1, -1.0, status, at, at)


ORDERS: Final = [
    order("101", "ic-1", IntentKind.OPEN, OrderStatus.FILLED, utc("03-02", "15:00")),
    order("102", "ic-1", IntentKind.CLOSE, OrderStatus.FILLED, utc("03-05", "19:00")),
    order("201", "ps-2", IntentKind.OPEN, OrderStatus.FILLED, utc("03-03", "15:30")),
    order("601", "ps-2", IntentKind.CLOSE, OrderStatus.CANCELLED, utc("03-06", "15:40")),
    order("202", "ps-2", IntentKind.CLOSE, OrderStatus.FILLED, utc("03-06", "16:00")),
    order("301", "cs-3", IntentKind.OPEN, OrderStatus.FILLED, utc("03-04", "15:00")),
    order("401", "ps-4", IntentKind.OPEN, OrderStatus.FILLED, utc("03-09", "15:00")),
    order("402", "ps-4", IntentKind.CLOSE, OrderStatus.SUBMITTED, utc("03-09", "15:01")),
    order("501", "ps-5", IntentKind.OPEN, OrderStatus.REJECTED, utc("03-09", "15:05")),
    order("dry-run:ps-6:open:1:walked", "ps-6", IntentKind.OPEN, OrderStatus.SUBMITTED,
          utc("03-09", "15:06")),
]  # fmt: skip


def fill(
    exec_id: str,
    order_id: str,
    contract: OptionContract | StockContract,
    quantity: int,
    price: float,
    at: datetime,
    commission: float | None = None,
) -> Fill:
    fee = 0.65 * abs(quantity) if commission is None else commission
    return Fill(exec_id, order_id, contract, quantity, price, round(fee, 2), at)


def _fills() -> list[Fill]:
    ic_in, ic_out = utc("03-02", "15:00"), utc("03-05", "19:00")
    ps_in, ps_out = utc("03-03", "15:30"), utc("03-06", "16:00")
    return [
        fill("e1", "101", P270, 1, 1.10, ic_in),
        fill("e2", "101", P280, -1, 2.30, ic_in),
        fill("e3", "101", C330, -1, 1.90, ic_in),
        fill("e4", "101", C340, 1, 0.80, ic_in),
        fill("e5", "102", P270, -1, 0.60, ic_out),
        fill("e6", "102", P280, 1, 1.20, ic_out),
        fill("e7", "102", C330, 1, 0.90, ic_out),
        fill("e8", "102", C340, -1, 0.30, ic_out),
        fill("e9", "201", P290, -2, 3.00, ps_in),
        fill("e10", "201", P280, 2, 1.80, ps_in),
        fill("e11", "202", P290, 2, 6.50, ps_out),
        fill("e12", "202", P280, -2, 3.90, ps_out),
        fill("e13", "301", C350, -1, 0.45, utc("03-04", "15:00")),
        fill("e14", "301", C355, 1, 0.20, utc("03-04", "15:00")),
        fill("e15", "401", P270, -1, 2.00, utc("03-09", "15:00")),
        fill("e16", "401", P260, 1, 1.20, utc("03-09", "15:00")),
        fill("e17", "9001", StockContract("SPY"), 100, 285.00, utc("03-09", "21:30"), 1.00),
    ]


def _quote(
    strategy_id: str, contract: OptionContract, at: datetime, bid: float, ask: float
) -> LegSnapshot:
    return LegSnapshot(strategy_id, contract, at, mark=(bid + ask) / 2, bid=bid, ask=ask)


def _snapshots() -> list[LegSnapshot]:
    before_ic, before_ps = utc("03-05", "18:55"), utc("03-06", "15:50")
    return [
        _quote("ic-1", P270, before_ic, 0.55, 0.65),
        _quote("ic-1", P280, before_ic, 1.10, 1.26),
        _quote("ic-1", C330, before_ic, 0.85, 0.93),
        _quote("ic-1", C340, before_ic, 0.28, 0.34),
        _quote("ps-2", P290, utc("03-06", "15:30"), 5.00, 5.20),  # older: not the one used
        _quote("ps-2", P290, before_ps, 6.30, 6.60),
        _quote("ps-2", P280, before_ps, 3.85, 4.05),
        _quote("ps-2", P290, utc("03-06", "16:05"), 9.00, 9.40),  # after the fill: not used
        _quote("cs-3", C350, utc("03-04", "14:40"), 0.40, 0.50),  # 20 minutes old: too old
    ]


def _decisions() -> tuple[list[Decision], list[Decision]]:
    """(deciding verdicts, triggered rules) of four evaluations."""
    take = Decision("ic-1", "take_profit", 10, Action.CLOSE, "50 % of max profit", {},
                    utc("03-05", "18:58"))  # fmt: skip
    hold = Decision("ps-2", "hold", 0, Action.HOLD, "no rule triggered", {}, take.at)
    veto = Decision("cs-3", "market_veto", 0, Action.HOLD, "spread too wide", {}, take.at)
    time_exit = Decision("cs-3", "time_exit", 11, Action.CLOSE, "1 DTE", {}, take.at)
    decided, triggered = [take, hold, veto], [take, time_exit]
    for clock in ("15:50", "15:55"):
        at = utc("03-06", clock)
        stop = Decision("ps-2", "stop_loss", 5, Action.CLOSE, "loss 2x credit", {}, at)
        delta = Decision("ps-2", "delta_breach", 6, Action.CLOSE, "short delta 0.45", {}, at)
        decided.append(stop)
        triggered.extend([stop, delta])
    return decided, triggered


def _risk_events() -> list[RiskEvent]:
    kind = RiskEventKind
    at = utc("03-06", "15:00")
    events = [
        RiskEvent(kind.LIMIT_BREACHED, at, "gamma over", limit="gamma", value=-9.0),
        RiskEvent(kind.LIMIT_CLEARED, utc("03-06", "15:10"), "gamma back", limit="gamma"),
        RiskEvent(kind.LIMIT_BREACHED, utc("03-06", "15:20"), "gamma over", limit="gamma"),
        RiskEvent(kind.LIMIT_BREACHED, at, "delta over", limit="delta", value=160.0),
        RiskEvent(kind.BREAKER_TRANSITION, at, "rejects", from_state="closed", to_state="open"),
        RiskEvent(kind.BREAKER_TRANSITION, utc("03-06", "15:30"), "cooled down",
                  from_state="open", to_state="half_open"),
        RiskEvent(kind.BREAKER_TRANSITION, utc("03-06", "15:40"), "probe filled",
                  from_state="half_open", to_state="closed"),
        RiskEvent(kind.TRADING_HALTED, utc("03-09", "15:02"), "operator halt"),
        RiskEvent(kind.INTENT_REJECTED, utc("03-09", "15:03"), "halted", strategy_id="ps-5"),
        RiskEvent(kind.INTENT_REJECTED, utc("03-09", "15:04"), "halted", strategy_id="ps-6"),
    ]  # fmt: skip
    accepted = ("ic-1", "ps-2", "cs-3", "ps-4")
    events += [
        RiskEvent(kind.INTENT_ACCEPTED, utc("03-02", "15:00"), "ok", strategy_id=s)
        for s in accepted
    ]
    return events


def write_book(store: Store) -> None:
    """Write the week through the store's repositories and flush."""
    store.strategies.save(STRATEGIES, at=utc("03-09", "21:00"))
    store.orders.save(ORDERS)
    store.executions.record(_fills())
    store.snapshots.record(_snapshots())
    store.accounts.record(AccountSnapshot(ACCOUNT, at, net_liquidation=v) for at, v in EQUITY)
    store.decisions.record(*_decisions())
    store.risk_events.record(_risk_events())
    store.flush()
