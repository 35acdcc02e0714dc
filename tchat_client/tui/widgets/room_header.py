"""The line above the transcript: the room's name, member count and topic."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from tchat_client.core.models import Room
from tchat_client.sanitize import visible_line

__all__ = ["RoomHeader"]


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
        if room.topic:
            line.append("  │  ", style="dim")
            line.append(visible_line(room.topic), style="italic")
        width = self.content_region.width
        if width > 0:
            line.truncate(width, overflow="ellipsis")
        return line
