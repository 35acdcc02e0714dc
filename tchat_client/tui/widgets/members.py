"""The right column: the room's members grouped online / away / offline, with their
status text, room role (★ owner, ☆ moderator) and 🔇 when a moderator muted them.
Toggled from the main screen."""

from __future__ import annotations

import time
from collections.abc import Iterable

from rich.text import Text
from textual.widgets import Static

from tchat_client.core.models import Member
from tchat_client.sanitize import visible_line
from tchat_client.tui.widgets.room_header import ROLE_MARKS
from tchat_client.tui.widgets.room_list import PRESENCE_DOTS

__all__ = ["MemberList"]

_GROUPS = (
    ("online", "Online"),
    ("dnd", "Do not disturb"),
    ("away", "Away"),
    ("offline", "Offline"),
)
_RANK = {"owner": 0, "moderator": 1, "member": 2}


def _muted(member: Member, now: float) -> bool:
    until = member.muted_until
    return until is not None and (until == 0 or until > now)


_STYLES = {"online": "green", "away": "yellow", "dnd": "red", "offline": "grey50"}


class MemberList(Static):
    DEFAULT_CSS = """
    MemberList {
        width: 26;
        height: 1fr;
        padding: 0 1;
        background: $panel;
        overflow-y: auto;
    }
    """

    def show(self, members: Iterable[Member], me: str = "") -> None:
        now = time.time()
        people = sorted(members, key=lambda m: (_RANK.get(m.role, 9), m.user.casefold()))
        text = Text()
        for status, title in _GROUPS:
            group = [m for m in people if m.status == status]
            if not group:
                continue
            if text:
                text.append("\n")
            text.append(f"{title.upper()} — {len(group)}\n", style="bold dim")
            for member in group:
                text.append(PRESENCE_DOTS[status] + " ", style=_STYLES[status])
                name = visible_line(member.user)
                text.append(name, style="bold" if member.user == me else "")
                mark = ROLE_MARKS.get(member.role)
                if mark:
                    text.append(f" {mark}", style="yellow" if member.role == "owner" else "cyan")
                if _muted(member, now):
                    text.append(" 🔇 muted", style="dim")
                if member.text:
                    text.append("\n  ")
                    text.append(visible_line(member.text)[:40], style="dim italic")
                text.append("\n")
        self.update(text if text else Text("No members loaded", style="dim"))
