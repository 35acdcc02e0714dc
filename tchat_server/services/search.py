"""The rules of search: parse the query, resolve its ``from:`` and ``in:`` names,
and search only the rooms the user is a member of (the store's SQL enforces it).

``in:`` never reveals a room the user may not know of: a private group they are not
in, or someone else's DM, is answered exactly like a room that does not exist.
"""

from __future__ import annotations

from shared.errors import ErrorCode, ProtocolError
from shared.search import parse_query
from tchat_server.hub import Hub
from tchat_server.storage.messages import MessageRow
from tchat_server.storage.rooms import RoomStore
from tchat_server.storage.search import SearchFilter, SearchStore
from tchat_server.storage.users import UserStore

__all__ = ["SearchService"]


class SearchService:
    def __init__(self, store: SearchStore, rooms: RoomStore, users: UserStore, hub: Hub) -> None:
        self._store = store
        self._rooms = rooms
        self._users = users
        self._hub = hub

    async def search(
        self, user_id: int, text: str, limit: int, before_id: int | None = None
    ) -> tuple[list[MessageRow], bool]:
        """Matching messages newest first, and whether more exist.

        Raises:
            ProtocolError: ``query_invalid``, ``user_not_found`` (``from:``),
                ``room_not_found`` or ``not_member`` (``in:``).
        """
        query = parse_query(text)
        author_id = None
        if query.from_user is not None:
            author = await self._users.get_by_name(query.from_user)
            if author is None:
                raise ProtocolError(ErrorCode.USER_NOT_FOUND, f"no user named {query.from_user!r}")
            author_id = author.id
        room_id = None
        if query.in_room is not None:
            room_id = await self._room(user_id, query.in_room)
        where = SearchFilter(
            user_id=user_id,
            match=query.match,
            author_id=author_id,
            room_id=room_id,
            since=query.since,
            until=query.until,
            before_id=before_id,
            has_file=query.has_file,
        )
        return await self._store.search(where, limit)

    async def _room(self, user_id: int, name: str) -> int:
        not_found = ProtocolError(ErrorCode.ROOM_NOT_FOUND, f"no room {name} among yours")
        if name.startswith("@"):
            other = await self._users.get_by_name(name[1:])
            room = await self._rooms.get_dm(user_id, other.id) if other is not None else None
        else:
            room = await self._rooms.get_by_name(name.removeprefix("#"))
        if room is None:
            raise not_found
        if self._hub.is_member(room.id, user_id):
            return room.id
        if room.kind == "channel":
            raise ProtocolError(ErrorCode.NOT_MEMBER, f"join #{room.name} to search it")
        raise not_found  # a group or DM of others: as if it did not exist
