"""Moderation: kick, ban, mute, room roles, slow mode and lock, each checked here.

Every action is decided against the in-memory ``Permissions`` (the actor's rank
must be a moderator's or more, and above the target's), then committed together
with its audit row, then mirrored into memory, then announced: ``room_moderated``
to the room (and to a removed member), ``room_updated`` to a member whose own
view of the room changed (role, mute).

Decisions (docs/PROTOCOL.md, "Moderation"):
- Server owners and admins moderate any channel or group, member or not; room
  owners and moderators only their room (their role ends with their membership).
- In ``#general`` only server owners and admins kick or ban (nobody else can put
  a user out of the room everyone is in).
- A ban may name someone who is not a member (it keeps them out); kick, mute and
  set_role need a member (``not_member``).
- Unban and unmute of someone not banned or muted are accepted and change nothing
  (no audit row, no event).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, TypeVar

from shared.codec import encode
from shared.errors import ErrorCode, ProtocolError
from shared.frames import MemberLeft, RoomLeft, RoomUpdated
from shared.frames_moderation import ModerationAction, RoomModerated
from shared.shapes import RoomRole
from tchat_server.hub import Hub
from tchat_server.services.accounts import DEFAULT_CHANNEL
from tchat_server.services.permissions import ADMIN, MODERATOR, ROOM_OWNER, Permissions
from tchat_server.services.rooms import RoomService
from tchat_server.storage.moderation import AuditEntry, AuditRow, ModerationStore
from tchat_server.storage.rooms import RoomRow, RoomStore
from tchat_server.storage.users import UserRow, UserStore

__all__ = ["Actor", "ModerationService"]

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Actor:
    id: int
    name: str


def _one_at_a_time(
    method: Callable[Concatenate[ModerationService, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[ModerationService, P], Coroutine[Any, Any, R]]:
    """Actions run one after another, so memory is updated in commit order (a mute
    and an unmute sent at once cannot end with memory and database disagreeing)."""

    @functools.wraps(method)
    async def serialized(service: ModerationService, /, *args: P.args, **kwargs: P.kwargs) -> R:
        async with service._turn:
            return await method(service, *args, **kwargs)

    return serialized


class ModerationService:
    def __init__(
        self,
        store: ModerationStore,
        rooms: RoomStore,
        users: UserStore,
        hub: Hub,
        room_service: RoomService,
        permissions: Permissions,
    ) -> None:
        self._store = store
        self._rooms = rooms
        self._users = users
        self._hub = hub
        self._room_service = room_service
        self.permissions = permissions
        self._turn = asyncio.Lock()
        permissions.on_moderator_delete = self.deleted_by_moderator
        permissions.on_muted_rejoin = store.restore_mute

    async def load(self) -> None:
        """Read the permission state into memory (at start)."""
        self.permissions.load(await self._store.load(self.permissions.clock()))

    async def refresh_server_roles(self) -> None:
        """Pick up server roles the admin CLI changed in another process."""
        self.permissions.replace_server_roles(await self._store.server_roles())

    async def audit_log(self, room: str | None = None, limit: int = 100) -> list[AuditRow]:
        """The newest ``limit`` audited actions (of one room, by name), newest first."""
        return await self._store.audit_log(room, limit)

    # ---------------------------------------------------------------- actions

    @_one_at_a_time
    async def kick(self, actor: Actor, room_id: int, username: str, reason: str) -> None:
        room = await self._authorize(actor, room_id)
        self._general_guard(room, actor)
        target = await self._target(actor, room, username, member=True)
        entry = self._entry(actor, "kick", room, target, reason=reason)
        if not await self._store.remove(room.id, target.id, entry):
            raise ProtocolError(ErrorCode.NOT_MEMBER, f"{target.name} is not a member")
        event = RoomModerated(
            room=room.id, action="kick", by=actor.name, user=target.name, reason=reason
        )
        self._removed(room, target, actor, "kicked", event)

    @_one_at_a_time
    async def ban(
        self, actor: Actor, room_id: int, username: str, duration: float | None, reason: str
    ) -> None:
        room = await self._authorize(actor, room_id)
        self._general_guard(room, actor)
        target = await self._target(actor, room, username, member=False)
        until = self.permissions.clock() + duration if duration is not None else None
        entry = self._entry(
            actor, "ban", room, target, reason=reason, duration=duration, until=until
        )
        was_member = await self._store.ban(room.id, target.id, until, reason, entry)
        self.permissions.set_ban(room.id, target.id, True, until)
        event = RoomModerated(
            room=room.id, action="ban", by=actor.name, user=target.name, reason=reason, until=until
        )
        if was_member:
            self._removed(room, target, actor, "banned", event)
        else:
            self._hub.publish(room.id, encode(event))

    @_one_at_a_time
    async def unban(self, actor: Actor, room_id: int, username: str) -> None:
        room = await self._authorize(actor, room_id)
        target = await self._target(actor, room, username, member=False)
        if not self.permissions.ban_of(room.id, target.id)[0]:
            return  # not banned, or the ban ended: nothing to undo (its row goes at start)
        if await self._store.unban(room.id, target.id, self._entry(actor, "unban", room, target)):
            self.permissions.set_ban(room.id, target.id, False)
            self._announce(room, "unban", actor, target)

    @_one_at_a_time
    async def mute(
        self, actor: Actor, room_id: int, username: str, duration: float | None, reason: str
    ) -> None:
        room = await self._authorize(actor, room_id)
        target = await self._target(actor, room, username, member=True)
        until = self.permissions.clock() + duration if duration is not None else None
        entry = self._entry(
            actor, "mute", room, target, reason=reason, duration=duration, until=until
        )
        await self._set_member(room, target, "muted_until", until or 0.0, entry)
        self.permissions.set_mute(room.id, target.id, until or 0.0, target.name)
        self._announce(room, "mute", actor, target, reason=reason, until=until)
        await self._room_updated(room.id, target.id)

    @_one_at_a_time
    async def unmute(self, actor: Actor, room_id: int, username: str) -> None:
        room = await self._authorize(actor, room_id)
        target = await self._target(actor, room, username, member=True)
        if self.permissions.muted_until(room.id, target.id) is None:
            self.permissions.set_mute(room.id, target.id, None)  # an ended mute: forgotten
            return
        entry = self._entry(actor, "unmute", room, target)
        await self._set_member(room, target, "muted_until", None, entry)
        self.permissions.set_mute(room.id, target.id, None)
        self._announce(room, "unmute", actor, target)
        await self._room_updated(room.id, target.id)

    @_one_at_a_time
    async def set_role(self, actor: Actor, room_id: int, username: str, role: RoomRole) -> None:
        room = await self._authorize(actor, room_id, need=ROOM_OWNER)
        target = await self._target(actor, room, username, member=True)
        entry = self._entry(actor, "role", room, target, role=role)
        await self._set_member(room, target, "role", role, entry)
        self.permissions.set_room_role(room.id, target.id, role, target.name)
        self._announce(room, "role", actor, target, role=role)
        await self._room_updated(room.id, target.id)

    @_one_at_a_time
    async def set_slow_mode(self, actor: Actor, room_id: int, seconds: int) -> None:
        room = await self._authorize(actor, room_id)
        entry = self._entry(actor, "slow_mode", room, None, seconds=seconds)
        await self._store.set_room(room.id, "slow_mode", seconds, entry)
        self.permissions.set_slow_mode(room.id, seconds)
        self._announce(room, "slow_mode", actor, None, seconds=seconds)

    @_one_at_a_time
    async def lock(self, actor: Actor, room_id: int, locked: bool) -> None:
        room = await self._authorize(actor, room_id)
        action: ModerationAction = "lock" if locked else "unlock"
        await self._store.set_room(room.id, "locked", int(locked), self._entry(actor, action, room))
        self.permissions.set_locked(room.id, locked)
        self._announce(room, action, actor, None)

    async def deleted_by_moderator(
        self, actor_id: int, room_id: int, seq: int, author_id: int
    ) -> None:
        """Tell the room that a moderator deleted someone else's message (the
        delete's own transaction wrote the audit row: storage/changes.py)."""
        names = await self._users.get_names([actor_id, author_id])
        event = RoomModerated(
            room=room_id,
            action="delete",
            by=names.get(actor_id, ""),
            user=names.get(author_id),
            seq=seq,
        )
        self._hub.publish(room_id, encode(event))

    # ---------------------------------------------------------------- checks

    async def _authorize(self, actor: Actor, room_id: int, need: int = MODERATOR) -> RoomRow:
        """The room, if the actor may moderate it with at least rank ``need``."""
        room = await self._rooms.get(room_id)
        server_staff = self.permissions.rank(room_id, actor.id) >= ADMIN
        member = self._hub.is_member(room_id, actor.id)
        if room is None or (room.kind != "channel" and not member and not server_staff):
            raise ProtocolError(ErrorCode.ROOM_NOT_FOUND, "no such room")
        if room.kind == "dm":
            raise ProtocolError(ErrorCode.FORBIDDEN, "a direct conversation has no moderation")
        if self.permissions.rank(room_id, actor.id) < need:
            what = "the room's owner" if need >= ROOM_OWNER else "a moderator"
            raise ProtocolError(ErrorCode.FORBIDDEN, f"only {what} may do that here")
        return room

    def _general_guard(self, room: RoomRow, actor: Actor) -> None:
        general = room.kind == "channel" and room.name == DEFAULT_CHANNEL
        if general and self.permissions.rank(room.id, actor.id) < ADMIN:
            raise ProtocolError(
                ErrorCode.FORBIDDEN, f"only server admins remove people from #{room.name}"
            )

    async def _target(self, actor: Actor, room: RoomRow, username: str, *, member: bool) -> UserRow:
        target = await self._users.get_by_name(username.removeprefix("@"))
        if target is None:
            raise ProtocolError(ErrorCode.USER_NOT_FOUND, f"no user named {username!r}")
        if self.permissions.rank(room.id, target.id) >= self.permissions.rank(room.id, actor.id):
            raise ProtocolError(
                ErrorCode.FORBIDDEN, f"{target.name} has a rank equal to or above yours"
            )
        if member and not await self._rooms.is_member(room.id, target.id):
            raise ProtocolError(ErrorCode.NOT_MEMBER, f"{target.name} is not a member")
        return target

    # --------------------------------------------------------------- helpers

    @staticmethod
    def _entry(
        actor: Actor,
        action: str,
        room: RoomRow,
        target: UserRow | None = None,
        **detail: object,
    ) -> AuditEntry:
        kept = {k: v for k, v in detail.items() if v not in (None, "")}
        return AuditEntry(actor.id, action, room.id, target.id if target else None, kept)

    async def _set_member(
        self, room: RoomRow, target: UserRow, column: str, value: object, entry: AuditEntry
    ) -> None:
        if not await self._store.set_member(room.id, target.id, column, value, entry):
            raise ProtocolError(ErrorCode.NOT_MEMBER, f"{target.name} is not a member")

    def _announce(
        self,
        room: RoomRow,
        action: ModerationAction,
        actor: Actor,
        target: UserRow | None,
        **fields: object,
    ) -> None:
        event = RoomModerated(
            room=room.id,
            action=action,
            by=actor.name,
            user=target.name if target else None,
            **fields,  # type: ignore[arg-type]
        )
        self._hub.publish(room.id, encode(event))

    def _removed(
        self, room: RoomRow, target: UserRow, actor: Actor, how: str, event: RoomModerated
    ) -> None:
        """After a kick or ban: the target hears why, then loses the room; the room
        hears both."""
        self._hub.remove_member(room.id, target.id)
        self.permissions.member_removed(room.id, target.id)
        data = encode(event)
        self._hub.to_user(target.id, data)
        self._hub.to_user(target.id, encode(RoomLeft(room=room.id)))
        left = MemberLeft(room=room.id, user=target.name, how=how, by=actor.name)  # type: ignore[arg-type]
        self._hub.publish(room.id, encode(left))
        self._hub.publish(room.id, data)

    async def _room_updated(self, room_id: int, user_id: int) -> None:
        """The target's own view of the room changed (role, mute)."""
        if not self._hub.is_online(user_id):
            return
        infos = await self._room_service.room_infos(user_id, room_id)
        for info in infos:
            self._hub.to_user(user_id, encode(RoomUpdated(room=info)))
