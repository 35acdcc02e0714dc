"""``Client``: the facade the CLI, the TUI and the tests drive.

It wires the connection, the state, the cache, the outbox and the sender, and
offers what a user does: send (to the outbox first, returning the
``client_msg_id`` at once), wait for delivery, page history, join, leave,
create, invite, set a topic or a presence, type, mark read. Edits, deletes,
reactions, threads and notification levels are in ``actions.py`` (``Client``
inherits them), moderation in ``client.moderation``. The state's change events
are the way to watch everything else.

    async with Client(profile) as client:      # shows the cache, connects, resumes
        cid = client.send_to("#general", "hi")
        await client.wait_delivered(cid)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from types import TracebackType
from typing import Any, Literal, TypeVar

import msgspec

from shared import frames as wire
from tchat_client.core.actions import MessageActions, check_message, outgoing_message
from tchat_client.core.cache import Cache
from tchat_client.core.connection import Backoff, Connection
from tchat_client.core.errors import (
    ClientError,
    ConnectionLost,
    NotConnected,
    UnknownTarget,
)
from tchat_client.core.events import ChangeEvent
from tchat_client.core.link import Link
from tchat_client.core.models import Member, Message, Room
from tchat_client.core.moderation import Moderation
from tchat_client.core.outbox import Outbox, OutboxEntry
from tchat_client.core.profile import Profile
from tchat_client.core.requests import Requester
from tchat_client.core.sender import Sender
from tchat_client.core.state import State
from tchat_client.core.subscribers import EventStream
from tchat_client.core.sync import Sync
from tchat_client.core.targets import parse_target, resolve_target
from tchat_client.core.transfers import Transfers

__all__ = ["Client"]

T = TypeVar("T")

OUTBOX_POLL = 2.0
"""Seconds between checks for messages another process queued (``tchat send --queue``)."""


class Client(MessageActions):
    def __init__(
        self,
        profile: Profile,
        *,
        client_name: str = "tchat",
        prefetch: bool = True,
        fail_fast: bool = False,
        backoff: Backoff | None = None,
        open_timeout: float = 10.0,
        request_timeout: float = 30.0,
    ) -> None:
        """``prefetch``: fetch the newest page of rooms with nothing cached (a UI
        wants them; a one-shot command does not). ``fail_fast``: give up when the
        first connection attempt fails instead of retrying (scripts)."""
        self.profile = profile
        self.state = State()
        self.cache = Cache(profile.cache_path)
        self.outbox = Outbox(profile.outbox_path)
        self._link = Link()
        self._connection = Connection(
            profile.server,
            backoff=backoff,
            open_timeout=open_timeout,
            fail_fast=fail_fast,
            user_agent=f"tchat ({client_name})",
        )
        self._sender = Sender(self.outbox, self.state, self._connection, self._link.pulse)
        self._requests = Requester(
            self._connection, self._link, self.state, self.cache, request_timeout
        )
        self._sync = Sync(
            profile,
            self.state,
            self.cache,
            self._sender,
            self._requests,
            self._link,
            client_name=client_name,
            prefetch=prefetch,
        )
        self._sync.on_caught_up.append(self._send_marks)
        self._marks: dict[int, int] = {}
        self._typing_sent: dict[int, float] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.files = Transfers(self)
        """Uploads and downloads (``client.files.upload(room_id, path)``)."""
        self.moderation = Moderation(self.call)
        """Kick, ban, mute, roles, slow mode, lock (``client.moderation.kick(...)``)."""
        self._loaded = False
        self._started = False

    # ------------------------------------------------------------ lifetime

    def load(self) -> None:
        """Fill the state from the cache and the outbox (no network): enough to show
        rooms and recent messages offline, and to queue messages by name."""
        if self._loaded:
            return
        self._loaded = True
        self.cache.trim()
        rooms = self.cache.rooms()
        messages = [m for room in rooms for m in self.cache.recent(room.id)]
        self.state.load(self.cache.user or self.profile.user, self.cache.epoch, rooms, messages)
        for entry in self.outbox.entries():
            self.state.outgoing_added(outgoing_message(self.state, entry))

    async def start(self, *, wait: bool = True) -> None:
        """Load, then connect. With ``wait``, return once connected and caught up
        (raising why not: ``AuthError``, or with ``fail_fast`` ``Unreachable``);
        without, keep connecting in the background (watch ``ConnectionChanged``)."""
        if not self._started:
            self._started = True
            self.load()
            self._connection.start(self._sync)
            self._spawn(self._watch_outbox())
        if wait:
            await self.wait_ready()

    async def wait_ready(self) -> None:
        """Until the first connection is caught up (bound it with ``asyncio.timeout``)."""
        await asyncio.shield(self._link.ready)

    async def close(self) -> None:
        await self._connection.close()
        await self._sender.close()
        await self._sync.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks))
        self._link.cancel()
        self.cache.close()
        self.outbox.close()

    async def __aenter__(self) -> Client:
        try:
            await self.start()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def retry_now(self) -> None:
        """Skip the rest of the reconnect delay."""
        self._connection.retry_now()

    @property
    def failure(self) -> ClientError | None:
        """Why the connection gave up for good (None while it is trying)."""
        return self._link.failure

    @property
    def connected(self) -> bool:
        """Connected and caught up."""
        return self._link.caught_up.is_set()

    # -------------------------------------------------------------- events

    def subscribe(self, callback: Callable[[ChangeEvent], None]) -> Callable[[], None]:
        return self.state.subscribe(callback)

    def events(self) -> EventStream:
        return self.state.stream()

    # ------------------------------------------------------------- sending

    def send(
        self,
        room_id: int,
        text: str,
        *,
        client_msg_id: str | None = None,
        reply_to: int | None = None,
        file_id: int | None = None,
    ) -> str:
        """Queue a message to one of our rooms; it is on disk when this returns.
        ``reply_to``: the seq it answers (same room); ``file_id``: an uploaded
        file to show as its card (the text may then be empty).

        Raises:
            UnknownTarget: not one of our rooms.
            RequestFailed: ``empty_body``, ``body_too_long`` or ``bad_frame``.
        """
        room = self.state.rooms.get(room_id)
        if room is None:
            raise UnknownTarget(f"no room {room_id} among yours")
        return self._queue(room.label, room, text, client_msg_id, reply_to, file_id)

    def send_to(
        self,
        target: str,
        text: str,
        *,
        client_msg_id: str | None = None,
        reply_to: int | None = None,
        file_id: int | None = None,
    ) -> str:
        """Queue a message to ``#channel``, ``@user`` or a group's name. A name not
        known yet (offline, a new room) is resolved once connected; if it names
        nothing then, the message fails with ``room_not_found``."""
        try:
            parsed = parse_target(target)
        except ValueError as exc:
            raise UnknownTarget(str(exc)) from None
        room = resolve_target(parsed, self.state.rooms.values())
        label = room.label if room else parsed.label
        return self._queue(label, room, text, client_msg_id, reply_to, file_id)

    def _queue(
        self,
        label: str,
        room: Room | None,
        text: str,
        cid: str | None,
        reply_to: int | None = None,
        file_id: int | None = None,
    ) -> str:
        check_message(text, cid, reply_to, file_id, self.state.limits)
        entry = self.outbox.add(
            label,
            text,
            room_id=room.id if room else None,
            epoch=self.state.epoch if room else None,
            client_msg_id=cid,
            reply_to=reply_to,
            file_id=file_id,
        )
        if entry.client_msg_id not in self.state.outgoing:
            self.state.outgoing_added(outgoing_message(self.state, entry))
        self._sender.wake()
        return entry.client_msg_id

    async def wait_delivered(self, cid: str) -> wire.Ack:
        """The ack of a queued message (bound the wait with ``asyncio.timeout``).

        Raises:
            SendFailed: refused for good (it stays in the outbox as failed).
            ClientError: the connection failed for good first.
        """
        waiting = asyncio.ensure_future(self._sender.wait(cid))
        try:
            await self._link.until(waiting)
        finally:
            waiting.cancel()
        return waiting.result()

    async def flush(self) -> list[OutboxEntry]:
        """Until nothing is left to send; returns the messages that failed."""
        while self.outbox.pending_count():
            self._link.changed.clear()
            await self._link.until(asyncio.ensure_future(self._link.changed.wait()))
        return [entry for entry in self.outbox.entries() if entry.state == "failed"]

    def refusal(self, cid: str) -> wire.Error | None:
        """The last refusal of a message still waiting (e.g. rate limited), if any."""
        return self._sender.refusals.get(cid)

    def drop(self, cid: str) -> bool:
        """Remove a *failed* message from the outbox (any other may be on its way)."""
        entry = self.outbox.get(cid)
        if entry is None or entry.state != "failed":
            return False
        self.outbox.remove(cid)
        self.state.forget_outgoing(cid)
        return True

    def retry_failed(self) -> int:
        """Queue every failed message again."""
        count = self.outbox.retry_failed()
        for entry in self.outbox.pending():
            self.state.outgoing_changed(entry.client_msg_id, entry.state)
        self._sender.wake()
        return count

    # ------------------------------------------------------------ requests

    async def call(self, frame: msgspec.Struct, answer: type[T], *, retry: bool = True) -> T:
        """Send a command and wait for its answer of type ``answer`` (waiting for the
        connection first). ``retry``: safe to send again after a drop.

        Raises:
            RequestFailed: the server refused it (``exc.code`` says why).
            Unreachable: no answer within the request timeout.
        """
        return await self._requests.call(frame, answer, retry=retry)

    async def history(
        self, room_id: int, *, before: int | None = None, limit: int = 50
    ) -> list[Message]:
        """Up to ``limit`` messages older than seq ``before`` (the newest without
        it), oldest first; also announced as ``HistoryLoaded`` and cached."""
        return await self._requests.history(room_id, before=before, limit=limit)

    async def history_after(self, room_id: int, after: int, limit: int = 1000) -> list[Message]:
        """Messages newer than seq ``after``, oldest first (to catch up a gap)."""
        return await self._requests.history_after(room_id, after, limit)

    async def join(self, name: str) -> Room:
        await self._requests.call(wire.Join(name=name), wire.Ok, retry=False)
        return self._find("#" + name.removeprefix("#"))

    async def leave(self, room_id: int) -> None:
        await self._requests.call(wire.Leave(room=room_id), wire.Ok, retry=False)

    async def create_room(
        self,
        name: str,
        kind: Literal["channel", "group"] = "channel",
        topic: str = "",
        members: list[str] | None = None,
    ) -> Room:
        frame = wire.CreateRoom(name=name, kind=kind, topic=topic, members=members or [])
        await self._requests.call(frame, wire.Ok, retry=False)
        return self._find(("#" if kind == "channel" else "") + name.removeprefix("#"))

    def _find(self, label: str) -> Room:
        room = resolve_target(parse_target(label), self.state.rooms.values())
        if room is None:
            raise UnknownTarget(f"{label} is not among your rooms")
        return room

    async def invite(self, room_id: int, user: str) -> None:
        await self._requests.call(wire.Invite(room=room_id, user=user), wire.Ok, retry=False)

    async def set_topic(self, room_id: int, topic: str) -> None:
        await self._requests.call(wire.SetTopic(room=room_id, topic=topic), wire.Ok)

    async def set_presence(self, status: Literal["online", "away", "dnd"], text: str = "") -> None:
        await self._requests.call(wire.SetPresence(status=status, text=text), wire.Ok)

    async def members(self, room_id: int) -> list[Member]:
        """The member list with presence (also announced as ``MembersChanged``)."""
        answer = await self._requests.call(wire.Members(room=room_id), wire.MemberList)
        return [Member(m.user, m.status, m.text, m.role, m.muted_until) for m in answer.members]

    async def channels(self) -> list[wire.ChannelInfo]:
        """The directory of public channels."""
        return (await self._requests.call(wire.ListChannels(), wire.ChannelList)).channels

    async def logout(self, everywhere: bool = False) -> None:
        """Revoke the token on the server (the connection then ends for good)."""
        await self._requests.call(wire.Logout(everywhere=everywhere), wire.Ok, retry=False)

    def typing(self, room_id: int) -> None:
        """The user is typing: tell the room, at most once per the server's interval."""
        now = asyncio.get_running_loop().time()
        interval = self.state.limits.typing_interval if self.state.limits else 3.0
        if not self.connected or now - self._typing_sent.get(room_id, -1e9) < interval:
            return
        self._typing_sent[room_id] = now
        self._spawn(self._send_quietly(wire.Typing(room=room_id)))

    def mark_read(self, room_id: int, seq: int) -> None:
        """Move our read marker forward (now, or once connected again); the state
        follows when the server confirms with ``read_marker_moved``."""
        room = self.state.rooms.get(room_id)
        if room is None or seq <= max(room.last_read_seq, self._marks.get(room_id, 0)):
            return
        self._marks[room_id] = seq
        if self.connected:
            self._send_marks()

    def _send_marks(self) -> None:
        marks, self._marks = self._marks, {}
        for room_id, seq in marks.items():
            self._spawn(self._send_quietly(wire.MarkRead(room=room_id, seq=seq)))

    async def _send_quietly(self, frame: msgspec.Struct) -> None:
        with contextlib.suppress(NotConnected, ConnectionLost):
            await self._connection.send(frame)

    # ------------------------------------------------------------ plumbing

    async def _watch_outbox(self) -> None:
        """Pick up messages another process queued in this profile's outbox."""
        while True:
            await asyncio.sleep(OUTBOX_POLL)
            if self.outbox.changed_elsewhere():
                for entry in self.outbox.entries():
                    if entry.client_msg_id not in self.state.outgoing:
                        self.state.outgoing_added(outgoing_message(self.state, entry))
                self._sender.wake()
                self._link.pulse()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
