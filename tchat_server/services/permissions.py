"""Who may do what in a room: roles, bans, mutes, slow mode and room lock.

The other services ask here before they act (post, edit, react, join, delete
someone else's message); the answers come from memory, loaded at start and kept
in step by the moderation service, so a check never touches SQLite.
"""

from __future__ import annotations

from shared.shapes import RoomRole

__all__ = ["Permissions"]


class Permissions:
    """Rules with no moderation state yet: everyone is a plain member."""

    def room_role(self, room_id: int, user_id: int) -> RoomRole:
        return "member"

    def can_moderate(self, room_id: int, user_id: int) -> bool:
        """A room owner or moderator, or a server owner or admin."""
        return False

    def check_post(self, room_id: int, user_id: int) -> None:
        """Before a send, an edit or a reaction.

        Raises:
            ProtocolError: ``muted``, ``slow_mode`` (sends only), ``room_locked``.
        """

    def check_join(self, room_id: int, user_id: int) -> None:
        """Before a join or an invite.

        Raises:
            ProtocolError: ``banned``.
        """

    def posted(self, room_id: int, user_id: int, now: float) -> None:
        """A message was accepted for storage (slow mode counts from here)."""

    async def deleted_by_moderator(
        self, actor_id: int, room_id: int, seq: int, author_id: int
    ) -> None:
        """A moderator deleted someone else's message: audit it, tell the room."""
