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
from collections.abc import Awaitable, Callable

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.protocol import State

from shared.codec import decode_client
from shared.errors import CloseCode, ErrorCode, ProtocolError
from shared.frames import ClientFrame, Download, UploadChunk
from tchat_server.config import ServerConfig
from tchat_server.dispatch import Dispatcher, error_frame
from tchat_server.edge import TrustedProxies, tls_context
from tchat_server.handshake import Handshake
from tchat_server.hub import Hub
from tchat_server.metrics import ServerMetrics
from tchat_server.services.accounts import AccountService, Authenticated
from tchat_server.services.files import chunk_size_for
from tchat_server.services.limits import SlidingWindow, TokenBucket
from tchat_server.services.presence import PresenceService
from tchat_server.session import Outbox, Session
from tchat_server.storage.db import StorageUnavailable

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
        ready: Callable[[], Awaitable[str | None]],
        metrics: ServerMetrics | None = None,
    ) -> None:
        self._config = config
        self._metrics = metrics or ServerMetrics()
        self._proxies = TrustedProxies(config.trusted_proxies)
        self._handshake = handshake
        self._dispatcher = dispatcher
        self._accounts = accounts
        self._presence = presence
        self._hub = hub
        self._ready = ready
        self._header_auth: weakref.WeakKeyDictionary[ServerConnection, Authenticated] = (
            weakref.WeakKeyDictionary()
        )
        self._per_address: dict[str, int] = {}
        self._outbox = Outbox()
        """Sessions with frames to write: one callback per loop iteration writes them."""
        """Open WebSocket connections (and upgrades under way) per client address."""

    async def serve(self) -> Server:
        origins: list[str | None] = [None, *self._config.allowed_origins]
        return await serve(
            self._handle,
            self._config.host,
            self._config.port,
            ssl=tls_context(self._config),
            process_request=self._process_request,
            origins=origins,  # type: ignore[arg-type]
            compression=None,
            max_size=self._config.max_frame,
            max_queue=16,
            open_timeout=self._config.auth_timeout,
            ping_interval=20,
            ping_timeout=20,
            # A peer that never answers a close is dropped in time for SIGTERM's grace.
            close_timeout=max(0.1, min(10.0, self._config.shutdown_grace / 2)),
            server_header=None,
            # Passed on to loop.create_server. The default of 100 drops SYNs when
            # thousands reconnect at once (clients then retry after 1-3 s); the
            # kernel caps it at net.core.somaxconn.
            backlog=2048,
        )

    # ----------------------------------------------------------------- HTTP

    async def _process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        path = request.path.split("?", 1)[0]
        if path == "/healthz":
            return connection.respond(http.HTTPStatus.OK, "ok\n")
        if path == "/readyz":
            reason = await self._ready()  # None when ready, else why not
            status = http.HTTPStatus.OK if reason is None else http.HTTPStatus.SERVICE_UNAVAILABLE
            return connection.respond(status, f"{reason or 'ok'}\n")
        if path == "/metrics":
            code, content_type, body = self._metrics.exposition(
                request.headers.get("Accept"), request.headers.get("Authorization")
            )
            response = connection.respond(code, "")
            del response.headers["Content-Type"], response.headers["Content-Length"]
            response.headers["Content-Type"] = content_type
            response.headers["Content-Length"] = str(len(body))
            response.body = body
            return response
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return connection.respond(http.HTTPStatus.NOT_FOUND, "not found\n")
        if not self._hold_address(connection, request):
            return connection.respond(
                http.HTTPStatus.TOO_MANY_REQUESTS, "too many connections from your address\n"
            )
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

    def _hold_address(self, connection: ServerConnection, request: Request) -> bool:
        """Count an upgrade against its client address until its TCP connection is
        gone (whether or not the handshake completes); False when over the cap."""
        peer = str(connection.remote_address[0]) if connection.remote_address else "?"
        address = self._proxies.client(peer, request.headers.get("X-Forwarded-For"))
        held = self._per_address.get(address, 0)
        if held >= self._config.max_connections_per_address:
            log.warning(
                "refused a connection from %s: already %d open",
                address,
                held,
                extra={"event": "too_many_connections", "address": address},
            )
            return False
        self._per_address[address] = held + 1

        def release(_: object) -> None:
            left = self._per_address.get(address, 1) - 1
            if left > 0:
                self._per_address[address] = left
            else:
                self._per_address.pop(address, None)

        connection.connection_lost_waiter.add_done_callback(release)
        return True

    # ------------------------------------------------------------ WebSocket

    async def _handle(self, ws: ServerConnection) -> None:
        # ConnectionClosed includes oversized frames (1009): no traceback per hostile client.
        with self._metrics.connection(), contextlib.suppress(ConnectionClosed):
            await self._connection(ws)

    async def _connection(self, ws: ServerConnection) -> None:
        peer = str(ws.remote_address[0]) if ws.remote_address else "?"
        forwarded = ws.request.headers.get("X-Forwarded-For") if ws.request else None
        address = self._proxies.client(peer, forwarded)  # the real client, behind a proxy
        # Nothing reads the handshake's headers again: dropping them frees ~3 KiB of
        # an idle connection's memory. (``ws.request`` itself must stay: websockets
        # tells the handshake from later data by it being set.)
        if ws.request is not None:
            ws.request.headers.clear()
        ws.response = None
        # Until it is authenticated, a peer is not waited for long to answer our close
        # (one that never will would otherwise hold its socket for `close_timeout` more).
        patient, ws.close_timeout = ws.close_timeout, UNAUTHENTICATED_CLOSE_WAIT
        try:
            async with asyncio.timeout(self._config.auth_timeout):  # no task, unlike wait_for
                raw = await ws.recv()
        except TimeoutError:
            await ws.close(CloseCode.AUTH_TIMEOUT, "authenticate within the time limit")
            return
        frame: ClientFrame | None = None
        try:
            frame = decode_client(raw, max_size=self._config.max_frame)
            self._metrics.frame_in(frame)
            auth = await self._admit(frame, address, ws)
        except ProtocolError as exc:
            self._refused(frame, exc, address)
            refusal = error_frame(exc)
            self._metrics.frame_out(refusal)
            await ws.send(refusal, text=True)
            await ws.close(_FIRST_FRAME_CLOSE.get(exc.code, CloseCode.AUTH_FAILED), exc.code.value)
            return
        ws.close_timeout = patient

        async def send(data: bytes) -> None:
            self._metrics.frame_out(data)
            await ws.send(data, text=True)

        async def close(code: int, reason: str) -> None:
            await ws.close(code, reason)

        protocol = ws.protocol

        def write(data: bytes) -> bool:
            # What websockets' broadcast() does for each connection: frame and write
            # now, never waiting. A full socket buffer (``paused``) is left to
            # ``send`` in the session's drain task, which waits for it to empty.
            if ws.paused or protocol.state is not State.OPEN:
                return False
            self._metrics.frame_out(data)
            protocol.send_text(data)
            ws.send_data()
            return True

        session = Session(
            user_id=auth.user.id,
            user_name=auth.user.name,
            is_admin=auth.user.is_admin,
            token_hash=auth.token_hash,
            address=address,
            send=send,
            close=close,
            max_queue=self._config.outbound_queue_frames,
            write=write,
            outbox=self._outbox,
        )
        who = {"user": auth.user.name, "address": address}
        log.info(
            "%s connected from %s", auth.user.name, address, extra={"event": "connected", **who}
        )
        try:
            await self._handshake.welcome(session, auth, frame)
            await self._receive(ws, session)
        finally:
            session.stop()
            last = self._hub.detach(session)
            self._presence.disconnected(session.user_id, last)
            log.info("%s disconnected", auth.user.name, extra={"event": "disconnected", **who})

    async def _admit(self, frame: ClientFrame, address: str, ws: ServerConnection) -> Authenticated:
        """Who the first frame speaks for, within the per-account session cap.

        Nothing awaits between the cap's check and the hub's ``attach`` in the
        welcome, so sessions opened at once cannot all slip past it.

        Raises:
            ProtocolError: the handshake's refusals; ``unavailable`` when storage
                fails (disk full, read-only); ``too_many_connections``.
        """
        try:
            auth = await self._handshake.authenticate(frame, address, self._header_auth.get(ws))
        except StorageUnavailable as exc:
            log.warning(
                "storage unavailable during sign-in: %s", exc, extra={"event": "unavailable"}
            )
            raise ProtocolError(
                ErrorCode.UNAVAILABLE, "the server cannot sign you in right now; retry later"
            ) from None
        cap = self._config.max_connections_per_user
        if len(self._hub.sessions_of(auth.user.id)) >= cap:
            if auth.token is not None:  # issued by this login, and never to be handed out
                with contextlib.suppress(StorageUnavailable):
                    await self._accounts.logout(auth.token_hash)
            log.warning(
                "%s refused: already %d sessions",
                auth.user.name,
                cap,
                extra={"event": "too_many_connections", "user": auth.user.name, "address": address},
            )
            raise ProtocolError(
                ErrorCode.TOO_MANY_CONNECTIONS,
                f"this account already has {cap} open sessions; close one and retry",
            )
        return auth

    async def _receive(self, ws: ServerConnection, session: Session) -> None:
        bucket = TokenBucket(self._config.rate_per_second, self._config.rate_burst)
        # File chunks spend bytes of their own budget, not frames: a 25 MiB upload
        # is ~550 chunks, far past the frame rate, yet cheap per byte.
        chunk = chunk_size_for(self._config.max_frame)
        file_bytes = TokenBucket(
            self._config.file_rate, max(self._config.file_rate, 2 * self._config.max_frame)
        )
        refusals = SlidingWindow(self._config.flood_disconnect_after, self._config.flood_window)
        async for raw in ws:
            if session.closing:
                continue  # the sender closes the socket once its queue is flushed
            try:
                frame: ClientFrame | None = decode_client(raw, max_size=self._config.max_frame)
                invalid = None
            except ProtocolError as refused:
                frame, invalid = None, refused
            # Each file frame costs at least a full chunk: empty chunks and 1-byte
            # reads would otherwise cost nearly nothing, yet each is a disk write
            # (fsync) or read in a thread.
            if isinstance(frame, UploadChunk):
                wait = file_bytes.take(max(len(raw), chunk))
            elif isinstance(frame, Download):
                wait = file_bytes.take(chunk)
            else:
                wait = bucket.take()
            if wait > 0:
                self._metrics.frame_rate_limited()
                refusals.record("x")
                if refusals.retry_after("x") > 0:
                    # Not `break`: returning would close with 1000 before 4005 goes out.
                    session.close(CloseCode.FLOODING, "flooding")
                    continue
                rid, cid = _ids_of(frame, invalid)
                exc = ProtocolError(
                    ErrorCode.RATE_LIMITED,
                    "slow down",
                    retry_after=wait,
                    rid=rid,
                    client_msg_id=cid,
                )
                session.push(error_frame(exc))
                continue
            if frame is None:
                assert invalid is not None
                self._metrics.frame_invalid()
                session.push(error_frame(invalid))
                continue
            self._metrics.frame_in(frame)
            await self._dispatcher.handle(session, frame)

    def _refused(self, frame: ClientFrame | None, exc: ProtocolError, address: str) -> None:
        """Count and log a refused first frame (never the password or token it held)."""
        if frame is None:
            self._metrics.frame_invalid()
            return
        if exc.code in _NOT_CREDENTIALS:
            return
        self._metrics.login_failed(exc.code.value)
        user = getattr(frame, "username", None) or "(token)"
        log.info(
            "%s refused for %s from %s: %s",
            type(frame).__name__.lower(),
            user,
            address,
            exc.code.value,
            extra={
                "event": "login_failed",
                "user": user,
                "address": address,
                "code": exc.code.value,
            },
        )


UNAUTHENTICATED_CLOSE_WAIT = 0.5
"""Seconds a socket that never authenticated gets to answer our close frame."""

_FIRST_FRAME_CLOSE: dict[str, CloseCode] = {
    ErrorCode.BAD_FRAME: CloseCode.PROTOCOL,
    ErrorCode.UNSUPPORTED_PROTOCOL: CloseCode.PROTOCOL,
    ErrorCode.AUTH_REQUIRED: CloseCode.PROTOCOL,
    ErrorCode.FRAME_TOO_LARGE: CloseCode.PROTOCOL,
    ErrorCode.UNAVAILABLE: CloseCode.TRY_AGAIN_LATER,
    ErrorCode.TOO_MANY_CONNECTIONS: CloseCode.TRY_AGAIN_LATER,
}
"""How a refused first frame closes the socket; any other refusal is about the
credentials (4001)."""

_NOT_CREDENTIALS = frozenset(_FIRST_FRAME_CLOSE)
"""First-frame refusals that are not a login failure (not counted, not logged as one)."""


def _ids_of(
    frame: ClientFrame | None, invalid: ProtocolError | None
) -> tuple[str | None, str | None]:
    """The request ids of a refused frame (for the error frame)."""
    if invalid is not None:
        return invalid.rid, invalid.client_msg_id
    return getattr(frame, "rid", None), getattr(frame, "client_msg_id", None)
