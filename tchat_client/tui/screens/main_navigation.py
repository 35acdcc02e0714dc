"""The main screen's ways to reach a message or a room elsewhere: the quick
switcher (ctrl+k), search (ctrl+f) and jumping to a result in its context, loading
the history between it and what the transcript holds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.screen import Screen

from tchat_client.core import Client, ClientError
from tchat_client.core.models import Message
from tchat_client.tui.directory import room_label, switch_targets
from tchat_client.tui.model import ShownMessage

if TYPE_CHECKING:
    from tchat_client.tui.screens.commands import SlashRunner
    from tchat_client.tui.widgets.composer import Composer
    from tchat_client.tui.widgets.transcript import Transcript

__all__ = ["JUMP_LIMIT", "Navigation"]

JUMP_LIMIT = 2000
"""Most messages loaded to reach a search result older than the transcript holds."""


class Navigation(Screen[None]):
    """A base of the main screen, which provides what is declared here."""

    client: Client
    active: int | None
    _runner: SlashRunner

    if TYPE_CHECKING:

        @property
        def transcript(self) -> Transcript: ...

        @property
        def composer(self) -> Composer: ...

        def open_room(self, room_id: int) -> None: ...

    def action_switcher(self) -> None:
        from tchat_client.tui.screens.switcher import QuickSwitcher

        def chosen(choice: int | str | None) -> None:
            if isinstance(choice, int):
                self.open_room(choice)
            elif isinstance(choice, str):
                self._runner.open_dm(choice.removeprefix("@"))
            self.composer.focus()

        self.app.push_screen(QuickSwitcher(self.switch_targets()), chosen)

    def action_search(self) -> None:
        from tchat_client.tui.screens.search import SearchScreen

        def chosen(message: Message | None) -> None:
            if message is not None:
                self.jump_to(message)
            self.composer.focus()

        self.app.push_screen(SearchScreen(self.client.search, self._room_label), chosen)

    def _room_label(self, room_id: int | None) -> str:
        return room_label(self.client.state, room_id)

    def jump_to(self, message: Message) -> None:
        """Open the message's room and scroll to it, loading history down to it
        first when the transcript does not hold it yet."""
        if message.room is None or message.seq is None:
            return
        self.open_room(message.room)
        if self.active == message.room and not self.transcript.scroll_to_seq(message.seq):
            self._load_around(message.room, message.seq)

    @work(group="jump", exclusive=True, exit_on_error=False)
    async def _load_around(self, room_id: int, seq: int) -> None:
        # Everything from a little before the message to what is shown already, so
        # that the transcript stays one unbroken run of messages.
        room = self.client.state.rooms.get(room_id)
        held = [m.seq for m in self.transcript.messages if m.seq is not None]
        before = min(held) if held else None
        top = (before if before is not None else (room.latest_seq if room else seq) + 1) - 1
        limit = top - max(seq - 25, 1) + 1
        if limit > JUMP_LIMIT:
            self.notify("That message is too far back to show here", severity="warning")
            return
        try:
            messages = await self.client.history(room_id, before=before, limit=max(limit, 1))
        except ClientError as exc:
            self.notify(f"Could not load history: {exc}", severity="warning")
            return
        if room_id != self.active:
            return
        seqs = [m.seq for m in messages if m.seq is not None]
        seqs += [m.seq for m in self.transcript.messages if m.seq is not None]
        self.transcript.prepend(
            [ShownMessage.from_message(m) for m in messages], more=bool(seqs) and min(seqs) > 1
        )
        if not self.transcript.scroll_to_seq(seq):
            self.notify("That message is no longer there", severity="warning")

    def switch_targets(self) -> list[tuple[str, int | str, str]]:
        """(label, target, hint) for the quick switcher: rooms, then people to DM."""
        return switch_targets(self.client.state)
