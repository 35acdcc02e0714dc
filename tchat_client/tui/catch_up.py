"""Catching up: the "Since you were away" summary after a (re)connection, the jump
to the first unread message of a room (loading older history to reach it), and
``/markunread`` for the room on screen.

The counts come from the client core (``State.away_summary()``); this module
words them, shows them in a small dismissible panel and walks through them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Static

from tchat_client.core import ClientError
from tchat_client.core.models import Room
from tchat_client.sanitize import visible_line

if TYPE_CHECKING:
    from tchat_client.tui.screens.main import MainScreen

__all__ = ["AwaySummary", "CatchUp", "away_entries", "summary_text"]


def away_entries(summary: Iterable[tuple[Room, int, int]], active: int | None) -> list[Room]:
    """The rooms of ``State.away_summary()`` (it leaves out muted rooms unless they
    mention the user, and orders them), without the room already on screen."""
    return [room for room, _, _ in summary if room.id != active]


def entry_text(room: Room) -> str:
    """ "#general 12", "@bob 3 (1 mention)"."""
    count = f"{room.label} {room.unread}"
    if room.mentions:
        count += f" ({room.mentions} mention{'s' if room.mentions != 1 else ''})"
    return count


def summary_text(rooms: Sequence[Room]) -> str:
    """ "Since you were away: #general 12 · @bob 3 (1 mention) · ops 5"."""
    if not rooms:
        return ""
    return "Since you were away: " + " · ".join(entry_text(r) for r in rooms)


class AwaySummary(Static, can_focus=True):
    """A one- or two-line panel over the transcript. Enter (or alt+a anywhere, or
    a click) opens the first room listed and drops it from the list; Escape hides it."""

    DEFAULT_CSS = """
    AwaySummary {
        height: auto;
        max-height: 3;
        padding: 0 1;
        background: $primary 20%;
        color: $text;
        display: none;
    }
    AwaySummary.-shown {
        display: block;
    }
    AwaySummary:focus {
        background: $primary 35%;
    }
    """

    BINDINGS = [
        Binding(
            "enter", "open_first", "Away summary: open its first room", id="away.open", show=False
        ),
        Binding("escape", "dismiss", "Away summary: hide it", id="away.dismiss", show=False),
    ]

    class Open(Message):
        """The user wants the room at the head of the summary."""

        def __init__(self, room_id: int) -> None:
            super().__init__()
            self.room_id = room_id

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rooms: list[Room] = []

    @property
    def shown(self) -> bool:
        return self.has_class("-shown")

    def show(self, rooms: Sequence[Room]) -> None:
        self.rooms = list(rooms)
        line = Text()
        if self.rooms:
            line.append("Since you were away: ", style="bold")
            for index, room in enumerate(self.rooms):
                if index:
                    line.append(" · ", style="dim")
                line.append(visible_line(room.label), style="bold")
                line.append(f" {room.unread}")
                if room.mentions:
                    plural = "s" if room.mentions != 1 else ""
                    line.append(f" ({room.mentions} mention{plural})", style="bold")
            # The hint never breaks in two: on its own line when the rooms fill this one.
            hint = "alt+a open · esc hide"
            room_for = self.content_size.width or 120
            fits = line.cell_len + 3 + len(hint) <= room_for
            line.append("   " if fits else "\n", style="dim")
            line.append(hint, style="dim italic")
        self.set_class(bool(self.rooms), "-shown")
        self.update(line)

    def on_resize(self) -> None:
        if self.rooms:
            self.show(self.rooms)

    def hide(self) -> None:
        self.show([])

    def on_click(self) -> None:
        self.action_open_first()

    def action_open_first(self) -> None:
        if self.rooms:
            self.post_message(self.Open(self.rooms[0].id))

    def action_dismiss(self) -> None:
        self.hide()
        self.screen.focus_next()


class CatchUp:
    """The main screen's catching up: which room is held unread after
    ``/markunread``, and the summary shown after each (re)connection."""

    def __init__(self, screen: MainScreen) -> None:
        self._screen = screen
        self.held_unread: int | None = None
        """A room the user marked unread: not marked read again while on screen."""
        self._before: dict[int, int] | None = None
        """Unread and mentions per room when the connection dropped."""
        self._first = True

    @property
    def panel(self) -> AwaySummary:
        return self._screen.query_one(AwaySummary)

    # --------------------------------------------------------------- summary

    def summary(self) -> list[Room]:
        summary = self._screen.client.state.away_summary()
        return away_entries(summary, self._screen.active)

    def connection(self, status: str) -> None:
        """Remember the counts when the connection drops; once it is back (or at
        start), show the rooms that gained messages meanwhile (at start: every
        room with something unread)."""
        if status != "connected":
            if self._before is None:
                held = self._screen.client.state.rooms.values()
                self._before = {r.id: r.unread + r.mentions for r in held}
            return
        before, self._before = self._before, None
        rooms = self.summary()
        if before is not None and not self._first:
            rooms = [r for r in rooms if r.unread + r.mentions > before.get(r.id, 0)]
        self._first = False
        if rooms:
            self.panel.show(rooms)

    def room_changed(self) -> None:
        """Keep a shown summary true: drop rooms read meanwhile, update counts."""
        panel = self.panel
        if not panel.shown:
            return
        now = {r.id: r for r in self.summary()}
        panel.show([now[r.id] for r in panel.rooms if r.id in now])

    def open_next(self) -> None:
        """alt+a: the next room of the summary, at its first unread message."""
        panel = self.panel
        if not panel.shown:
            rooms = self.summary()
            if not rooms:
                self._screen.notify("You are all caught up")
                return
            panel.show(rooms)
        self.open(panel.rooms[0].id)

    def open(self, room_id: int) -> None:
        panel = self.panel
        room = self._screen.client.state.rooms.get(room_id)
        panel.show([r for r in panel.rooms if r.id != room_id])
        if room is None:
            return
        marker = room.last_read_seq + 1 if room.unread else None
        self._screen.open_room(room_id)
        self._screen.composer.focus()
        if marker is not None:
            self.jump_to_first_unread(marker)

    # ---------------------------------------------------------------- unread

    def jump_to_first_unread(self, marker: int | None = None) -> None:
        """alt+u, /unread: scroll to the "new" line, fetching older history first
        when the first unread message is older than the transcript holds."""
        screen = self._screen
        room = screen.room
        transcript = screen.transcript
        marker = marker if marker is not None else transcript.unread_seq
        if room is None or marker is None or marker > room.latest_seq:
            screen.notify("Nothing unread here")
            return
        held = [m.seq for m in transcript.messages if m.seq is not None]
        if held and min(held) <= marker and transcript.jump_to_unread():
            return
        screen._load_around(room.id, marker)

    def mark_unread(self) -> None:
        """/markunread: the room's last message becomes unread, and stays so while
        the room is on screen (reading resumes when the user comes back to it)."""
        screen = self._screen
        room = screen.room
        if room is None or not room.latest_seq:
            screen.notify("Nothing to mark unread here")
            return
        self.held_unread = room.id
        screen.transcript.set_unread_marker(room.latest_seq)

        async def run() -> None:
            try:
                await screen.client.mark_unread(room.id, room.latest_seq)
            except ClientError as exc:
                self.held_unread = None
                screen.notify(f"Could not mark {room.label} unread: {exc}", severity="error")

        screen.run_worker(run(), exit_on_error=False)

    def may_mark_read(self, room_id: int) -> bool:
        return self.held_unread != room_id

    def opened(self, room_id: int) -> None:
        """A room was opened: a hold on another room ends."""
        if self.held_unread != room_id:
            self.held_unread = None
