"""Handlers for the commands that change or gather existing messages (edit, delete,
react, thread) and a member's own view of a room (set_notify, mark_unread).

Registered in ``TchatServer.start`` through ``Dispatcher(extra_handlers=...)``; the
dispatcher turns any ``ProtocolError`` raised here into an ``error`` frame.
"""

from __future__ import annotations

from shared.codec import encode
from shared.frames import (
    Delete,
    Edit,
    MarkUnread,
    Ok,
    React,
    SetNotify,
    Thread,
    ThreadPage,
)
from tchat_server.dispatch import Handler
from tchat_server.services.changes import ChangeService
from tchat_server.services.messages import MessageService, to_info
from tchat_server.services.rooms import RoomService
from tchat_server.session import Session
from tchat_server.storage.users import UserRow

__all__ = ["ChangeHandlers"]


class ChangeHandlers:
    def __init__(
        self, changes: ChangeService, messages: MessageService, rooms: RoomService
    ) -> None:
        self._changes = changes
        self._messages = messages
        self._rooms = rooms

    def handlers(self) -> dict[type, Handler]:
        return {
            Edit: self._edit,
            Delete: self._delete,
            React: self._react,
            Thread: self._thread,
            SetNotify: self._set_notify,
            MarkUnread: self._mark_unread,
        }

    async def _edit(self, session: Session, frame: Edit) -> None:
        await self._rooms.require_member(frame.room, session.user_id)
        await self._changes.edit(frame.room, frame.seq, session.user_id, frame.body)
        session.push(encode(Ok(rid=frame.rid)))

    async def _delete(self, session: Session, frame: Delete) -> None:
        await self._rooms.require_member(frame.room, session.user_id)
        await self._changes.delete(frame.room, frame.seq, session.user_id)
        session.push(encode(Ok(rid=frame.rid)))

    async def _react(self, session: Session, frame: React) -> None:
        await self._rooms.require_member(frame.room, session.user_id)
        await self._changes.react(
            frame.room, frame.seq, session.user_id, frame.emoji, remove=frame.remove
        )
        session.push(encode(Ok(rid=frame.rid)))

    async def _thread(self, session: Session, frame: Thread) -> None:
        await self._rooms.require_member(frame.room, session.user_id)
        thread = await self._messages.thread(
            frame.room, session.user_id, frame.seq, frame.after, frame.limit
        )
        page = ThreadPage(
            room=frame.room,
            parent=to_info(thread.parent),
            replies=[to_info(row) for row in thread.replies],
            more=thread.more,
            rid=frame.rid,
        )
        session.push(encode(page))

    async def _set_notify(self, session: Session, frame: SetNotify) -> None:
        await self._rooms.set_notify(frame.room, _user(session), frame.level, frame.muted)
        session.push(encode(Ok(rid=frame.rid)))

    async def _mark_unread(self, session: Session, frame: MarkUnread) -> None:
        await self._rooms.mark_unread(frame.room, frame.seq, _user(session))
        session.push(encode(Ok(rid=frame.rid)))


def _user(session: Session) -> UserRow:
    return UserRow(session.user_id, session.user_name, "", session.is_admin, False, 0.0)
