"""The WebSocket edge: HTTP routes, the handshake deadline, the receive loop.

One coroutine per connection reads frames, runs them through the codec (type and
size) and the per-connection rate limit, and hands them to the dispatcher; a second
task (the session's sender) writes. A client that floods is told, then closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import logging
import weakref
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from shared.codec import decode_client
from shared.errors import CloseCode, ErrorCode, ProtocolError
from tchat_server.config import ServerConfig
from tchat_server.dispatch import Dispatcher, error_frame
from tchat_server.handshake import Handshake
from tchat_server.hub import Hub
from tchat_server.services.accounts import AccountService, Authenticated
from tchat_server.services.limits import SlidingWindow, TokenBucket
from tchat_server.services.presence import PresenceService
from tchat_server.session import Session

__all__ = ["Transport"]

log = logging.getLogger("tchat.server")


class Transport:
    def __init__(
        self,
        config: ServerConfig,
        handshake: Handshake,
        dispatcher: Dispatcher,
        accounts: AccountService,
        presence: PresenceService,
        hub: Hub,
        ready: Any,
    ) -> None:
        self._config = config
        self._handshake = handshake
        self._dispatcher = dispatcher
        self._accounts = accounts
        self._presence = presence
        self._hub = hub
        self._ready = ready
        self._header_auth: weakref.WeakKeyDictionary[ServerConnection, Authenticated] = (
            weakref.WeakKeyDictionary()
        )

    async def serve(self) -> Server:
        origins: list[str | None] = [None, *self._config.allowed_origins]
        return await serve(
            self._handle,
            self._config.host,
            self._config.port,
            process_request=self._process_request,
            origins=origins,  # type: ignore[arg-type]
            compression=None,
            max_size=self._config.max_frame,
            max_queue=16,
            open_timeout=self._config.auth_timeout,
            ping_interval=20,
            ping_timeout=20,
            server_header=None,
        )

    # ----------------------------------------------------------------- HTTP

    async def _process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        path = request.path.split("?", 1)[0]
        if path == "/healthz":
            return connection.respond(http.HTTPStatus.OK, "ok\n")
        if path == "/readyz":
            ok = await self._ready()
            status = http.HTTPStatus.OK if ok else http.HTTPStatus.SERVICE_UNAVAILABLE
            return connection.respond(status, "ok\n" if ok else "database unavailable\n")
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return connection.respond(http.HTTPStatus.NOT_FOUND, "not found\n")
        authorization = request.headers.get("Authorization")
        if authorization:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return connection.respond(
                    http.HTTPStatus.UNAUTHORIZED, "bad Authorization header\n"
                )
            try:
                self._header_auth[connection] = await self._accounts.authenticate(token.strip())
            except ProtocolError:
                return connection.respond(http.HTTPStatus.UNAUTHORIZED, "invalid token\n")
        return None

    # ------------------------------------------------------------ WebSocket

    async def _handle(self, ws: ServerConnection) -> None:
        # ConnectionClosed includes oversized frames (1009): no traceback per hostile client.
        with contextlib.suppress(ConnectionClosed):
            await self._connection(ws)

    async def _connection(self, ws: ServerConnection) -> None:
        address = str(ws.remote_address[0]) if ws.remote_address else "?"
        try:
            raw = await asyncio.wait_for(ws.recv(), self._config.auth_timeout)
        except TimeoutError:
            await ws.close(CloseCode.AUTH_TIMEOUT, "authenticate within the time limit")
            return
        try:
            frame = decode_client(raw, max_size=self._config.max_frame)
            auth = await self._handshake.authenticate(frame, address, self._header_auth.get(ws))
        except ProtocolError as exc:
            await ws.send(error_frame(exc), text=True)
            code = (
                CloseCode.PROTOCOL
                if exc.code
                in {
                    ErrorCode.BAD_FRAME,
                    ErrorCode.UNSUPPORTED_PROTOCOL,
                    ErrorCode.AUTH_REQUIRED,
                    ErrorCode.FRAME_TOO_LARGE,
                }
                else CloseCode.AUTH_FAILED
            )
            await ws.close(code, exc.code.value)
            return

        async def send(data: bytes) -> None:
            await ws.send(data, text=True)

        async def close(code: int, reason: str) -> None:
            await ws.close(code, reason)

        session = Session(
            user_id=auth.user.id,
            user_name=auth.user.name,
            is_admin=auth.user.is_admin,
            token_hash=auth.token_hash,
            address=address,
            send=send,
            close=close,
            max_queue=self._config.outbound_queue_frames,
        )
        sender = asyncio.get_running_loop().create_task(session.run_sender())
        try:
            await self._handshake.welcome(session, auth, frame)
            await self._receive(ws, session)
        finally:
            session.closing = True
            sender.cancel()
            last = self._hub.detach(session)
            self._presence.disconnected(session.user_id, last)

    async def _receive(self, ws: ServerConnection, session: Session) -> None:
        bucket = TokenBucket(self._config.rate_per_second, self._config.rate_burst)
        refusals = SlidingWindow(self._config.flood_disconnect_after, self._config.flood_window)
        async for raw in ws:
            if session.closing:
                continue  # the sender closes the socket once its queue is flushed
            wait = bucket.take()
            if wait > 0:
                refusals.record("x")
                if refusals.retry_after("x") > 0:
                    # Not `break`: returning would close with 1000 before 4005 goes out.
                    session.close(CloseCode.FLOODING, "flooding")
                    continue
                rid, cid = _ids_of(raw)
                exc = ProtocolError(
                    ErrorCode.RATE_LIMITED,
                    "slow down",
                    retry_after=wait,
                    rid=rid,
                    client_msg_id=cid,
                )
                session.push(error_frame(exc))
                continue
            try:
                frame = decode_client(raw, max_size=self._config.max_frame)
            except ProtocolError as exc:
                session.push(error_frame(exc))
                continue
            await self._dispatcher.handle(session, frame)


def _ids_of(raw: str | bytes) -> tuple[str | None, str | None]:
    """The request ids of a frame refused before decoding (for the error frame)."""
    try:
        frame = decode_client(raw)
    except ProtocolError as exc:
        return exc.rid, exc.client_msg_id
    return getattr(frame, "rid", None), getattr(frame, "client_msg_id", None)
