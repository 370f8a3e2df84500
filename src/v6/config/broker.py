"""Broker configuration: which broker (simulated exchange or IB) and how to reach it."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from v6.config._base import ConfigPart, Conflict, raise_conflicts

MINUTES_PER_FULL_SESSION = 390
MINUTES_PER_HALF_SESSION = 210


class BrokerKind(StrEnum):
    """Which adapter implements the broker port."""

    SIM = "sim"
    IB = "ib"


class TradingMode(StrEnum):
    """What the orders are worth: simulated, IB paper account, or real money."""

    SIM = "sim"
    PAPER = "paper"
    LIVE = "live"


class IBConfig(ConfigPart):
    """Connection to IB Gateway or TWS (used when `broker.kind = "ib"`)."""

    host: str = Field(default="127.0.0.1", min_length=1, description="Gateway/TWS host.")
    port: int = Field(
        default=4002,
        ge=1,
        le=65535,
        description="Gateway/TWS API port: 4002 gateway paper, 4001 gateway live, "
        "7497 TWS paper, 7496 TWS live.",
    )
    client_id: int = Field(
        default=1, ge=0, description="API client id; unique per connection to one gateway."
    )
    account: str | None = Field(
        default=None,
        min_length=1,
        description="IB account id (e.g. DU1234567 paper, U1234567 live). Required for live "
        "trading, where it must match the connected account.",
    )
    connect_timeout_seconds: float = Field(
        default=10.0, gt=0, le=300, description="Seconds to wait for one connect attempt."
    )
    connect_retries: int = Field(
        default=5, ge=0, le=100, description="Further attempts after a failed connect."
    )
    retry_backoff_seconds: float = Field(
        default=2.0, gt=0, le=60, description="Wait before the first retry; doubles each retry."
    )
    max_backoff_seconds: float = Field(
        default=60.0, gt=0, le=3600, description="Upper bound of the wait between retries."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        raise_conflicts([self._backoff_bounds_ordered()])
        return self

    def _backoff_bounds_ordered(self) -> Conflict | None:
        if self.max_backoff_seconds >= self.retry_backoff_seconds:
            return None
        return Conflict(
            "max_backoff_seconds",
            self.max_backoff_seconds,
            f"a number >= retry_backoff_seconds ({self.retry_backoff_seconds})",
        )


class FaultInjectionConfig(ConfigPart):
    """Faults the simulated broker injects on purpose (probabilities 0..1; 0 = never)."""

    disconnect_rate: float = Field(
        default=0.0, ge=0, le=1, description="Chance per engine cycle of a connection loss."
    )
    reject_rate: float = Field(
        default=0.0, ge=0, le=1, description="Chance per order of a rejection."
    )
    partial_fill_rate: float = Field(
        default=0.0, ge=0, le=1, description="Chance per fill of filling only part of it."
    )
    stale_quote_rate: float = Field(
        default=0.0, ge=0, le=1, description="Chance per quote of repeating the previous quote."
    )
    bad_quote_rate: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Chance per quote of an absurd quote (crossed or extremely wide).",
    )


class SimConfig(ConfigPart):
    """The embedded simulated exchange (used when `broker.kind = "sim"`)."""

    seed: int = Field(default=1, ge=0, description="Random seed; a run is deterministic for it.")
    symbols: tuple[str, ...] = Field(
        default=("SPY", "QQQ", "IWM"),
        min_length=1,
        description="Underlyings whose real daily history is replayed.",
    )
    start_date: date = Field(default=date(2024, 1, 2), description="First replayed session.")
    end_date: date = Field(default=date(2024, 12, 31), description="Last replayed session.")
    bar_step_minutes: int = Field(
        default=5,
        ge=1,
        le=30,
        description="Minutes between simulated intraday prices; divides 30 so both full "
        "(390 min) and half (210 min) sessions split into whole bars.",
    )
    starting_cash: float = Field(
        default=100_000.0, gt=0, description="Account cash at the start of the run, in USD."
    )
    faults: FaultInjectionConfig = FaultInjectionConfig()

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        raise_conflicts([self._dates_ordered(), self._bar_step_fits_sessions()])
        return self

    def _dates_ordered(self) -> Conflict | None:
        if self.end_date >= self.start_date:
            return None
        return Conflict(
            "end_date", self.end_date, f"a date on or after start_date ({self.start_date})"
        )

    def _bar_step_fits_sessions(self) -> Conflict | None:
        step = self.bar_step_minutes
        if MINUTES_PER_FULL_SESSION % step == 0 and MINUTES_PER_HALF_SESSION % step == 0:
            return None
        return Conflict("bar_step_minutes", step, "a divisor of 30 (1, 2, 3, 5, 6, 10, 15 or 30)")


class BrokerConfig(ConfigPart):
    """Which broker the system trades through, and IB's limits that both brokers enforce."""

    kind: BrokerKind = Field(default=BrokerKind.SIM, description="sim or ib.")
    trading_mode: TradingMode = Field(
        default=TradingMode.SIM,
        description="sim (only with kind sim), paper or live (only with kind ib). Live also "
        "needs ib.account and the --live flag at start.",
    )
    market_data_lines: int = Field(
        default=100,
        ge=1,
        le=10_000,
        description="Streaming quote lines the account may hold at once (IB default 100); "
        "the simulator enforces the same limit.",
    )
    pacing_messages_per_second: float = Field(
        default=50.0,
        gt=0,
        le=1000,
        description="Messages per second the broker accepts before pacing violations "
        "(IB: about 50); the simulator enforces the same limit.",
    )
    ib: IBConfig = IBConfig()
    sim: SimConfig = SimConfig()

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        raise_conflicts([self._mode_fits_kind(), self._live_has_account()])
        return self

    def _mode_fits_kind(self) -> Conflict | None:
        simulated = self.kind is BrokerKind.SIM
        if simulated == (self.trading_mode is TradingMode.SIM):
            return None
        expected = "'sim'" if simulated else "'paper' or 'live'"
        return Conflict(
            "trading_mode",
            self.trading_mode.value,
            f"{expected} (broker kind is {self.kind.value!r})",
        )

    def _live_has_account(self) -> Conflict | None:
        if self.trading_mode is not TradingMode.LIVE or self.ib.account is not None:
            return None
        return Conflict(
            "ib.account", None, "the live account id (required when trading_mode is 'live')"
        )
