"""Rooms: channels anyone may join, private groups by invitation, one DM per pair.

Each change is committed first, then mirrored into the hub and announced:
``room_joined`` to the new member's sessions, ``member_joined`` to the others.
"""

from __future__ import annotations

import asyncio

from shared.codec import encode
from shared.errors import ErrorCode, ProtocolError
from shared.frames import (
    ChannelInfo,
    MemberJoined,
    MemberLeft,
    ReadMarkerMoved,
    RoomInfo,
    RoomJoined,
    RoomLeft,
    RoomUpdated,
    TopicChanged,
)
from shared.shapes import NotifyLevel
from tchat_server.hub import Hub
from tchat_server.services.accounts import DEFAULT_CHANNEL
from tchat_server.services.names import normalize_room_name
from tchat_server.services.permissions import Permissions
from tchat_server.storage.rooms import MembershipRow, RoomRow, RoomStore
from tchat_server.storage.users import UserRow, UserStore

__all__ = ["RoomService"]


class RoomService:
    def __init__(self, rooms: RoomStore, users: UserStore, hub: Hub) -> None:
        self._rooms = rooms
        self._users = users
        self._hub = hub
        self._dm_creation = asyncio.Lock()
        self.permissions = Permissions()
        """Replaced by the server's shared instance (bans are checked on join/invite)."""

    async def ensure_default_channel(self) -> None:
        """``#general`` exists from the first start."""
        if await self._rooms.get_by_name(DEFAULT_CHANNEL) is None:
            await self._rooms.create("channel", DEFAULT_CHANNEL, "Everyone, everything", None, [])

    # ----------------------------------------------------------- views

    async def room_infos(self, user_id: int, room_id: int | None = None) -> list[RoomInfo]:
        """The user's rooms (or one of them) with unread and mention counts."""
        rows = await self._rooms.memberships(user_id, room_id)
        return [await self._info(row, user_id) for row in rows]

    async def _info(self, row: MembershipRow, user_id: int) -> RoomInfo:
        partner = None
        name = row.room.name
        if row.room.kind == "dm":
            partner = await self._rooms.dm_partner(row.room.id, user_id)
            name = partner or name
        return RoomInfo(
            id=row.room.id,
            name=name,
            kind=row.room.kind,  # type: ignore[arg-type]
            topic=row.room.topic,
            member_count=row.member_count,
            latest_seq=row.room.latest_seq,
            last_read_seq=row.last_read_seq,
            unread=row.unread,
            mentions=row.mentions,
            dm_user=partner,
            others_read_seq=row.others_read_seq,
            latest_change=row.room.latest_change,
            notify=row.notify,  # type: ignore[arg-type]
            muted=row.notify_muted,
            role=row.role,  # type: ignore[arg-type]
            slow_mode=row.room.slow_mode,
            locked=row.room.locked,
            muted_until=row.muted_until,
        )

    async def channels(self, user_id: int) -> list[ChannelInfo]:
        return [
            ChannelInfo(
                id=room.id,
                name=room.name,
                topic=room.topic,
                member_count=count,
                joined=self._hub.is_member(room.id, user_id),
            )
            for room, count in await self._rooms.channels()
        ]

    async def member_names(self, room_id: int, user_id: int) -> list[str]:
        await self._visible_room(room_id, user_id)
        return await self._rooms.member_names(room_id)

    async def require_member(self, room_id: int, user_id: int) -> None:
        """Raise unless the user is in the room (a member costs no query):
        ``room_not_found`` for a room they may not know of, else ``not_member``."""
        if self._hub.is_member(room_id, user_id):
            return
        await self._visible_room(room_id, user_id)
        raise ProtocolError(ErrorCode.NOT_MEMBER, "you are not a member of that room")

    # --------------------------------------------------------- changes

    async def join(self, name: str, user: UserRow) -> RoomInfo:
        room_name = normalize_room_name(name)
        room = await self._rooms.get_by_name(room_name)
        if room is None or room.kind != "channel":
            # A private group's existence is not revealed.
            raise ProtocolError(ErrorCode.ROOM_NOT_FOUND, f"no channel named #{room_name}")
        if self._hub.is_member(room.id, user.id):
            raise ProtocolError(ErrorCode.ALREADY_MEMBER, f"you are already in #{room_name}")
        self.permissions.check_join(room.id, user.id)
        await self._add(room, user, by=None)
        return (await self.room_infos(user.id, room.id))[0]

    async def leave(self, room_id: int, user: UserRow) -> None:
        room = await self._visible_room(room_id, user.id)
        if room.kind == "dm":
            raise ProtocolError(ErrorCode.FORBIDDEN, "a direct conversation cannot be left")
        if room.kind == "channel" and room.name == DEFAULT_CHANNEL:
            raise ProtocolError(ErrorCode.FORBIDDEN, f"everyone stays in #{DEFAULT_CHANNEL}")
        if not self._hub.is_member(room_id, user.id):
            raise ProtocolError(ErrorCode.NOT_MEMBER, "you are not a member of that room")
        await self._rooms.remove_member(room_id, user.id)
        self._hub.remove_member(room_id, user.id)
        self.permissions.member_removed(room_id, user.id)
        self._hub.to_user(user.id, encode(RoomLeft(room=room_id)))
        self._hub.publish(room_id, encode(MemberLeft(room=room_id, user=user.name)))

    async def create(
        self, name: str, kind: str, topic: str, invitees: list[str], creator: UserRow
    ) -> RoomInfo:
        room_name = normalize_room_name(name)
        members = [await self._user(invitee) for invitee in dict.fromkeys(invitees)]
        people = [creator, *(m for m in members if m.id != creator.id)]
        room = await self._rooms.create(
            kind, room_name, topic.strip(), creator.id, [p.id for p in people]
        )
        if room is None:
            raise ProtocolError(ErrorCode.NAME_TAKEN, f"a room named {room_name} exists already")
        self.permissions.room_created(room.id, creator.id, creator.name)
        # Everyone is in the room before anyone hears of it: each room_joined
        # carries the full member count, and no message can come before it.
        infos = {p.id: (await self.room_infos(p.id, room.id))[0] for p in people}
        for person in people:
            self._hub.add_member(room.id, person.id)
            self._hub.to_user(person.id, encode(RoomJoined(room=infos[person.id])))
        return infos[creator.id]

    async def invite(self, room_id: int, username: str, inviter: UserRow) -> None:
        room = await self._visible_room(room_id, inviter.id)
        if not self._hub.is_member(room_id, inviter.id):
            raise ProtocolError(ErrorCode.NOT_MEMBER, "you are not a member of that room")
        if room.kind == "dm":
            raise ProtocolError(ErrorCode.FORBIDDEN, "a direct conversation has exactly two people")
        target = await self._user(username)
        if self._hub.is_member(room_id, target.id):
            raise ProtocolError(ErrorCode.ALREADY_MEMBER, f"{target.name} is already a member")
        self.permissions.check_join(room_id, target.id)
        await self._add(room, target, by=inviter.name)

    async def set_topic(self, room_id: int, topic: str, user: UserRow) -> None:
        room = await self._visible_room(room_id, user.id)
        if not self._hub.is_member(room_id, user.id):
            raise ProtocolError(ErrorCode.NOT_MEMBER, "you are not a member of that room")
        if room.kind == "dm":
            raise ProtocolError(ErrorCode.FORBIDDEN, "a direct conversation has no topic")
        text = " ".join(topic.split())
        await self._rooms.set_topic(room_id, text)
        self._hub.publish(room_id, encode(TopicChanged(room=room_id, topic=text, by=user.name)))

    async def dm_room(self, sender: UserRow, username: str) -> int:
        """The DM room between sender and a user, created (and announced) on first use."""
        target = await self._user(username)
        if target.disabled:
            raise ProtocolError(ErrorCode.USER_NOT_FOUND, f"no user named {username!r}")
        if target.id == sender.id:
            raise ProtocolError(ErrorCode.FORBIDDEN, "a direct message needs another person")
        existing = await self._rooms.get_dm(sender.id, target.id)
        if existing is not None and self._hub.is_member(existing.id, sender.id):
            return existing.id
        # One creation at a time: a first DM sent each way at once waits here until
        # the room is in the hub and announced, so neither is refused as not_member
        # and both users hear of the room before any message in it.
        async with self._dm_creation:
            room, created = await self._rooms.get_or_create_dm(
                sender.id,
                target.id,
                f"dm:{min(sender.name, target.name)}:{max(sender.name, target.name)}",
            )
            if created:
                for user in (sender, target):
                    self._hub.add_member(room.id, user.id)
                for user in (sender, target):
                    info = (await self.room_infos(user.id, room.id))[0]
                    self._hub.to_user(user.id, encode(RoomJoined(room=info)))
        return room.id

    async def mark_read(self, room_id: int, seq: int, user: UserRow) -> None:
        room = await self._visible_room(room_id, user.id)
        if not self._hub.is_member(room_id, user.id):
            raise ProtocolError(ErrorCode.NOT_MEMBER, "you are not a member of that room")
        moved = await self._rooms.mark_read(room_id, user.id, seq)
        if moved is None:
            return
        event = encode(ReadMarkerMoved(room=room_id, user=user.name, seq=moved))
        if room.kind == "channel":
            self._hub.to_user(user.id, event)
        else:
            self._hub.publish(room_id, event)

    async def set_notify(
        self, room_id: int, user: UserRow, level: NotifyLevel | None, muted: bool | None
    ) -> None:
        """Store the member's notification level and/or mute; their sessions get
        the room as it now is (``room_updated``)."""
        await self.require_member(room_id, user.id)
        if not await self._rooms.set_notify(room_id, user.id, level, muted):
            raise ProtocolError(ErrorCode.NOT_MEMBER, "you are not a member of that room")
        await self._room_updated(room_id, user.id)

    async def mark_unread(self, room_id: int, seq: int, user: UserRow) -> None:
        """Move the read marker (backwards too) so that ``seq`` is the first unread."""
        await self.require_member(room_id, user.id)
        if await self._rooms.mark_unread(room_id, user.id, seq) is None:
            raise ProtocolError(ErrorCode.NOT_MEMBER, "you are not a member of that room")
        await self._room_updated(room_id, user.id)

    async def _room_updated(self, room_id: int, user_id: int) -> None:
        infos = await self.room_infos(user_id, room_id)
        if infos:
            self._hub.to_user(user_id, encode(RoomUpdated(room=infos[0])))

    # --------------------------------------------------------- helpers

    async def _add(self, room: RoomRow, user: UserRow, by: str | None) -> None:
        if not await self._rooms.add_member(room.id, user.id):
            return
        await self.permissions.joined(room.id, user.id)  # a mute outlives leaving
        infos = await self.room_infos(user.id, room.id)
        try:  # a ban that committed since the check before the insert wins
            self.permissions.check_join(room.id, user.id)
        except ProtocolError:
            await self._rooms.remove_member(room.id, user.id)
            raise
        info = infos[0]
        # room_joined goes out as the hub starts fanning the room out to the user,
        # so no message of the room reaches them before it.
        self._hub.add_member(room.id, user.id)
        self._hub.to_user(user.id, encode(RoomJoined(room=info)))
        self._hub.publish(
            room.id, encode(MemberJoined(room=room.id, user=user.name, by=by)), exclude_user=user.id
        )

    async def _visible_room(self, room_id: int, user_id: int) -> RoomRow:
        """The room, if it exists and the user may know of it (channels: anyone;
        groups and DMs: members only)."""
        room = await self._rooms.get(room_id)
        if room is None or (room.kind != "channel" and not self._hub.is_member(room_id, user_id)):
            raise ProtocolError(ErrorCode.ROOM_NOT_FOUND, "no such room")
        return room

    async def _user(self, username: str) -> UserRow:
        user = await self._users.get_by_name(username.removeprefix("@"))
        if user is None:
            raise ProtocolError(ErrorCode.USER_NOT_FOUND, f"no user named {username!r}")
        return user
