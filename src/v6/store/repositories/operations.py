"""Account snapshots, dashboard commands and component heartbeats."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from v6.store.catalog import ACCOUNT_SNAPSHOTS, COMMANDS, HEALTH
from v6.store.records import AccountSnapshot, Command, CommandStatus, HealthStatus, Heartbeat, utc
from v6.store.repositories._base import Repository, Row, from_json, to_json


class AccountRepository(Repository):
    """Account values over time: the equity curve."""

    def record(self, snapshots: Iterable[AccountSnapshot]) -> None:
        self._write(ACCOUNT_SNAPSHOTS, (_account_row(s) for s in snapshots))

    def equity_curve(self, account: str, since: datetime | None = None) -> list[AccountSnapshot]:
        """The account's snapshots in time order (from ``since`` if given)."""
        filters: list[tuple[str, str, object]] = [("account", "=", account)]
        if since is not None:
            filters.append(("at", ">=", utc(since, "since")))
        rows = self._rows(ACCOUNT_SNAPSHOTS, filters)
        return sorted((AccountSnapshot(**row) for row in rows), key=lambda s: s.at)


class CommandRepository(Repository):
    """Requests to the engine: the dashboard submits, the engine moves their status on."""

    def submit(self, commands: Iterable[Command]) -> None:
        """Submit new commands, or record status changes of existing ones (same id)."""
        self._write(COMMANDS, (_command_row(c) for c in commands))

    def pending(self) -> list[Command]:
        """Commands the engine has not taken up yet, oldest first."""
        rows = self._rows(COMMANDS, [("status", "=", CommandStatus.PENDING.value)])
        return sorted((_command(r) for r in rows), key=lambda c: (c.requested_at, c.command_id))

    def get(self, command_id: str) -> Command | None:
        rows = self._rows(COMMANDS, [("command_id", "=", command_id)])
        return _command(rows[0]) if rows else None


class HealthRepository(Repository):
    """The latest heartbeat per component."""

    def beat(self, heartbeats: Iterable[Heartbeat]) -> None:
        self._write(HEALTH, (_heartbeat_row(h) for h in heartbeats))

    def latest(self) -> list[Heartbeat]:
        """Every component's latest heartbeat, by component name."""
        beats = (_heartbeat(row) for row in self._rows(HEALTH))
        return sorted(beats, key=lambda h: h.component)


def _account_row(snapshot: AccountSnapshot) -> Row:
    return {
        "account": snapshot.account,
        "at": snapshot.at,
        "net_liquidation": snapshot.net_liquidation,
        "cash": snapshot.cash,
        "buying_power": snapshot.buying_power,
        "maintenance_margin": snapshot.maintenance_margin,
        "unrealized_pnl": snapshot.unrealized_pnl,
        "realized_pnl": snapshot.realized_pnl,
    }


def _command_row(command: Command) -> Row:
    return {
        "command_id": command.command_id,
        "kind": command.kind,
        "payload": to_json(command.payload),
        "status": command.status.value,
        "requested_by": command.requested_by,
        "requested_at": command.requested_at,
        "updated_at": command.updated_at,
        "result": command.result,
    }


def _command(row: Row) -> Command:
    return Command(
        command_id=row["command_id"],
        kind=row["kind"],
        requested_by=row["requested_by"],
        requested_at=row["requested_at"],
        payload=from_json(row["payload"]),
        status=CommandStatus(row["status"]),
        updated_at=row["updated_at"],
        result=row["result"],
    )


def _heartbeat_row(heartbeat: Heartbeat) -> Row:
    return {
        "component": heartbeat.component,
        "status": heartbeat.status.value,
        "at": heartbeat.at,
        "message": heartbeat.message,
    }


def _heartbeat(row: Row) -> Heartbeat:
    return Heartbeat(row["component"], HealthStatus(row["status"]), row["at"], row["message"])
