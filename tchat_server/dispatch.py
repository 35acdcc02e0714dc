"""Turns each decoded command of an authenticated session into a service call and
its answer. No websockets here: answers are pushed onto the session's queue.

Every failure becomes an ``error`` frame naming the request (``rid`` or
``client_msg_id``); nothing a client sends can raise past this module.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from shared.codec import encode
from shared.errors import ErrorCode, ProtocolError
from shared.frames import (
    Ack,
    ChannelList,
    ClientFrame,
    CreateRoom,
    Error,
    History,
    HistoryPage,
    Invite,
    Join,
    Leave,
    ListChannels,
    Logout,
    MarkRead,
    MemberInfo,
    MemberList,
    Members,
    Ok,
    Ping,
    Pong,
    Search,
    SearchResults,
    Send,
    SetPresence,
    SetTopic,
    Typing,
)
from tchat_server.services.accounts import AccountService
from tchat_server.services.messages import MessageService, to_info
from tchat_server.services.presence import PresenceService
from tchat_server.services.rooms import RoomService
from tchat_server.services.search import SearchService
from tchat_server.session import Session
from tchat_server.storage.db import StorageUnavailable
from tchat_server.storage.messages import MessageRow
from tchat_server.storage.users import UserRow

__all__ = ["Dispatcher", "error_frame"]

log = logging.getLogger("tchat.server")

Handler = Callable[[Session, Any], Awaitable[None]]


def error_frame(
    exc: ProtocolError, rid: str | None = None, client_msg_id: str | None = None
) -> bytes:
    return encode(
        Error(
            code=exc.code.value,
            message=exc.message,
            rid=exc.rid or rid,
            client_msg_id=exc.client_msg_id or client_msg_id,
            retry_after=round(exc.retry_after, 3) if exc.retry_after else None,
        )
    )


class Dispatcher:
    def __init__(
        self,
        accounts: AccountService,
        rooms: RoomService,
        messages: MessageService,
        presence: PresenceService,
        on_logout: Callable[[Session, bool], None],
        *,
        search: SearchService,
        extra_handlers: dict[type, Handler] | None = None,
    ) -> None:
        self._accounts = accounts
        self._rooms = rooms
        self._messages = messages
        self._presence = presence
        self._on_logout = on_logout
        self._search = search
        self._handlers: dict[type, Handler] = {
            Search: self._search_messages,
            Send: self._send,
            History: self._history,
            Join: self._join,
            Leave: self._leave,
            CreateRoom: self._create,
            Invite: self._invite,
            SetTopic: self._topic,
            ListChannels: self._list_channels,
            Members: self._members,
            SetPresence: self._set_presence,
            Typing: self._typing,
            MarkRead: self._mark_read,
            Logout: self._logout,
            Ping: self._ping,
        }
        # Feature handlers (dispatch_changes, dispatch_files, dispatch_moderation).
        self._handlers.update(extra_handlers or {})
        self._ack_tasks: set[asyncio.Task[None]] = set()

    async def handle(self, session: Session, frame: ClientFrame) -> None:
        rid = getattr(frame, "rid", None)
        cid = getattr(frame, "client_msg_id", None)
        handler = self._handlers.get(type(frame))
        try:
            if handler is None:
                raise ProtocolError(
                    ErrorCode.BAD_FRAME,
                    f"{type(frame).__name__.lower()} is only valid as the first frame",
                )
            await handler(session, frame)
        except ProtocolError as exc:
            session.push(error_frame(exc, rid, cid))
        except StorageUnavailable as exc:
            log.warning("storage unavailable while handling %s: %s", type(frame).__name__, exc)
            unavailable = ProtocolError(
                ErrorCode.UNAVAILABLE, "the server cannot store that right now; retry"
            )
            session.push(error_frame(unavailable, rid, cid))
        except Exception:
            log.exception("internal error while handling %s", type(frame).__name__)
            session.push(error_frame(ProtocolError(ErrorCode.INTERNAL, "internal error"), rid, cid))

    @staticmethod
    def _user(session: Session) -> UserRow:
        return UserRow(session.user_id, session.user_name, "", session.is_admin, False, 0.0)

    # ------------------------------------------------------------ messages

    async def _send(self, session: Session, frame: Send) -> None:
        if (frame.room is None) == (frame.dm is None):
            raise ProtocolError(ErrorCode.BAD_FRAME, "set exactly one of `room` and `dm`")
        if frame.room is not None:
            room_id = frame.room
            await self._rooms.require_member(room_id, session.user_id)
        else:
            assert frame.dm is not None
            self._messages.check_body(
                frame.body, frame.client_msg_id, allow_empty=frame.file is not None
            )
            room_id = await self._rooms.dm_room(self._user(session), frame.dm)
        future = await self._messages.post(
            room_id,
            session.user_id,
            session.user_name,
            frame.client_msg_id,
            frame.body,
            reply_to=frame.reply_to,
            file_id=frame.file,
        )
        # The ack waits for the commit in its own task, so the session keeps reading
        # (and pipelined sends batch into one commit); submission order is seq order.
        task = asyncio.get_running_loop().create_task(self._ack(session, frame, room_id, future))
        self._ack_tasks.add(task)
        task.add_done_callback(self._ack_tasks.discard)

    async def _ack(
        self, session: Session, frame: Send, room_id: int, future: asyncio.Future[MessageRow]
    ) -> None:
        try:
            row = await future
        except StorageUnavailable:
            exc = ProtocolError(
                ErrorCode.UNAVAILABLE, "the server cannot store messages right now; retry"
            )
            session.push(error_frame(exc, frame.rid, frame.client_msg_id))
            return
        except Exception:
            log.exception("storing a message failed")
            exc = ProtocolError(ErrorCode.INTERNAL, "internal error")
            session.push(error_frame(exc, frame.rid, frame.client_msg_id))
            return
        # A repeat must be the same message (the body as stored: trailing space trimmed);
        # anything else is a client reusing an id, and acking it would lose the message.
        if row.duplicate and (row.room_id != room_id or row.body != frame.body.rstrip()):
            exc = ProtocolError(
                ErrorCode.CLIENT_MSG_ID_REUSED,
                "that client_msg_id was already used for another message",
            )
            session.push(error_frame(exc, frame.rid, frame.client_msg_id))
            return
        session.push(
            encode(
                Ack(
                    client_msg_id=row.client_msg_id,
                    room=row.room_id,
                    seq=row.seq,
                    id=row.id,
                    ts=row.created_at,
                    rid=frame.rid,
                    duplicate=row.duplicate,
                )
            )
        )

    async def _history(self, session: Session, frame: History) -> None:
        await self._rooms.require_member(frame.room, session.user_id)
        rows, more = await self._messages.history(
            frame.room, session.user_id, frame.before, frame.after, frame.limit
        )
        page = HistoryPage(
            room=frame.room, messages=[to_info(r) for r in rows], more=more, rid=frame.rid
        )
        session.push(encode(page))

    async def _search_messages(self, session: Session, frame: Search) -> None:
        rows, more = await self._search.search(
            session.user_id, frame.query, frame.limit, frame.before_id
        )
        # Search reads the basic columns: show each message as it now is, and never
        # a tombstone (a filters-only query can match one).
        rows = [row for row in await self._messages.current(rows) if not row.deleted]
        answer = SearchResults(messages=[to_info(r) for r in rows], more=more, rid=frame.rid)
        session.push(encode(answer))

    # --------------------------------------------------------------- rooms

    async def _join(self, session: Session, frame: Join) -> None:
        await self._rooms.join(frame.name, self._user(session))
        session.push(encode(Ok(rid=frame.rid)))

    async def _leave(self, session: Session, frame: Leave) -> None:
        await self._rooms.leave(frame.room, self._user(session))
        session.push(encode(Ok(rid=frame.rid)))

    async def _create(self, session: Session, frame: CreateRoom) -> None:
        await self._rooms.create(
            frame.name, frame.kind, frame.topic, frame.members, self._user(session)
        )
        session.push(encode(Ok(rid=frame.rid)))

    async def _invite(self, session: Session, frame: Invite) -> None:
        await self._rooms.invite(frame.room, frame.user, self._user(session))
        session.push(encode(Ok(rid=frame.rid)))

    async def _topic(self, session: Session, frame: SetTopic) -> None:
        await self._rooms.set_topic(frame.room, frame.topic, self._user(session))
        session.push(encode(Ok(rid=frame.rid)))

    async def _list_channels(self, session: Session, frame: ListChannels) -> None:
        channels = await self._rooms.channels(session.user_id)
        session.push(encode(ChannelList(channels=channels, rid=frame.rid)))

    async def _members(self, session: Session, frame: Members) -> None:
        names = await self._rooms.member_names(frame.room, session.user_id)
        ids = self._presence.known_names()
        by_name = {name: uid for uid, name in ids.items()}
        flags = self._rooms.permissions.member_flags(frame.room)  # roles and mutes
        members: list[MemberInfo] = []
        for name in names:
            uid = by_name.get(name)
            status, text = self._presence.status_of(uid) if uid is not None else ("offline", "")
            role, muted_until = flags.get(name, ("member", None))
            members.append(
                MemberInfo(user=name, status=status, text=text, role=role, muted_until=muted_until)  # type: ignore[arg-type]
            )
        session.push(encode(MemberList(room=frame.room, members=members, rid=frame.rid)))

    async def _mark_read(self, session: Session, frame: MarkRead) -> None:
        await self._rooms.mark_read(frame.room, frame.seq, self._user(session))
        if frame.rid is not None:
            session.push(encode(Ok(rid=frame.rid)))

    # ------------------------------------------------------------ presence

    async def _set_presence(self, session: Session, frame: SetPresence) -> None:
        self._presence.set_status(session.user_id, frame.status, frame.text)
        session.push(encode(Ok(rid=frame.rid)))

    async def _typing(self, session: Session, frame: Typing) -> None:
        self._presence.typing(session.user_id, session.user_name, frame.room)

    # ------------------------------------------------------------- session

    async def _logout(self, session: Session, frame: Logout) -> None:
        if frame.everywhere:
            await self._accounts.logout_everywhere(session.user_id)
        else:
            await self._accounts.logout(session.token_hash)
        session.push(encode(Ok(rid=frame.rid)))
        self._on_logout(session, frame.everywhere)

    async def _ping(self, session: Session, frame: Ping) -> None:
        session.push(encode(Pong(ts=time.time(), rid=frame.rid)))
