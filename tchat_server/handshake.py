"""The first frame of a connection: authenticate it, welcome the user, resume rooms.

Kept apart from the socket code so that the order that matters is easy to see:
the session is attached to the hub *holding* live events, the resume replays what
the client missed, then the held events follow, minus what the replay covered (as
are live copies of replayed messages published later: see ``Session.release``).
After the messages, the changes (``hello.changes``) to those the client holds are
replayed as ``message_updated``, before ``resumed``.
"""

from __future__ import annotations

import msgspec

from shared.codec import encode
from shared.errors import ErrorCode, ProtocolError
from shared.frames import (
    PROTOCOL_VERSION,
    ClientFrame,
    Hello,
    Limits,
    Login,
    MessagePosted,
    MessageUpdated,
    Register,
    Resumed,
    ResumeInfo,
    RoomInfo,
    UserInfo,
    Welcome,
)
from tchat_server.config import ServerConfig
from tchat_server.hub import Hub
from tchat_server.services.accounts import AccountService, Authenticated
from tchat_server.services.files import chunk_size_for
from tchat_server.services.messages import MessageService, to_info
from tchat_server.services.presence import PresenceService
from tchat_server.services.rooms import RoomService
from tchat_server.session import Session

__all__ = ["SERVER_NAME", "Handshake"]

SERVER_NAME = "tchat-server/0.1.0"


class Handshake:
    def __init__(
        self,
        config: ServerConfig,
        accounts: AccountService,
        rooms: RoomService,
        messages: MessageService,
        presence: PresenceService,
        hub: Hub,
        epoch: str,
    ) -> None:
        self._config = config
        self._accounts = accounts
        self._rooms = rooms
        self._messages = messages
        self._presence = presence
        self._hub = hub
        self._epoch = epoch
        self._limits = Limits(
            max_body=config.max_body,
            max_frame=config.max_frame,
            history_page=config.history_page,
            resume_cap=config.resume_cap,
            typing_interval=config.typing_interval,
            typing_expiry=config.typing_expiry,
            max_file=config.max_file,
            file_chunk=chunk_size_for(config.max_frame),
        )

    async def authenticate(
        self, frame: ClientFrame, address: str, pre_authenticated: Authenticated | None
    ) -> Authenticated:
        """Check the first frame and who it speaks for.

        Raises:
            ProtocolError: auth_required, unsupported_protocol, or the account error.
        """
        if not isinstance(frame, Hello | Login | Register):
            raise ProtocolError(
                ErrorCode.AUTH_REQUIRED, "the first frame must be hello, login or register"
            )
        if frame.protocol != PROTOCOL_VERSION:
            raise ProtocolError(
                ErrorCode.UNSUPPORTED_PROTOCOL,
                f"this server speaks protocol {PROTOCOL_VERSION}, not {frame.protocol}",
            )
        if isinstance(frame, Hello):
            if pre_authenticated is not None:
                return pre_authenticated
            if not frame.token:
                raise ProtocolError(ErrorCode.AUTH_REQUIRED, "hello needs a token")
            return await self._accounts.authenticate(frame.token)
        if isinstance(frame, Login):
            return await self._accounts.login(frame.username, frame.password, address, frame.client)
        return await self._accounts.register(
            frame.username, frame.password, frame.invite, frame.client, address
        )

    async def welcome(self, session: Session, auth: Authenticated, frame: ClientFrame) -> None:
        """Attach the session, send the welcome and, for a hello, the resume."""
        # Attached first, holding live events: nothing posted from here on is missed.
        session.hold()
        first = self._hub.attach(session)
        # The server role as stored now (the admin CLI may have changed it).
        self._rooms.permissions.set_server_role(auth.user.id, auth.user.role, auth.user.name)
        rooms = await self._rooms.room_infos(session.user_id)
        # Memberships made outside this process (the admin CLI adds new users to
        # #general) reach the hub here. They are not announced: clients that
        # connected after the change already count them in their welcome.
        for room in rooms:
            self._hub.add_member(room.id, session.user_id)
        self._presence.connected(session.user_id, session.user_name, first)
        welcome = Welcome(
            protocol=PROTOCOL_VERSION,
            server=SERVER_NAME,
            epoch=self._epoch,
            user=UserInfo(
                name=auth.user.name,
                admin=auth.user.is_admin,
                role=auth.user.role,  # type: ignore[arg-type]
            ),
            rooms=rooms,
            presence=self._presence.snapshot_for(session.user_id),
            limits=self._limits,
            token=auth.token,
        )
        # The welcome goes ahead of anything held; the replay follows it.
        held_release: dict[int, int] = {}
        session.push_direct(encode(welcome))
        if isinstance(frame, Hello) and frame.resume:
            epoch_ok = frame.epoch == self._epoch
            if epoch_ok:
                latest = {room.id: room.latest_seq for room in rooms}
                resume = await self._messages.resume(session.user_id, frame.resume, latest)
                for row in resume.messages:
                    session.push_direct(encode(MessagePosted(message=to_info(row))))
                    held_release[row.room_id] = max(held_release.get(row.room_id, 0), row.seq)
                infos = await self._replay_changes(session, frame, rooms, resume.rooms)
                session.push_direct(encode(Resumed(rooms=infos)))
            else:
                session.push_direct(encode(Resumed(rooms=[], epoch_ok=False)))
        # Held ``message_updated`` frames carry no seq, so the release keeps them all:
        # each holds the whole message, and the newest state comes last.
        session.release(held_release)

    async def _replay_changes(
        self, session: Session, frame: Hello, rooms: list[RoomInfo], infos: list[ResumeInfo]
    ) -> list[ResumeInfo]:
        """After the messages: those the client holds that changed since its cursor
        (``hello.changes``), as ``message_updated``; each room's summary gets its
        next cursor. ``latest_change`` was read (with the welcome) before the changes,
        so a change made meanwhile is replayed or sent live, never skipped."""
        changed = await self._messages.resume_changes(session.user_id, frame.changes, frame.resume)
        for rows in changed.values():
            for row in rows or ():
                session.push_direct(encode(MessageUpdated(message=to_info(row))))
        latest_change = {room.id: room.latest_change for room in rooms}
        return [
            msgspec.structs.replace(
                info,
                latest_change=latest_change.get(info.room, 0),
                changes_replayed=len(changed.get(info.room) or ()),
                changes_truncated=info.room in changed and changed[info.room] is None,
            )
            for info in infos
        ]
