"""The line above the transcript: the room's name, member count, its state (locked,
slow mode, the user's alert level and role) and topic."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from tchat_client.core.models import Room
from tchat_client.sanitize import visible_line
from tchat_client.tui.alerts import notify_marker
from tchat_client.tui.moderation_ui import format_duration

__all__ = ["RoomHeader", "room_markers"]

ROLE_MARKS = {"owner": "★", "moderator": "☆"}
"""How the member list and the header mark room roles."""


def room_markers(room: Room) -> list[Text]:
    """Short state badges: 🔒 locked, 🐢 slow mode, 🔕 muted or the alert level,
    and the user's role when it is more than member."""
    marks: list[Text] = []
    if room.locked:
        marks.append(Text("🔒 locked", style="bold"))
    if room.slow_mode:
        marks.append(Text(f"🐢 slow {format_duration(room.slow_mode)}", style="bold"))
    level = notify_marker(room)
    if level:
        marks.append(level)
    if room.role in ROLE_MARKS:
        marks.append(Text(f"{ROLE_MARKS[room.role]} {room.role}", style="dim"))
    return marks


class RoomHeader(Static):
    DEFAULT_CSS = """
    RoomHeader {
        height: 1;
        padding: 0 1;
        background: $boost;
        color: $text;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._room: Room | None = None
        self._presence: str | None = None

    def show(self, room: Room | None, presence: str | None = None) -> None:
        self._room, self._presence = room, presence
        self.update(self._line())

    def on_resize(self) -> None:
        self.update(self._line())

    def _line(self) -> Text:
        room = self._room
        if room is None:
            return Text("No room selected", style="dim")
        line = Text()
        line.append(visible_line(room.label), style="bold")
        if room.kind == "dm":
            if self._presence:
                line.append(f"  {self._presence}", style="dim")
        else:
            people = "member" if room.member_count == 1 else "members"
            line.append(f"  {room.member_count} {people}", style="dim")
        for marker in room_markers(room):
            line.append("  ")
            line.append(marker)
        if room.topic:
            line.append("  │  ", style="dim")
            line.append(visible_line(room.topic), style="italic")
        width = self.content_region.width
        if width > 0:
            line.truncate(width, overflow="ellipsis")
        return line
