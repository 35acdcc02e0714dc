"""What the keys on a selected message do: reply, edit, delete, react, open the
thread, mark unread from here, download the file.

The transcript only says which action the user asked for on which message
(``Transcript.Acted``); ``MessageActions`` turns that into client calls and into
the composer's modes, for any screen that has a transcript and a composer (the
main screen and the thread view). The keys, in one scheme:

* up in an empty composer selects the newest message; up/down move, Escape (or
  down past the newest) goes back to the composer;
* on the selection: ``r`` reply, ``t``/Enter thread, ``a``/``+`` react, ``e``
  edit (one's own), ``d``/Delete delete (one's own, or any as a moderator, after
  a yes), ``u`` mark unread from here, ``o`` download the file;
* replying and editing happen in the composer, whose border then says so; Enter
  sends or saves, Escape cancels.

The server decides every action: a refusal (``RequestFailed``) is shown as a
toast with its message. The client refuses beforehand only what the rules make
certain (editing someone else's message, acting on a tombstone).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from rich.text import Text
from textual.content import Content

from tchat_client.core import Client, ClientError
from tchat_client.core.errors import RequestFailed
from tchat_client.core.events import MessageStateChanged
from tchat_client.core.models import Message
from tchat_client.sanitize import visible_line
from tchat_client.tui.model import ShownMessage

if TYPE_CHECKING:
    from textual.screen import Screen

    from tchat_client.tui.widgets.composer import Composer
    from tchat_client.tui.widgets.transcript import Transcript
    from tchat_client.tui.widgets.transcript_select import Acted, Left

__all__ = [
    "MessageActions",
    "MessageKeys",
    "Mode",
    "frequent_emoji",
    "snippet",
    "store_delivered",
]

SNIPPET = 60
"""Characters of a message quoted in the composer's border and in questions."""


def snippet(message: ShownMessage, width: int = SNIPPET) -> str:
    """One line of a message's body for a quote (``…`` when cut)."""
    if message.deleted:
        return "deleted message"
    text = " ".join(visible_line(message.body).split())
    if not text and message.file is not None:
        text = f"📎 {visible_line(message.file.name)}"
    return text if len(text) <= width else text[: width - 1] + "…"


def frequent_emoji(client: Client, limit: int = 8) -> list[str]:
    """The emoji the user reacted with most in the messages held, most used first."""
    me = client.state.me
    counts: dict[str, int] = {}
    for room_id in client.state.rooms:
        for message in client.state.messages(room_id):
            for reaction in message.reactions:
                if me in reaction.users:
                    counts[reaction.emoji] = counts.get(reaction.emoji, 0) + 1
    return sorted(counts, key=lambda e: -counts[e])[:limit]


def store_delivered(
    transcript: Transcript,
    client: Client,
    event: MessageStateChanged,
    convert: Callable[[Message], ShownMessage] = ShownMessage.from_message,
) -> None:
    """One of ours got its seq: show the stored message in place of the pending
    one, so that it can be selected (edited, deleted...) like any other."""
    if event.seq is None or event.room_id is None:
        return
    stored = client.state.message(event.room_id, event.seq)
    if stored is not None:
        transcript.append(convert(stored))


@dataclass(frozen=True, slots=True)
class Mode:
    """What the composer is doing besides writing a new message."""

    kind: Literal["reply", "edit"]
    room: int
    seq: int
    draft: str = ""
    """What the composer held before an edit filled it (given back on Escape)."""


class MessageActions:
    """The actions on selected messages for one screen.

    Args:
        screen: Where toasts and modals go.
        client: Who does the work.
        transcript: The screen's transcript.
        composer: The screen's composer.
        room: The room shown now (None: none).
        open_thread: Shows the thread of a message (None: this is the thread view).
    """

    def __init__(
        self,
        screen: Screen[object],
        client: Client,
        transcript: Callable[[], Transcript],
        composer: Callable[[], Composer],
        room: Callable[[], int | None],
        open_thread: Callable[[int, int], None] | None = None,
    ) -> None:
        self.screen = screen
        self.client = client
        self._transcript = transcript
        self._composer = composer
        self._room = room
        self._open_thread = open_thread
        self.mode: Mode | None = None
        self._was_following = False
        """The transcript followed new messages when the selection began."""

    # ------------------------------------------------------------ selection

    def start_selection(self) -> bool:
        """Up in an empty composer: select the newest message and give the
        transcript the keys. False when there is nothing to select."""
        transcript = self._transcript()
        if not any(m.actionable for m in transcript.messages):
            return False
        self._was_following = transcript.is_vertical_scroll_end
        transcript.focus()
        transcript.action_select(-1)
        return True

    def left(self) -> None:
        """The user left the selection: back to writing, and back to the newest
        messages if that is where the selection began."""
        if self._was_following:
            self._transcript().scroll_end(animate=False, immediate=True)
        self._composer().focus()

    def acted(self, action: str, message: ShownMessage) -> None:
        """Route one ``Transcript.Acted``."""
        if message.seq is None:
            return
        handler = getattr(self, f"_{action}", None)
        if handler is not None:
            handler(message, message.seq)

    # ------------------------------------------------------------ composer

    def submitted(self, text: str) -> bool:
        """Enter in the composer: True when the mode took the text (an edit)."""
        mode = self.mode
        if mode is None or mode.kind != "edit":
            return False
        if not text.strip():
            self._toast("A message needs some text (to delete it, use d on it)")
            return True

        async def save() -> None:
            await self.client.edit(mode.room, mode.seq, text.rstrip())
            if self.mode == mode:
                self._set_mode(None)
                self._composer().clear()

        self._run(save(), "Could not edit")
        return True

    def reply_target(self, room_id: int) -> int | None:
        """The seq a message sent now to ``room_id`` answers (None: none)."""
        mode = self.mode
        if mode is not None and mode.kind == "reply" and mode.room == room_id:
            return mode.seq
        return None

    def sent(self) -> None:
        """A message went out: a reply mode has done its job."""
        if self.mode is not None and self.mode.kind == "reply":
            self._set_mode(None)

    def cancel(self) -> bool:
        """Escape in the composer: leave a reply or edit mode (True if there was one)."""
        mode = self.mode
        if mode is None:
            return False
        self._set_mode(None)
        if mode.kind == "edit":
            self._composer().load_text(mode.draft)
            self._composer().move_cursor(self._composer().document.end)
        return True

    def room_opened(self, room_id: int) -> None:
        """Another room is on screen: a mode for a message elsewhere ends."""
        if self.mode is not None and self.mode.room != room_id:
            self.cancel()

    def _set_mode(self, mode: Mode | None, message: ShownMessage | None = None) -> None:
        self.mode = mode
        composer = self._composer()
        if mode is None or message is None:
            composer.border_title = None
            composer.border_subtitle = None
            return
        if mode.kind == "reply":
            title = f"Replying to {visible_line(message.author)}: {snippet(message, 50)}"
        else:
            title = "Editing your message"
        composer.border_title = Content(title)
        composer.border_subtitle = Content("Enter sends · Esc cancels")

    # ------------------------------------------------------------ actions

    def _reply(self, message: ShownMessage, seq: int) -> None:
        if self._refuse_tombstone(message):
            return
        if self._open_thread is None:  # the thread view: every message replies here
            self._composer().focus()
            return
        self._transcript().select(None)
        self._set_mode(Mode("reply", message.room, seq), message)
        self.left()

    def _edit(self, message: ShownMessage, seq: int) -> None:
        if message.author != self.client.state.me:
            self._toast("You can only edit your own messages")
            return
        if self._refuse_tombstone(message):
            return
        composer = self._composer()
        draft = composer.text if self.mode is None else ""
        self._transcript().select(None)
        self._set_mode(Mode("edit", message.room, seq, draft), message)
        composer.load_text(message.body)
        composer.move_cursor(composer.document.end)
        self.left()

    def _delete(self, message: ShownMessage, seq: int) -> None:
        from tchat_client.tui.screens.confirm import ConfirmScreen

        if message.deleted:
            self._toast("That message is already deleted")
            return
        own = message.author == self.client.state.me
        room = self.client.state.rooms.get(message.room)
        if not own and not (room is not None and room.can_moderate):
            self._toast("Only the author or a moderator can delete a message")
            return
        question = "Delete your message?" if own else f"Delete {message.author}'s message?"
        detail = Text(snippet(message))

        def answered(yes: bool | None) -> None:
            if yes:
                self._run(self.client.delete(message.room, seq), "Could not delete")

        self.screen.app.push_screen(ConfirmScreen(visible_line(question), detail), answered)

    def _react(self, message: ShownMessage, seq: int) -> None:
        from tchat_client.tui.screens.reactions import ReactionPicker

        if self._refuse_tombstone(message):
            return
        me = self.client.state.me
        given = {r.emoji for r in message.reactions if me in r.users}

        def picked(choice: str | None) -> None:
            if choice is None:
                return
            remove = choice in given
            call = self.client.react(message.room, seq, choice, remove=remove)
            self._run(call, "Could not react")

        title = f"React to {message.author}: {snippet(message, 30)}"
        picker = ReactionPicker(title=title, frequent=frequent_emoji(self.client), given=given)
        self.screen.app.push_screen(picker, picked)

    def _thread(self, message: ShownMessage, seq: int) -> None:
        if self._open_thread is None:
            self._composer().focus()
            return
        self._open_thread(message.room, message.reply_to or seq)

    def _unread(self, message: ShownMessage, seq: int) -> None:
        if self._open_thread is None:
            self._toast("Mark unread from the room, not from a thread")
            return
        room_id = message.room
        catch_up = getattr(self.screen, "catch_up", None)
        if catch_up is not None:
            catch_up.held_unread = room_id  # not marked read again while on screen
        transcript = self._transcript()
        transcript.set_unread_marker(seq)

        async def mark() -> None:
            await self.client.mark_unread(room_id, seq)
            self.screen.notify("Marked unread from here", timeout=3)

        self._run(mark(), "Could not mark unread")

    def _open(self, message: ShownMessage, seq: int) -> None:
        card = message.file
        if card is None:
            self._toast("That message has no file")
            return
        try:
            from tchat_client.tui.transfers_ui import download_file
        except ImportError:
            self._toast("Downloads are not available in this version")
            return
        self._run(download_file(self.screen, self.client, card), "Could not download")

    # ------------------------------------------------------------ helpers

    def _refuse_tombstone(self, message: ShownMessage) -> bool:
        if message.deleted:
            self._toast("That message was deleted")
        return message.deleted

    def _toast(self, text: str) -> None:
        self.screen.notify(text, severity="warning", markup=False)

    def _run(self, call: Awaitable[None], failed: str) -> None:
        """Run a client call in the background; a refusal becomes a toast."""

        async def run() -> None:
            try:
                await call
            except RequestFailed as exc:
                self.screen.notify(
                    visible_line(exc.message), title=failed, severity="error", markup=False
                )
            except ClientError as exc:
                self.screen.notify(
                    visible_line(str(exc)), title=failed, severity="error", markup=False
                )

        self.screen.run_worker(run(), group="message-actions", exit_on_error=False)


class MessageKeys:
    """Mixed into a screen that has ``actions``: routes the composer's and the
    transcript's messages about selection to it."""

    actions: MessageActions

    def on_composer_up_from_empty(self, event: Composer.UpFromEmpty) -> None:
        event.stop()
        if not self.actions.start_selection():
            event.composer.app.bell()

    def on_transcript_acted(self, event: Acted) -> None:
        event.stop()
        self.actions.acted(event.action, event.message)

    def on_transcript_left(self, event: Left) -> None:
        event.stop()
        self.actions.left()
