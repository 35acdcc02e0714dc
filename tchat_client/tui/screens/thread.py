"""The thread view: a message and its replies in a panel over the room, with a
composer that replies into the thread. Escape (from the composer) closes it.

It asks the client for the thread once (``Client.thread``) and then follows the
client's events itself: a new reply to the parent is appended, a changed message
(an edit, a tombstone, reactions, the reply count) is shown as it now is. Keys on
a selected message are the same as in the room (``MessageActions``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message as TextualMessage
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from tchat_client.core import Client, ClientError
from tchat_client.core import events as ev
from tchat_client.core.models import Message
from tchat_client.sanitize import visible_line
from tchat_client.tui.message_actions import MessageActions, MessageKeys, store_delivered
from tchat_client.tui.model import ShownMessage
from tchat_client.tui.widgets.composer import Composer
from tchat_client.tui.widgets.transcript import Transcript

__all__ = ["ThreadScreen"]


class ThreadTranscript(Transcript):
    """A thread's transcript holds every reply it loaded: the thread view does not
    page older replies back in, so nothing may be dropped from its top."""

    MAX_SHOWN: ClassVar[int] = 2**31


class _Changed(TextualMessage):
    """A client change event, delivered on the screen's own queue."""

    def __init__(self, event: ev.ChangeEvent) -> None:
        super().__init__()
        self.event = event


def _shown(message: Message) -> ShownMessage:
    """A message in the thread view: replies need no quote of the parent above."""
    return replace(ShownMessage.from_message(message), reply=None, reply_to=None)


class ThreadScreen(MessageKeys, ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Close thread", id="thread.close"),
    ]

    DEFAULT_CSS = """
    ThreadScreen {
        align: right top;
    }
    ThreadScreen > Vertical {
        width: 64%;
        min-width: 60;
        height: 100%;
        border-left: vkey $primary;
        background: $surface;
    }
    ThreadScreen #thread-title {
        height: 1;
        padding: 0 1;
        background: $panel;
        text-style: bold;
    }
    ThreadScreen Transcript {
        height: 1fr;
    }
    """

    def __init__(
        self,
        client: Client,
        room_id: int,
        seq: int,
        *,
        loaded: tuple[Message, list[Message]] | None = None,
    ) -> None:
        """``loaded``: the parent and replies when already known (pictures and
        tests without a server); otherwise they are fetched."""
        super().__init__()
        self.client = client
        self.room_id = room_id
        self.parent_seq = seq
        self._loaded = loaded
        self._unsubscribe: Callable[[], None] | None = None
        self.actions = MessageActions(
            self,  # type: ignore[arg-type]
            client,
            lambda: self.transcript,
            lambda: self.composer,
            lambda: self.room_id,
        )

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._title(), id="thread-title")
            yield ThreadTranscript(me=self.client.state.me or None, id="thread-transcript")
            yield Composer(id="thread-composer", placeholder="Reply in the thread…")
        yield Footer()

    @property
    def transcript(self) -> Transcript:
        return self.query_one(Transcript)

    @property
    def composer(self) -> Composer:
        return self.query_one(Composer)

    def _title(self, count: int | None = None) -> Text:
        room = self.client.state.rooms.get(self.room_id)
        title = Text("Thread")
        if room is not None:
            title.append(f" in {visible_line(room.label)}", style="bold")
        if count is not None:
            title.append(f" · {count} {'reply' if count == 1 else 'replies'}", style="dim")
        title.append("   Esc closes", style="dim")
        return title

    def on_mount(self) -> None:
        self.transcript.has_older = False

        def forward(event: ev.ChangeEvent) -> None:
            self.post_message(_Changed(event))

        self._unsubscribe = self.client.subscribe(forward)
        if self._loaded is not None:
            self._show(*self._loaded)
        else:
            self._fetch()
        self.composer.focus()

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    @work(group="thread", exclusive=True, exit_on_error=False)
    async def _fetch(self) -> None:
        try:
            parent, replies = await self.client.thread(self.room_id, self.parent_seq)
        except ClientError as exc:
            self.notify(visible_line(str(exc)), title="Could not open the thread", severity="error")
            self.dismiss(None)
            return
        self._show(parent, replies)

    def _show(self, parent: Message, replies: list[Message]) -> None:
        self.parent_seq = parent.seq or self.parent_seq
        pending = [
            m for m in self.client.state.outgoing_in(self.room_id) if m.reply_to == self.parent_seq
        ]
        self.transcript.extend(_shown(m) for m in [parent, *replies, *pending])
        self._count()

    def _count(self) -> None:
        replies = [m for m in self.transcript.messages if m.seq != self.parent_seq]
        self.query_one("#thread-title", Static).update(self._title(len(replies)))

    # ------------------------------------------------------------ events

    @on(_Changed)
    def _changed(self, message: _Changed) -> None:
        event = message.event
        if isinstance(event, ev.MessageAdded):
            added = event.message
            if added.room == self.room_id and added.reply_to == self.parent_seq:
                self.transcript.append(_shown(added))
                self._count()
        elif isinstance(event, ev.MessageChanged):
            if event.message.room == self.room_id:
                self.transcript.replace(_shown(event.message))
        elif isinstance(event, ev.MessageStateChanged) and event.room_id in (self.room_id, None):
            store_delivered(self.transcript, self.client, event, _shown)
            self.transcript.set_state(event.client_msg_id, event.state)
            self._count()

    # ------------------------------------------------------------ the user

    @on(Composer.Submitted)
    def _submitted(self, event: Composer.Submitted) -> None:
        event.stop()
        if self.actions.submitted(event.text):
            return
        try:
            self.client.send(self.room_id, event.text, reply_to=self.parent_seq)
        except ClientError as exc:
            self.notify(visible_line(str(exc)), severity="error", markup=False)
            return
        event.composer.remember(event.text)
        event.composer.clear()

    def action_close(self) -> None:
        if self.actions.cancel():
            return
        self.dismiss(None)
