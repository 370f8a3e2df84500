"""Engine controls: buttons that write commands for the engine to carry out.

The dashboard never talks to the broker: each button adds a PENDING row to the commands
table, which the engine picks up, executes and moves to DONE (or REJECTED/FAILED with a
reason). Halting trading and resetting the circuit breaker ask for confirmation first.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final

import streamlit as st

from v6.dashboard import data
from v6.dashboard.context import DashboardContext
from v6.store import Command, WriterConflictError

REQUESTED_BY: Final = "dashboard"
CONFIRM_KEY: Final = "v6_confirm_command"
REASON_KEY: Final = "v6_confirm_reason"


class CommandKind(StrEnum):
    """The commands the dashboard sends (``commands.kind``)."""

    RECONNECT = "reconnect"
    FORCE_SYNC = "force_sync"
    CLEAR_QUEUE = "clear_queue"
    RESET_BREAKER = "reset_breaker"
    HALT = "halt"
    RESUME = "resume"


@dataclass(frozen=True)
class Control:
    kind: CommandKind
    label: str
    icon: str
    help: str
    confirm: str | None = None
    """The question asked before sending; None sends at once."""


CONTROLS: Final = (
    Control(
        CommandKind.HALT,
        "Halt trading",
        ":material/pan_tool:",
        "Stop new entries; closing orders and cancels still pass.",
        "Halt trading? New entries stop until trading is resumed; exits continue.",
    ),
    Control(CommandKind.RESUME, "Resume trading", ":material/play_arrow:", "End an operator halt."),
    Control(
        CommandKind.RESET_BREAKER,
        "Reset breaker",
        ":material/restart_alt:",
        "Close the circuit breaker: failures are forgotten, loss baselines move to the current "
        "equity.",
        "Reset the circuit breaker? Entries are allowed again at once.",
    ),
    Control(CommandKind.RECONNECT, "Reconnect", ":material/sync_alt:", "Reconnect to the broker."),
    Control(
        CommandKind.FORCE_SYNC, "Force sync", ":material/refresh:", "Refresh every leg's mark now."
    ),
    Control(
        CommandKind.CLEAR_QUEUE,
        "Clear queue",
        ":material/clear_all:",
        "Drop the pending snapshot requests of the sync queue.",
    ),
)


def new_command(kind: CommandKind, at: datetime, reason: str = "") -> Command:
    """A PENDING command of ``kind`` requested now by the dashboard."""
    payload = {"reason": reason} if reason else {}
    return Command(f"cmd-{uuid.uuid4().hex}", kind.value, REQUESTED_BY, at, payload)


def send(context: DashboardContext, kind: CommandKind, reason: str = "") -> Command | None:
    """Write the command; shows the outcome. None when the store refused the write."""
    command = new_command(kind, datetime.now(UTC), reason)
    try:
        data.submit(context.access, command)
    except WriterConflictError as error:
        st.error(f"Could not send {kind.value}: {error}", icon=":material/error:")
        return None
    st.toast(f"Sent {kind.value}: the engine will carry it out.", icon=":material/send:")
    return command


def render_controls(context: DashboardContext) -> None:
    """The control buttons, or the confirmation of the one waiting for it."""
    waiting = st.session_state.get(CONFIRM_KEY)
    control = next((c for c in CONTROLS if c.kind.value == waiting), None)
    if control is not None and control.confirm is not None:
        _confirmation(context, control)
        return
    for item in CONTROLS:
        st.button(
            item.label,
            key=f"control_{item.kind.value}",
            icon=item.icon,
            help=item.help,
            width="stretch",
            on_click=_pressed(context, item),
        )


def _pressed(context: DashboardContext, control: Control) -> Callable[[], None]:
    def pressed() -> None:
        if control.confirm is None:
            send(context, control.kind)
        else:
            st.session_state[CONFIRM_KEY] = control.kind.value

    return pressed


def _confirmation(context: DashboardContext, control: Control) -> None:
    st.warning(control.confirm, icon=":material/warning:")
    st.text_input("Reason (recorded with the command)", key=REASON_KEY)
    confirm, cancel = st.columns(2)
    confirm.button(
        "Confirm",
        key="control_confirm",
        type="primary",
        help=f"{control.label} now",
        on_click=_confirmed,
        args=(context, control.kind),
    )
    cancel.button("Cancel", key="control_cancel", on_click=_cancelled)


def _confirmed(context: DashboardContext, kind: CommandKind) -> None:
    reason = str(st.session_state.get(REASON_KEY, "")).strip()
    _cancelled()
    send(context, kind, reason)


def _cancelled() -> None:
    st.session_state.pop(CONFIRM_KEY, None)
    st.session_state.pop(REASON_KEY, None)
