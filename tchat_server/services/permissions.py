"""Who may do what in a room: roles, bans, mutes, slow mode and room lock.

The other services ask here before they act (post, edit, react, join, delete
someone else's message); the answers come from memory, loaded at start and kept
in step by the moderation service after each commit, so a check never touches
SQLite.

Rank, highest first: server owner > server admin > room owner > room moderator >
member. A user's rank in a room is the higher of their server role and their room
role; moderation needs at least a moderator's rank and a target of lower rank.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable

from shared.errors import ErrorCode, ProtocolError
from shared.shapes import RoomRole, ServerRole
from tchat_server.storage.moderation import PermissionState

__all__ = [
    "ADMIN",
    "MEMBER",
    "MODERATOR",
    "OWNER",
    "ROOM_OWNER",
    "PermissionState",
    "Permissions",
]

MEMBER, MODERATOR, ROOM_OWNER, ADMIN, OWNER = 1, 2, 3, 4, 5
"""Ranks: a room member, a room moderator, a room owner, a server admin, the server owner."""

_SERVER_RANK = {"owner": OWNER, "admin": ADMIN}
_ROOM_RANK = {"owner": ROOM_OWNER, "moderator": MODERATOR}

Key = tuple[int, int]
"""(room_id, user_id)."""

DeleteHook = Callable[[int, int, int, int], Awaitable[None]]
RejoinHook = Callable[[int, int, float], Awaitable[None]]


class Permissions:
    """The in-memory rules. ``clock`` may be replaced (tests) to move time on."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._state = PermissionState()
        self._last_post: dict[Key, float] = {}
        self.on_moderator_delete: DeleteHook | None = None
        """Set by the moderation service: writes the audit row and tells the room."""
        self.on_muted_rejoin: RejoinHook | None = None
        """Set by the moderation service: writes a mute back to a new membership row."""

    def load(self, state: PermissionState) -> None:
        self._state = state
        self._last_post.clear()

    # ------------------------------------------------------------------ ranks

    def server_role(self, user_id: int) -> ServerRole:
        return self._state.server_roles.get(user_id, "member")

    def room_role(self, room_id: int, user_id: int) -> RoomRole:
        return self._state.room_roles.get((room_id, user_id), "member")

    def rank(self, room_id: int, user_id: int) -> int:
        server = _SERVER_RANK.get(self.server_role(user_id), MEMBER)
        return max(server, _ROOM_RANK.get(self.room_role(room_id, user_id), MEMBER))

    def is_moderated(self, room_id: int) -> bool:
        """A channel or group (a DM has no moderation)."""
        return room_id in self._state.moderated_rooms

    def can_moderate(self, room_id: int, user_id: int, over: int | None = None) -> bool:
        """A room owner or moderator, or a server owner or admin (never in a DM);
        with ``over`` (another user, e.g. a message's author), only if the user
        also outranks them."""
        if not self.is_moderated(room_id):
            return False
        rank = self.rank(room_id, user_id)
        if over is not None and over != user_id and self.rank(room_id, over) >= rank:
            return False
        return rank >= MODERATOR

    def muted_until(self, room_id: int, user_id: int) -> float | None:
        """0 (until unmuted) or when the mute ends; None when not muted (or it ended)."""
        until = self._state.mutes.get((room_id, user_id))
        if until is None or (until and until <= self.clock()):
            return None
        return until

    def ban_of(self, room_id: int, user_id: int) -> tuple[bool, float | None]:
        """(banned now, until): until is None for a ban without end."""
        key = (room_id, user_id)
        if key not in self._state.bans:
            return False, None
        until = self._state.bans[key]
        if until is not None and until <= self.clock():
            del self._state.bans[key]  # expired: forgotten (the row goes at next start)
            return False, None
        return True, until

    def slow_mode(self, room_id: int) -> int:
        return self._state.slow_mode.get(room_id, 0)

    def is_locked(self, room_id: int) -> bool:
        return room_id in self._state.locked

    def member_flags(self, room_id: int) -> dict[str, tuple[RoomRole, float | None]]:
        """Member name -> (room role, muted_until) for members that are not plain
        unmuted members (a member list fills in the rest)."""
        found: dict[str, tuple[RoomRole, float | None]] = {}
        users = {u for (r, u) in self._state.room_roles if r == room_id}
        users |= {u for (r, u) in self._state.mutes if r == room_id}
        for user_id in users:
            name = self._state.names.get(user_id)
            if name is not None:
                found[name] = (self.room_role(room_id, user_id), self.muted_until(room_id, user_id))
        return found

    # ----------------------------------------------------------------- checks

    def check_post(self, room_id: int, user_id: int, *, send: bool = False) -> None:
        """Before a send (``send=True``), an edit or a reaction.

        Raises:
            ProtocolError: ``muted``, ``room_locked``, ``slow_mode`` (sends only).
        """
        state = self._state
        key = (room_id, user_id)
        if key in state.mutes:
            until = state.mutes[key]
            now = self.clock()
            if not until or until > now:
                raise ProtocolError(
                    ErrorCode.MUTED,
                    "a moderator muted you in this room",
                    retry_after=until - now if until else None,
                )
        locked = room_id in state.locked
        slow = state.slow_mode.get(room_id, 0) if send else 0
        if not locked and not slow:
            return
        if self.rank(room_id, user_id) >= MODERATOR:
            return
        if locked:
            raise ProtocolError(ErrorCode.ROOM_LOCKED, "the room is locked: only moderators post")
        last = self._last_post.get(key)
        if last is not None:
            waited = self.clock() - last
            if waited < slow:
                raise ProtocolError(
                    ErrorCode.SLOW_MODE,
                    f"slow mode: one message every {slow} s",
                    retry_after=slow - waited,
                )

    def check_join(self, room_id: int, user_id: int) -> None:
        """Before a join or an invite.

        Raises:
            ProtocolError: ``banned``.
        """
        banned, until = self.ban_of(room_id, user_id)
        if banned and self.rank(room_id, user_id) < ADMIN:  # staff are never kept out
            raise ProtocolError(
                ErrorCode.BANNED,
                "banned from this room",
                retry_after=until - self.clock() if until is not None else None,
            )

    def posted(self, room_id: int, user_id: int, now: float) -> None:
        """A message was accepted for storage (slow mode counts from here)."""
        if room_id in self._state.slow_mode:
            self._last_post[(room_id, user_id)] = now

    async def deleted_by_moderator(
        self, actor_id: int, room_id: int, seq: int, author_id: int
    ) -> None:
        """A moderator deleted someone else's message: audit it, tell the room."""
        if self.on_moderator_delete is not None:
            await self.on_moderator_delete(actor_id, room_id, seq, author_id)

    async def joined(self, room_id: int, user_id: int) -> None:
        """A membership row was just made (join, invite): a mute that was running
        when the member left is written back to it, so leaving does not lift it."""
        until = self.muted_until(room_id, user_id)
        if until is not None and self.on_muted_rejoin is not None:
            await self.on_muted_rejoin(room_id, user_id, until)

    # ------------------------------------------------ changes (after commits)

    def room_created(self, room_id: int, owner_id: int | None, owner_name: str = "") -> None:
        """A channel or group was created; its creator owns it."""
        self._state.moderated_rooms.add(room_id)
        if owner_id is not None:
            self.set_room_role(room_id, owner_id, "owner", owner_name)

    def member_removed(self, room_id: int, user_id: int) -> None:
        """The member left or was removed: their room role went with the membership.
        A mute stays (in memory; at a restart it is found again in the audit log) so
        that leaving and joining again does not lift it."""
        self._state.room_roles.pop((room_id, user_id), None)
        self._last_post.pop((room_id, user_id), None)

    def set_server_role(self, user_id: int, role: str, name: str = "") -> None:
        if role in _SERVER_RANK:
            self._state.server_roles[user_id] = role  # type: ignore[assignment]
            self._remember(user_id, name)
        else:
            self._state.server_roles.pop(user_id, None)

    def replace_server_roles(self, roles: Iterable[tuple[int, str]]) -> None:
        """The server roles as the database has them now (the admin CLI may change them)."""
        self._state.server_roles = {
            user_id: role  # type: ignore[misc]
            for user_id, role in roles
            if role in _SERVER_RANK
        }

    def set_room_role(self, room_id: int, user_id: int, role: RoomRole, name: str = "") -> None:
        if role == "member":
            self._state.room_roles.pop((room_id, user_id), None)
        else:
            self._state.room_roles[(room_id, user_id)] = role
            self._remember(user_id, name)

    def set_mute(self, room_id: int, user_id: int, until: float | None, name: str = "") -> None:
        """``until``: 0 until unmuted, a time, or None to unmute."""
        if until is None:
            self._state.mutes.pop((room_id, user_id), None)
        else:
            self._state.mutes[(room_id, user_id)] = until
            self._remember(user_id, name)

    def set_ban(self, room_id: int, user_id: int, banned: bool, until: float | None = None) -> None:
        if banned:
            self._state.bans[(room_id, user_id)] = until
        else:
            self._state.bans.pop((room_id, user_id), None)

    def set_slow_mode(self, room_id: int, seconds: int) -> None:
        if seconds:
            self._state.slow_mode[room_id] = seconds
        else:
            self._state.slow_mode.pop(room_id, None)
            for key in [k for k in self._last_post if k[0] == room_id]:
                del self._last_post[key]

    def set_locked(self, room_id: int, locked: bool) -> None:
        if locked:
            self._state.locked.add(room_id)
        else:
            self._state.locked.discard(room_id)

    def _remember(self, user_id: int, name: str) -> None:
        if name:
            self._state.names[user_id] = name
