"""The left column: channels, groups and DMs, with unread badges and presence dots.

Rows are rebuilt from the client's ``Room`` objects whenever they change (a user has
tens of rooms, not thousands). Unread rooms are bold and bright, mentions get an
accent badge, and a DM shows its partner's presence as a coloured dot. A muted
room stays dim with 🔕 and no unread count (a mention badge still shows).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from rich.cells import cell_len, set_cell_size
from rich.text import Text
from textual import on
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tchat_client.core.models import Room
from tchat_client.sanitize import visible_line

__all__ = ["PRESENCE_DOTS", "PRESENCE_STYLES", "RoomList", "sort_rooms"]

PRESENCE_DOTS = {"online": "●", "away": "◐", "dnd": "⊖", "offline": "○"}
PRESENCE_STYLES = {"online": "green", "away": "yellow", "dnd": "red", "offline": "grey50"}
_SECTIONS = (("channel", "Channels"), ("group", "Groups"), ("dm", "Direct messages"))


def sort_rooms(rooms: Iterable[Room]) -> list[Room]:
    """Sections in order (channels, groups, DMs), names alphabetical within each."""
    order = {kind: index for index, (kind, _) in enumerate(_SECTIONS)}
    return sorted(rooms, key=lambda r: (order.get(r.kind, 9), r.label.casefold()))


class RoomList(OptionList):
    """Posts ``RoomList.Picked`` when the user chooses a room."""

    DEFAULT_CSS = """
    RoomList {
        width: 1fr;
        height: 1fr;
        border: none;
        padding: 0;
        background: $panel;
        scrollbar-size-vertical: 1;
    }
    RoomList:focus {
        border: none;
    }
    RoomList > .option-list--option-disabled {
        color: $text-muted;
        text-style: bold;
    }
    """

    class Picked(Message):
        def __init__(self, room_id: int) -> None:
            super().__init__()
            self.room_id = room_id

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._rooms: list[Room] = []
        self._presence: Mapping[str, str] = {}
        self._active: int | None = None

    @property
    def room_ids(self) -> list[int]:
        """Rooms in display order (for next/previous room and unread jumps)."""
        return [room.id for room in self._rooms]

    def show(self, rooms: Iterable[Room], presence: Mapping[str, str], active: int | None) -> None:
        """Rebuild the rows; keeps the highlight on the active room."""
        self._rooms = sort_rooms(rooms)
        self._presence = presence
        self._active = active
        self._rebuild()

    def on_resize(self) -> None:
        self._rebuild()

    def _rebuild(self) -> None:
        options: list[Option] = []
        width = max(10, (self.scrollable_content_region.width or 26) - 1)
        for kind, title in _SECTIONS:
            rooms = [room for room in self._rooms if room.kind == kind]
            if not rooms:
                continue
            if options:
                options.append(Option(Text(""), disabled=True))
            options.append(Option(Text(f" {title.upper()}", style="bold"), disabled=True))
            options.extend(Option(self._row(room, width), id=f"room-{room.id}") for room in rooms)
        with self.prevent(OptionList.OptionHighlighted):
            self.set_options(options)
            if self._active is not None:
                try:
                    self.highlighted = self.get_option_index(f"room-{self._active}")
                except Exception:
                    self.highlighted = None

    def _row(self, room: Room, width: int) -> Text:
        # A muted room shows no unread count and stays dim; a mention still shows.
        unread = room.unread if room.id != self._active and not room.muted else 0
        row = Text(" ")
        if room.kind == "dm":
            status = self._presence.get(room.dm_user or room.name, "offline")
            row.append(PRESENCE_DOTS.get(status, "○"), style=PRESENCE_STYLES.get(status, ""))
            row.append(" ")
            name = visible_line(room.dm_user or room.name)
        elif room.kind == "channel":
            row.append("# ", style="dim")
            name = visible_line(room.name)
        else:
            row.append("◆ ", style="dim")
            name = visible_line(room.name)
        badge = ""
        if room.mentions and room.id != self._active:
            badge = f"@{room.mentions}"
        elif unread:
            badge = str(unread) if unread < 1000 else "999+"
        mark = " 🔕" if room.muted else ""
        room_width = width - row.cell_len - cell_len(mark) - (len(badge) + 2 if badge else 1)
        if cell_len(name) > room_width:
            name = set_cell_size(name, max(1, room_width - 1)) + "…"
        row.append(name, style="bold" if unread or room.mentions else "")
        if mark:
            row.append(mark)
        if badge:
            row.append(" " * max(1, width - row.cell_len - len(badge) - 1))
            row.append(badge, style="bold white on dark_red" if badge.startswith("@") else "bold")
        if room.muted and room.id != self._active:
            row.stylize("dim", 0, len(row) - len(badge))
        elif not unread and not badge and room.id != self._active:
            row.stylize("dim")
        return row

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        option_id = event.option.id or ""
        if option_id.startswith("room-"):
            self.post_message(self.Picked(int(option_id.removeprefix("room-"))))
