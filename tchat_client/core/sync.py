"""Keeps the state and the cache in step with the server, frame by frame.

``Sync`` is the connection's listener. It builds each hello (token, epoch, resume
points), applies every frame to the state and mirrors it into the cache, and
decides when the client is caught up: after the welcome, or after the
``resumed`` frame when a resume was asked for. Then the outbox flushes. A
welcome from another epoch (the server's database was replaced) voids the cache
and the state; a room that missed more than the server replays starts afresh;
a gap (never expected) is filled from history rather than skipped.

Messages also change after they are stored: each room's change cursor (the cache's
``synced_change``) goes in ``hello.changes``, so the resume replays what changed
while away as ``message_updated``; live ones move the cursor on, ``resumed`` sets
it to the room's ``latest_change``, and when too much changed
(``changes_truncated``) the held messages are fetched again before it moves.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from shared import frames as wire
from tchat_client.core.cache import Cache
from tchat_client.core.errors import ClientError
from tchat_client.core.events import ConnectionChanged
from tchat_client.core.link import Link
from tchat_client.core.models import Message
from tchat_client.core.profile import Profile
from tchat_client.core.requests import Requester
from tchat_client.core.sender import Sender
from tchat_client.core.state import State

__all__ = ["Sync"]

log = logging.getLogger("tchat.client")

PREFETCH = 50
"""Messages fetched for a room the cache knows nothing of (when prefetching)."""

REFETCH_CAP = 5000
"""Most messages fetched again for one room after ``changes_truncated`` (the newest)."""

_ANSWERS = (
    wire.HistoryPage,
    wire.SearchResults,
    wire.Ok,
    wire.ChannelList,
    wire.Pong,
    wire.ThreadPage,
    wire.UploadReady,
    wire.UploadProgress,
    wire.UploadDone,
    wire.FileChunk,
)
"""Frames that only answer a request: the request that asked for one takes it."""


class Sync:
    def __init__(
        self,
        profile: Profile,
        state: State,
        cache: Cache,
        sender: Sender,
        requester: Requester,
        link: Link,
        *,
        client_name: str,
        prefetch: bool,
    ) -> None:
        self._profile = profile
        self._state = state
        self._cache = cache
        self._sender = sender
        self._requester = requester
        self._link = link
        self._client_name = client_name
        self._prefetch = prefetch
        self._expect_resumed = False
        self._backfilling: set[int] = set()
        self._refetching: dict[int, int] = {}
        """Rooms being fetched again after ``changes_truncated`` -> the cursor to
        take once that is done (live changes meanwhile must not move it yet)."""
        self._tasks: set[asyncio.Task[Any]] = set()
        self.on_caught_up: list[Any] = []
        """Callables run each time the client is caught up (after each reconnect)."""

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks))

    # --------------------------------------------------- ConnectionListener

    def make_hello(self) -> wire.Hello:
        epoch = self._cache.epoch
        resume = self._cache.synced() if epoch else {}
        cursors = self._cache.synced_changes() if resume else {}
        self._expect_resumed = bool(resume)
        return wire.Hello(
            protocol=wire.PROTOCOL_VERSION,
            token=self._profile.require_token(),
            client=self._client_name[:64],
            epoch=epoch,
            resume=resume,
            changes={room: cursors[room] for room in resume if room in cursors},
        )

    def status_changed(self, status: ConnectionChanged) -> None:
        self._state.set_connection(status)

    def connection_failed(self, error: ClientError) -> None:
        self._sender.stop()
        self._link.fail(error)

    def connection_lost(self) -> None:
        self._link.down()
        self._sender.stop()

    def frame_received(self, frame: wire.ServerFrame) -> None:
        if isinstance(frame, wire.Welcome):
            self._welcome(frame)
        elif isinstance(frame, wire.Resumed):
            self._resumed(frame)
        elif isinstance(frame, wire.MessagePosted):
            self.message(frame.message)
        elif isinstance(frame, wire.MessageUpdated):
            self.changed(frame.message)
        elif isinstance(frame, wire.Ack):
            self._sender.on_ack(frame)
        elif isinstance(frame, wire.Error):
            if frame.client_msg_id is not None and frame.rid is None:
                self._sender.on_error(frame)
            elif frame.rid is None:
                self._state.apply(frame)
        elif isinstance(frame, _ANSWERS):
            pass  # answers: the request that asked for one takes it
        else:
            self._state.apply(frame)
            self._mirror_room(frame)

    # ------------------------------------------------------------- frames

    def _welcome(self, welcome: wire.Welcome) -> None:
        if self._cache.epoch is not None and self._cache.epoch != welcome.epoch:
            log.warning("the server's database changed (epoch %s): refetching", welcome.epoch)
            self._cache.wipe()
            self._state.reset(welcome.epoch)
        self._cache.set_identity(welcome.epoch, welcome.user.name)
        self._state.apply_welcome(welcome)
        self._cache.replace_rooms(self._state.rooms.values())
        if not self._expect_resumed:
            self._caught_up()

    def _resumed(self, resumed: wire.Resumed) -> None:
        for info in resumed.rooms:
            if info.truncated:
                # More was missed than the server replays: start the room afresh.
                self._cache.restart_room(info.room, info.latest_seq)
                self._cache.set_synced_change(info.room, info.latest_change, only_forward=False)
                self._state.reset_room(info.room)
                if self._prefetch:
                    self._spawn(self._requester.history(info.room, limit=PREFETCH))
                continue
            if (self._cache.synced_seq(info.room) or 0) < info.latest_seq:
                self._spawn(self._backfill(info.room))
            if info.changes_truncated:
                self._spawn(self._refetch(info.room, info.latest_change))
            else:
                self._cache.set_synced_change(info.room, info.latest_change, only_forward=False)
        self._caught_up()

    def _caught_up(self) -> None:
        epoch = self._state.epoch
        assert epoch is not None
        self._link.up()
        self._state.set_connection(ConnectionChanged("connected"))
        self._sender.start(epoch)
        for callback in self.on_caught_up:
            callback()
        if self._prefetch:
            for room in list(self._state.rooms.values()):
                if room.latest_seq and not self._state.messages(room.id):
                    self._spawn(self._requester.history(room.id, limit=PREFETCH))

    def message(self, info: wire.MessageInfo) -> None:
        """A live or replayed message (or one a backfill fetched)."""
        self._state.add_message(info)
        self._cache.add_messages([Message.from_info(info)])
        room = self._state.rooms.get(info.room)
        if room is not None:
            self._cache.save_room(room)
        synced = self._cache.synced_seq(info.room)
        if synced is not None and synced < info.seq:
            self._spawn(self._backfill(info.room))

    def changed(self, info: wire.MessageInfo) -> None:
        """A message changed (live, or replayed by a resume, in change order)."""
        self._state.message_updated(info)
        self._cache.update_message(Message.from_info(info))
        if info.room in self._refetching:
            self._refetching[info.room] = max(self._refetching[info.room], info.change)
        else:
            self._cache.set_synced_change(info.room, info.change)

    async def _refetch(self, room_id: int, latest_change: int) -> None:
        """More changed while away than the server replays: fetch again every
        message held (the pages come as the messages now are, and replace older
        versions), then move the cursor."""
        if room_id in self._refetching:
            return
        self._refetching[room_id] = latest_change
        try:
            seqs = [m.seq for m in self._state.messages(room_id) if m.seq is not None]
            held = self._cache.held_range(room_id)
            if held is not None:
                seqs.extend(held)
            if seqs:
                low, high = max(min(seqs), max(seqs) - REFETCH_CAP + 1), max(seqs)
                await self._requester.history_after(room_id, low - 1, limit=high - low + 1)
            self._cache.set_synced_change(room_id, self._refetching[room_id])
        finally:
            # Failed (the connection dropped): the cursor stays, the next resume
            # replays (or truncates) again.
            self._refetching.pop(room_id, None)

    def _mirror_room(self, frame: wire.ServerFrame) -> None:
        if isinstance(frame, wire.RoomLeft):
            self._cache.drop_room(frame.room)
            return
        if isinstance(frame, wire.RoomJoined | wire.RoomUpdated):
            room_id: object = frame.room.id
        else:
            room_id = getattr(frame, "room", None)
        room = self._state.rooms.get(room_id) if isinstance(room_id, int) else None
        if room is not None:
            self._cache.save_room(room)

    async def _backfill(self, room_id: int) -> None:
        """Fetch what lies between the resume point and a newer message."""
        if room_id in self._backfilling:
            return
        self._backfilling.add(room_id)
        try:
            synced = self._cache.synced_seq(room_id)
            if synced is None:
                return
            ask = wire.History(room=room_id, after=synced, limit=100)
            page = await self._requester.call(ask, wire.HistoryPage)
            for info in page.messages:
                self.message(info)
        finally:
            self._backfilling.discard(room_id)

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(self._quietly(coro))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _quietly(coro: Coroutine[Any, Any, Any]) -> None:
        try:
            await coro
        except ClientError as exc:
            log.info("background request failed: %s", exc)
