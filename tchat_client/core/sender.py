"""Flushes the outbox over the live connection: in order per room, nothing twice.

Each room is a lane with at most one message in flight: the next one goes out
when the previous is acked or refused, so a retry (rate limit, server busy) can
never overtake a later message. A message leaves the outbox only on its ack; on
a drop the lanes stop, and after the next welcome they start again from the
first unacked message (the server's idempotency absorbs the repeat).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from shared import frames as wire
from shared.errors import ErrorCode
from tchat_client.core.connection import Connection
from tchat_client.core.errors import (
    TRANSIENT_SEND_CODES,
    ClientError,
    ConnectionLost,
    NotConnected,
    SendFailed,
)
from tchat_client.core.outbox import Outbox, OutboxEntry
from tchat_client.core.state import State
from tchat_client.core.targets import parse_target, resolve_target

__all__ = ["Sender"]

log = logging.getLogger("tchat.client")

INTERNAL_ATTEMPTS = 3
"""An ``internal`` error repeated this often is a server bug, not a blip: give up."""


class Sender:
    def __init__(
        self, outbox: Outbox, state: State, connection: Connection, changed: Callable[[], None]
    ) -> None:
        self._outbox = outbox
        self._state = state
        self._connection = connection
        self._changed = changed
        self._lanes: dict[str, asyncio.Task[None]] = {}
        self._answers: dict[str, asyncio.Future[wire.Ack | wire.Error]] = {}
        self._waiters: dict[str, list[asyncio.Future[wire.Ack]]] = {}
        self._epoch: str | None = None
        self._running = False
        self.refusals: dict[str, wire.Error] = {}
        """The last refusal of each message still in the outbox (why it waits)."""

    # ------------------------------------------------------------ control

    def start(self, epoch: str) -> None:
        """The connection is welcomed and caught up: flush."""
        self._epoch = epoch
        self._running = True
        self.wake()

    def stop(self) -> None:
        """The connection is gone: stop every lane where it stands."""
        self._running = False
        for task in self._lanes.values():
            task.cancel()
        self._lanes.clear()

    async def close(self) -> None:
        """Stop, and wait until every lane has."""
        lanes = list(self._lanes.values())
        self.stop()
        if lanes:
            await asyncio.wait(lanes)

    def wake(self) -> None:
        """Start a lane for every room with something to send and no lane running."""
        if not self._running:
            return
        self._resolve()
        for entry in self._outbox.pending():
            lane = entry.lane(self._epoch)
            task = self._lanes.get(lane)
            if task is None or task.done():
                self._lanes[lane] = asyncio.get_running_loop().create_task(
                    self._lane(lane), name=f"tchat-send-{lane}"
                )

    def _busy(self, lane: str) -> bool:
        task = self._lanes.get(lane)
        return task is not None and not task.done()

    def _resolve(self) -> None:
        """Turn typed targets into rooms of the current epoch (the epoch changes
        when the server's database does; room ids from another epoch mean nothing)."""
        rooms = list(self._state.rooms.values())
        for entry in self._outbox.pending():
            if entry.room_id is not None and entry.epoch == self._epoch:
                continue
            if self._busy(entry.lane(self._epoch)) or self._epoch is None:
                continue
            try:
                target = parse_target(entry.target)
            except ValueError:
                self._fail(
                    entry.client_msg_id, ErrorCode.ROOM_NOT_FOUND, f"not a room: {entry.target}"
                )
                continue
            room = resolve_target(target, rooms)
            if room is not None:
                self._outbox.resolve(entry.client_msg_id, room.id, self._epoch)
                self._state.outgoing_changed(entry.client_msg_id, entry.state, entry.error, room.id)
            elif target.kind != "dm":  # a first DM is sent by user name
                self._fail(
                    entry.client_msg_id,
                    ErrorCode.ROOM_NOT_FOUND,
                    f"no room named {target.label} among yours",
                )

    # -------------------------------------------------------------- lanes

    async def _lane(self, lane: str) -> None:
        delay = 1.0
        while self._running:
            entry = next((e for e in self._outbox.pending() if e.lane(self._epoch) == lane), None)
            if entry is None:
                return
            try:
                answer = await self._attempt(entry)
            except (NotConnected, ConnectionLost):
                return  # the next welcome starts the lane again
            if isinstance(answer, wire.Ack):
                delay = 1.0
                continue
            if answer.code in TRANSIENT_SEND_CODES and not (
                answer.code == ErrorCode.INTERNAL and entry.attempts + 1 >= INTERNAL_ATTEMPTS
            ):
                self.refusals[entry.client_msg_id] = answer
                self._outbox.mark_queued(entry.client_msg_id, answer.code, answer.message)
                self._state.outgoing_changed(entry.client_msg_id, "queued", answer.message)
                self._changed()
                wait = answer.retry_after if answer.retry_after is not None else delay
                delay = min(delay * 2, 30.0)
                await asyncio.sleep(wait)
                continue
            self._fail(entry.client_msg_id, answer.code, answer.message)

    async def _attempt(self, entry: OutboxEntry) -> wire.Ack | wire.Error:
        cid = entry.client_msg_id
        room_id = entry.room_id if entry.epoch == self._epoch else None
        dm = None if room_id is not None else parse_target(entry.target).name
        frame = wire.Send(
            client_msg_id=cid,
            body=entry.body,
            room=room_id,
            dm=dm,
            reply_to=entry.reply_to,
            file=entry.file_id,
        )
        future: asyncio.Future[wire.Ack | wire.Error] = asyncio.get_running_loop().create_future()
        self._answers[cid] = future
        try:
            await self._connection.send(frame)
            if not future.done():
                self._outbox.mark_sent(cid)
                self._state.outgoing_changed(cid, "sent")
                self._changed()
            return await future
        finally:
            self._answers.pop(cid, None)

    def _fail(self, cid: str, code: str, message: str) -> None:
        self._outbox.mark_failed(cid, code, message)
        self._state.outgoing_changed(cid, "failed", message)
        error = SendFailed(cid, code, message)
        for waiter in self._waiters.pop(cid, []):
            if not waiter.done():
                waiter.set_exception(error)
        self._changed()

    # ------------------------------------------------------------ answers

    def on_ack(self, ack: wire.Ack) -> None:
        cid = ack.client_msg_id
        self._outbox.remove(cid)
        self.refusals.pop(cid, None)
        self._state.delivered(ack)
        future = self._answers.get(cid)
        if future is not None and not future.done():
            future.set_result(ack)
        for waiter in self._waiters.pop(cid, []):
            if not waiter.done():
                waiter.set_result(ack)
        self._changed()

    def on_error(self, error: wire.Error) -> None:
        assert error.client_msg_id is not None
        future = self._answers.get(error.client_msg_id)
        if future is not None and not future.done():
            future.set_result(error)

    async def wait(self, cid: str) -> wire.Ack:
        """The ack of a message in the outbox.

        Raises:
            SendFailed: the server refused the message for good.
            ClientError: the message is not in the outbox.
        """
        entry = self._outbox.get(cid)
        if entry is None:
            raise ClientError(f"message {cid} is not in the outbox")
        if entry.state == "failed":
            raise SendFailed(cid, entry.error_code or "failed", entry.error or "not sent")
        future: asyncio.Future[wire.Ack] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(cid, []).append(future)
        try:
            return await future
        finally:
            waiters = self._waiters.get(cid, [])
            with contextlib.suppress(ValueError):
                waiters.remove(future)
