"""What the transcript shows, as plain data (no textual): ``ShownMessage``.

The screens map the client core's messages to these with
``ShownMessage.from_message`` (or a wire ``MessageInfo`` with ``from_info``); the
transcript never sees a frame. A *notice* is a system line that belongs to no seq
(``bob was muted by alice``): it has no author and sits after the messages that
were shown when it came.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from tchat_client.core.models import FileCard, Message, ReactionCount, ReplyPreview

__all__ = [
    "DELIVERY_STATES",
    "DeliveryState",
    "FileCard",
    "MessageLike",
    "ReactionCount",
    "ReplyPreview",
    "ShownMessage",
]

DeliveryState = Literal["queued", "sent", "delivered", "read", "failed"]
"""Where one of the user's own messages is (the client core's ``MessageState``): in
the outbox (``queued``), written to the socket (``sent``), acknowledged by the server
with a seq (``delivered``), passed by another member's read marker (``read``), or
refused for good (``failed``)."""

DELIVERY_STATES: tuple[DeliveryState, ...] = ("queued", "sent", "delivered", "read", "failed")


class MessageLike(Protocol):
    """Anything shaped like ``shared.frames.MessageInfo``."""

    @property
    def room(self) -> int: ...
    @property
    def seq(self) -> int: ...
    @property
    def id(self) -> int: ...
    @property
    def author(self) -> str: ...
    @property
    def body(self) -> str: ...
    @property
    def ts(self) -> float: ...
    @property
    def client_msg_id(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class ShownMessage:
    """One message as the transcript shows it.

    A pending message (the user's own, not yet stored by the server) has no ``seq``
    and no ``id``; ``ts`` is then the local time it was written. ``state`` is set
    only on the user's own messages.
    """

    room: int
    seq: int | None
    id: int | None
    author: str
    body: str
    ts: float
    client_msg_id: str | None = None
    state: DeliveryState | None = None
    reply_to: int | None = None
    reply: ReplyPreview | None = None
    """The quote of the parent, drawn above the body (None: not a reply, or a
    thread view that shows the parent anyway)."""
    reply_count: int = 0
    edited: bool = False
    deleted: bool = False
    reactions: tuple[ReactionCount, ...] = ()
    file: FileCard | None = None
    notice: bool = False
    """A system line (``body`` is its text), not a message."""

    @property
    def pending(self) -> bool:
        """Not stored by the server yet (a notice is never pending)."""
        return self.seq is None and not self.notice

    @property
    def actionable(self) -> bool:
        """A stored message one can reply to, react to, open the thread of."""
        return self.seq is not None and not self.notice

    @classmethod
    def from_info(cls, info: MessageLike, state: DeliveryState | None = None) -> ShownMessage:
        """The transcript's view of a stored message."""
        return cls(
            room=info.room,
            seq=info.seq,
            id=info.id,
            author=info.author,
            body=info.body,
            ts=info.ts,
            client_msg_id=info.client_msg_id,
            state=state,
        )

    @classmethod
    def from_message(cls, message: Message) -> ShownMessage:
        """The transcript's view of a client message, with everything that changes
        after it is stored (replies, edits, a tombstone, reactions, a file)."""
        return cls(
            room=message.room or 0,
            seq=message.seq,
            id=message.id,
            author=message.author,
            body=message.body,
            ts=message.ts,
            client_msg_id=message.client_msg_id,
            state=message.state,
            reply_to=message.reply_to,
            reply=message.reply,
            reply_count=message.reply_count,
            edited=message.edited is not None,
            deleted=message.deleted,
            reactions=message.reactions,
            file=message.file if not message.deleted else None,
        )

    @classmethod
    def make_notice(cls, room: int, text: str, ts: float) -> ShownMessage:
        return cls(room=room, seq=None, id=None, author="", body=text, ts=ts, notice=True)
