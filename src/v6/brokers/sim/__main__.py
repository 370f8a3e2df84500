"""``python -m v6.brokers.sim chain SPY --date 2020-03-16``: a real day's simulated chain.

The chain is what the simulated exchange serves at that moment: listed expirations and
strikes, bid/ask with sizes, implied vol and model delta, priced by ``SimulatedMarket`` from
the day's real underlying path, VIX, T-bill rate and dividends.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from v6.brokers.sim.exchange import SimExchange
from v6.brokers.types import Quote
from v6.clock import NEW_YORK
from v6.config.broker import SimConfig
from v6.domain import OptionContract, Right
from v6.market.calendar import nyse_calendar
from v6.market.simulated import SimulatedMarket

app = typer.Typer(
    name="python -m v6.brokers.sim",
    help="The simulated exchange, from the command line.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
error_console = Console(stderr=True, soft_wrap=True)


@app.callback()
def main() -> None:
    """The simulated exchange, from the command line."""


def _parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r}: expected YYYY-MM-DD", param_hint="--date") from None


def _parse_time(text: str) -> time:
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r}: expected HH:MM", param_hint="--time") from None


def _moment(day: date, clock_time: time) -> datetime:
    calendar = nyse_calendar()
    if not calendar.is_session(day):
        following = calendar.next_session(day)
        raise ValueError(f"{day} is not an NYSE session (the next one is {following})")
    moment = datetime.combine(day, clock_time, NEW_YORK)
    opens, closes = calendar.session_open(day), calendar.session_close(day)
    if not opens <= moment <= closes:
        local_open, local_close = opens.astimezone(NEW_YORK), closes.astimezone(NEW_YORK)
        raise ValueError(
            f"{clock_time:%H:%M} is outside the session {local_open:%H:%M}-{local_close:%H:%M} "
            "New York time"
        )
    return moment


def _cell(value: float, digits: int = 2) -> str:
    return "-" if value != value else f"{value:.{digits}f}"


def _side(quote: Quote) -> list[str]:
    delta = quote.greeks.delta if quote.greeks is not None else float("nan")
    return [_cell(quote.bid), _cell(quote.ask), _cell(quote.iv * 100, 1), _cell(delta)]


def _expiry_table(exchange: SimExchange, symbol: str, expiry: date, within: float) -> Table:
    spot = exchange.prices.spot(symbol)
    strikes = [
        strike
        for strike in exchange.option_chain(symbol).strikes
        if abs(float(strike) / spot - 1) <= within
        and exchange.is_listed(OptionContract(symbol, expiry, strike, Right.CALL))
    ]
    days = (expiry - exchange.now.astimezone(NEW_YORK).date()).days
    table = Table(title=f"{symbol} {expiry} ({days} days)", title_justify="left")
    for side in ("C", "P"):
        for column in ("bid", "ask", "iv%", "delta"):
            table.add_column(f"{side} {column}", justify="right")
        if side == "C":
            table.add_column("strike", justify="right", style="bold")
    for strike in strikes:
        call, put = (OptionContract(symbol, expiry, strike, right) for right in Right)
        call_quote, put_quote = exchange.prices.quotes([call, put])
        table.add_row(*_side(call_quote), f"{strike:f}".rstrip("0").rstrip("."), *_side(put_quote))
    return table


def show_chain(
    symbol: str, day: date, clock_time: time, expirations: int, within: float, seed: int
) -> None:
    moment = _moment(day, clock_time)
    config = SimConfig(symbols=(symbol,), start_date=day, end_date=day, seed=seed)
    market = SimulatedMarket(config)
    market.seek(moment)
    exchange = SimExchange(market, config)
    spot = exchange.prices.spot(symbol)
    local = exchange.now.astimezone(NEW_YORK)
    console.print(
        f"[bold]{symbol}[/bold] {local:%Y-%m-%d %H:%M} New York (simulated, seed {seed}): "
        f"spot {spot:.2f}, VIX {market.vix:.2f}, rate {market.rate * 100:.2f} %"
    )
    for expiry in exchange.option_chain(symbol).expirations[:expirations]:
        console.print(_expiry_table(exchange, symbol, expiry, within))


@app.command()
def chain(
    symbol: Annotated[str, typer.Argument(help="Underlying: SPY, QQQ or IWM.")],
    day: Annotated[str, typer.Option("--date", help="A session, YYYY-MM-DD.")],
    at: Annotated[str, typer.Option("--time", help="New York time, HH:MM.")] = "10:00",
    expirations: Annotated[int, typer.Option(min=1, help="Nearest expirations shown.")] = 2,
    within: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Strikes within this fraction of spot.")
    ] = 0.05,
    seed: Annotated[int, typer.Option(min=0, help="Simulation seed.")] = 1,
) -> None:
    """Print the simulated option chain of SYMBOL on a real historical day."""
    try:
        show_chain(symbol.upper(), _parse_day(day), _parse_time(at), expirations, within, seed)
    except ValueError as error:
        error_console.print(f"chain: {error}", markup=False, highlight=False)
        raise typer.Exit(1) from None


if __name__ == "__main__":
    app()
