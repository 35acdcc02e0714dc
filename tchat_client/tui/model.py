"""What the transcript shows, as plain data (no textual): ``ShownMessage``.

The app maps the client core's messages (``shared.frames.MessageInfo`` or its own
records) to these with ``ShownMessage.from_info``; the transcript never sees a frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

__all__ = ["DELIVERY_STATES", "DeliveryState", "MessageLike", "ShownMessage"]

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

    @property
    def pending(self) -> bool:
        """Not stored by the server yet."""
        return self.seq is None

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
