"""Changes to messages after they are stored: edit, delete, react.

The rules (who may, what body, which emoji) are checked here; the store applies
each change in one transaction that also takes the room's next change number, and
then the whole message as it now is goes to the room as ``message_updated``.
"""

from __future__ import annotations

import emoji as emoji_lib

from shared.codec import encode
from shared.errors import ErrorCode, ProtocolError
from shared.frames import MessageUpdated
from tchat_server.hub import Hub
from tchat_server.services.messages import MessageService, to_info
from tchat_server.storage.changes import Changed, ChangeStore

__all__ = ["MAX_EMOJI", "ChangeService", "normalize_emoji"]

MAX_EMOJI = 20
"""Different emoji one message may carry."""


def normalize_emoji(text: str) -> str | None:
    """The one emoji ``text`` is (``👍``, or a shortcode such as ``:thumbsup:``), in
    one canonical spelling (``❤`` and ``❤️`` are the same reaction); None if it is
    not exactly one emoji."""
    candidate = emoji_lib.emojize(text.strip(), language="alias")
    if not emoji_lib.is_emoji(candidate):
        return None
    canonical = emoji_lib.emojize(emoji_lib.demojize(candidate, language="alias"), language="alias")
    return canonical if emoji_lib.is_emoji(canonical) else candidate


class ChangeService:
    def __init__(self, store: ChangeStore, messages: MessageService, hub: Hub) -> None:
        self._store = store
        self._messages = messages
        self._hub = hub

    async def edit(self, room_id: int, seq: int, user_id: int, body: str) -> None:
        """Replace the body of one's own message.

        Raises:
            ProtocolError: not_member, empty_body, body_too_long, muted, room_locked,
                message_not_found (unknown or deleted), forbidden (not the author).
        """
        self._require_member(room_id, user_id)
        text = self._messages.check_body(body)
        self._messages.permissions.check_post(room_id, user_id)
        self._announce(room_id, await self._store.edit(room_id, seq, user_id, text))

    async def delete(self, room_id: int, seq: int, user_id: int) -> None:
        """Leave a tombstone: one's own message, or anyone's for a moderator.
        Deleting a tombstone again is a no-op.

        Raises:
            ProtocolError: not_member, message_not_found, forbidden.
        """
        self._require_member(room_id, user_id)
        author = await self._store.author_of(room_id, seq)  # a moderator must outrank it
        moderator = self._messages.permissions.can_moderate(room_id, user_id, over=author)
        result = await self._store.delete(room_id, seq, user_id, any_author=moderator)
        self._announce(room_id, result)
        if result.message is not None and result.message.author_id != user_id:
            await self._messages.permissions.deleted_by_moderator(
                user_id, room_id, seq, result.message.author_id
            )

    async def react(
        self, room_id: int, seq: int, user_id: int, emoji: str, *, remove: bool = False
    ) -> None:
        """Add (or take back) one's reaction; repeating either is a no-op.

        Raises:
            ProtocolError: not_member, emoji_invalid, muted, room_locked,
                message_not_found, too_many_reactions.
        """
        self._require_member(room_id, user_id)
        canonical = normalize_emoji(emoji)
        if canonical is None:
            raise ProtocolError(
                ErrorCode.EMOJI_INVALID, "a reaction is one emoji or its :shortcode:"
            )
        self._messages.permissions.check_post(room_id, user_id)
        result = await self._store.react(
            room_id, seq, user_id, canonical, remove=remove, max_emoji=MAX_EMOJI
        )
        self._announce(room_id, result)

    def _require_member(self, room_id: int, user_id: int) -> None:
        if not self._hub.is_member(room_id, user_id):
            raise ProtocolError(ErrorCode.NOT_MEMBER, "you are not a member of that room")

    def _announce(self, room_id: int, result: Changed) -> None:
        """Raise the refusal, or tell the room (after the commit) what changed."""
        if result.outcome == "not_found":
            raise ProtocolError(ErrorCode.MESSAGE_NOT_FOUND, "no such message in that room")
        if result.outcome == "forbidden":
            raise ProtocolError(ErrorCode.FORBIDDEN, "that is not your message")
        if result.outcome == "too_many":
            raise ProtocolError(
                ErrorCode.TOO_MANY_REACTIONS,
                f"a message holds at most {MAX_EMOJI} different emoji",
            )
        if result.message is not None:
            event = encode(MessageUpdated(message=to_info(result.message)))
            self._hub.publish(room_id, event)
