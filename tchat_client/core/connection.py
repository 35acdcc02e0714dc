"""The one connection to the server: connect, authenticate, read, reconnect.

``Connection`` owns the socket. It sends the hello its owner builds (token,
epoch, resume points), hands every server frame to its listener in order, keeps
the socket alive with WebSocket pings, and after any drop reconnects with
exponential backoff and full jitter (0.5 s base, 30 s cap) until it is closed or
the server refuses us for good (bad token, unsupported protocol). Requests that
name a ``rid`` get their answer (or ``RequestFailed``) through ``request``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
from typing import Protocol

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidURI, WebSocketException

from shared import frames as wire
from shared.codec import decode_server, decode_server_batch, encode
from shared.errors import CloseCode, ErrorCode, ProtocolError
from tchat_client.core.errors import (
    AUTH_CODES,
    AuthError,
    ClientError,
    ConnectionLost,
    NotConnected,
    RequestFailed,
    Unreachable,
)
from tchat_client.core.events import ConnectionChanged

__all__ = [
    "MAX_FRAME",
    "Backoff",
    "Connection",
    "ConnectionListener",
    "authenticate",
    "first_frame_error",
]

log = logging.getLogger("tchat.client")

MAX_FRAME = 16 * 1024 * 1024
"""Largest server frame accepted: a full history page of long messages fits."""
STABLE_AFTER = 10.0
"""A connection that lasted this long resets the backoff; one that keeps dropping
at once keeps backing off instead of hammering the server."""


class Backoff:
    """Exponential backoff with full jitter: the n-th delay is uniform in
    ``[0, min(cap, base * 2**n)]``, so clients dropped together do not return
    together (AWS Architecture Blog, "Exponential Backoff And Jitter")."""

    def __init__(self, base: float = 0.5, cap: float = 30.0, rng: random.Random | None = None):
        self.base = base
        self.cap = cap
        self.attempt = 0
        self._rng = rng or random.Random()

    def next(self) -> float:
        ceiling = min(self.cap, self.base * 2 ** min(self.attempt, 32))
        self.attempt += 1
        return self._rng.uniform(0, ceiling)

    def reset(self) -> None:
        self.attempt = 0


class ConnectionListener(Protocol):
    """What the connection tells its owner. Called on the event loop, in order."""

    def make_hello(self) -> wire.Hello:
        """The first frame of the next attempt (token, epoch, resume points)."""
        ...

    def frame_received(self, frame: wire.ServerFrame) -> None:
        """Every frame, the welcome first; must not await an answer."""
        ...

    def connection_lost(self) -> None:
        """A welcomed connection ended (a reconnect follows unless closed)."""
        ...

    def status_changed(self, status: ConnectionChanged) -> None: ...

    def connection_failed(self, error: ClientError) -> None:
        """No further attempt will be made."""
        ...


def first_frame_error(frame: wire.Error) -> ClientError:
    """What an error answering the first frame means for the next attempt."""
    if frame.code in AUTH_CODES:
        return AuthError(frame.code, frame.message)
    if frame.code in {ErrorCode.UNSUPPORTED_PROTOCOL, ErrorCode.BAD_FRAME}:
        return ClientError(f"the server refused this client: {frame.message}")
    if frame.code in {ErrorCode.UNAVAILABLE, ErrorCode.INTERNAL}:
        return Unreachable(f"the server is unavailable: {frame.message}")
    if frame.code == ErrorCode.TOO_MANY_CONNECTIONS:  # retried with backoff, as unavailable
        return Unreachable(f"the server refused another session: {frame.message}")
    return RequestFailed(frame.code, frame.message, frame.retry_after)


def _close_error(ws: ClientConnection) -> ClientError:
    code, reason = ws.close_code, ws.close_reason or ""
    if code in {CloseCode.AUTH_FAILED, CloseCode.REVOKED} or (
        code == CloseCode.NORMAL and reason == "logged out"
    ):
        return AuthError(
            ErrorCode.TOKEN_INVALID, f"the session was ended by the server ({reason or code})"
        )
    if code == CloseCode.PROTOCOL:
        return ClientError(f"the server refused this client ({reason or code})")
    return ConnectionLost(
        f"connection closed ({code or 'no close frame'}{': ' + reason if reason else ''})"
    )


class Connection:
    def __init__(
        self,
        url: str,
        *,
        backoff: Backoff | None = None,
        open_timeout: float = 10.0,
        fail_fast: bool = False,
        user_agent: str = "tchat",
    ) -> None:
        """``fail_fast``: give up when the very first attempt fails (the CLI), instead
        of retrying until a connection is made (the TUI)."""
        self.url = url
        self._listener: ConnectionListener | None = None
        self._backoff = backoff or Backoff()
        self._open_timeout = open_timeout
        self._fail_fast = fail_fast
        self._user_agent = user_agent
        self._ws: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._wake = asyncio.Event()
        self._requests: dict[str, asyncio.Future[wire.ServerFrame]] = {}
        self._rids = itertools.count(1)
        self._welcomed = False
        self.generation = 0
        """Counts welcomed connections: lets the owner tell one from the next."""

    @property
    def _listen(self) -> ConnectionListener:
        assert self._listener is not None, "start() first"
        return self._listener

    @property
    def connected(self) -> bool:
        return self._ws is not None

    def start(self, listener: ConnectionListener) -> None:
        """Connect (and keep reconnecting) in a background task, telling ``listener``."""
        self._listener = listener
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="tchat-connection"
            )

    def retry_now(self) -> None:
        """Skip the rest of the current backoff delay (a user's "reconnect now")."""
        self._wake.set()

    async def close(self) -> None:
        self._closing = True
        self._wake.set()
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    # ------------------------------------------------------------ sending

    async def send(self, frame: msgspec.Struct) -> None:
        """Write a frame to the socket.

        Raises:
            NotConnected: no welcomed connection right now.
            ConnectionLost: the socket closed while writing.
        """
        ws = self._ws
        if ws is None:
            raise NotConnected("not connected")
        try:
            await ws.send(encode(frame), text=True)
        except ConnectionClosed as exc:
            raise ConnectionLost(f"connection lost while sending: {exc}") from None

    async def request(self, frame: msgspec.Struct) -> wire.ServerFrame:
        """Send a command with a fresh ``rid`` and wait for the frame answering it.

        Raises:
            RequestFailed: the server answered with an error.
            NotConnected, ConnectionLost: no answer can come on this connection.

        Bound the wait with ``asyncio.timeout``.
        """
        rid = f"c{next(self._rids)}"
        future: asyncio.Future[wire.ServerFrame] = asyncio.get_running_loop().create_future()
        self._requests[rid] = future
        try:
            await self.send(msgspec.structs.replace(frame, rid=rid))
            return await future
        finally:
            self._requests.pop(rid, None)

    # ------------------------------------------------------------ the loop

    async def _run(self) -> None:
        while not self._closing:
            self._listen.status_changed(ConnectionChanged("connecting"))
            try:
                await self._session()
                continue
            except Unreachable as exc:
                error: ClientError = exc
            except ClientError as exc:
                self._fail(exc)
                return
            if self._closing:
                return
            if self._fail_fast and not self._welcomed:
                self._fail(error)
                return
            delay = self._backoff.next()
            self._listen.status_changed(ConnectionChanged("disconnected", str(error), delay))
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)

    def _fail(self, error: ClientError) -> None:
        self._listen.status_changed(ConnectionChanged("failed", str(error)))
        self._listen.connection_failed(error)

    async def _open(self) -> ClientConnection:
        try:
            return await connect(
                self.url,
                open_timeout=self._open_timeout,
                compression=None,
                max_size=MAX_FRAME,
                ping_interval=20,
                ping_timeout=20,
                close_timeout=2,
                user_agent_header=self._user_agent,
            )
        except InvalidURI as exc:
            raise ClientError(f"bad server address {self.url!r}: {exc}") from None
        except (OSError, TimeoutError, WebSocketException) as exc:
            raise Unreachable(f"cannot reach {self.url}: {exc or type(exc).__name__}") from None

    async def _session(self) -> None:
        """One connection, from opening to its end; raises why it ended."""
        hello = self._listen.make_hello()
        ws = await self._open()
        loop = asyncio.get_running_loop()
        opened_at = loop.time()
        welcomed = False
        try:
            await ws.send(encode(hello), text=True)
            async with asyncio.timeout(self._open_timeout):
                first = decode_server(await ws.recv())
            if isinstance(first, wire.Error):
                raise first_frame_error(first)
            if not isinstance(first, wire.Welcome):
                raise Unreachable(f"the server answered the hello with {type(first).__name__}")
            self._ws, welcomed, self._welcomed = ws, True, True
            self.generation += 1
            self._dispatch(first)
            async for raw in ws:
                try:  # one frame, or a batch of them (docs/PROTOCOL.md, "Batched frames")
                    frames = decode_server_batch(raw)
                except ProtocolError as exc:
                    log.warning("ignoring a frame from the server: %s", exc.message)
                    continue
                for frame in frames:
                    self._dispatch(frame)
            raise _close_error(ws)
        except ConnectionClosed:
            raise _close_error(ws) from None
        except TimeoutError:
            raise Unreachable("the server did not answer the hello in time") from None
        except ProtocolError as exc:
            raise Unreachable(f"unreadable answer from the server: {exc.message}") from None
        finally:
            self._ws = None
            for future in self._requests.values():
                if not future.done():
                    future.set_exception(ConnectionLost("connection lost before the answer"))
            if loop.time() - opened_at >= STABLE_AFTER:
                self._backoff.reset()
            if welcomed:  # before awaiting the close: nobody may use this socket now
                self._listen.connection_lost()
            with contextlib.suppress(Exception):
                await ws.close()

    def _dispatch(self, frame: wire.ServerFrame) -> None:
        try:
            self._listen.frame_received(frame)
        except Exception:
            log.exception("handling %s failed", type(frame).__name__)
        rid = getattr(frame, "rid", None)
        future = self._requests.pop(rid, None) if rid is not None else None
        if future is None or future.done():
            return
        if isinstance(frame, wire.Error):
            future.set_exception(RequestFailed(frame.code, frame.message, frame.retry_after))
        else:
            future.set_result(frame)


async def authenticate(
    url: str, frame: wire.Login | wire.Register, open_timeout: float = 10.0
) -> wire.Welcome:
    """Send a first frame carrying a password; return the welcome (with a token).

    Raises:
        AuthError: wrong name or password, bad invite, disabled account.
        RequestFailed: refused otherwise (``throttled``, ``username_taken``...).
        Unreachable: no connection, or no answer.
    """
    try:
        ws = await connect(
            url,
            open_timeout=open_timeout,
            compression=None,
            max_size=MAX_FRAME,
            user_agent_header="tchat",
        )
    except InvalidURI as exc:
        raise ClientError(f"bad server address {url!r}: {exc}") from None
    except (OSError, TimeoutError, WebSocketException) as exc:
        raise Unreachable(f"cannot reach {url}: {exc or type(exc).__name__}") from None
    try:
        await ws.send(encode(frame), text=True)
        # Checking the password takes the server a moment (argon2), more under load.
        async with asyncio.timeout(open_timeout * 3):
            first = decode_server(await ws.recv())
    except (ConnectionClosed, TimeoutError) as exc:
        raise Unreachable(f"no answer from {url}: {exc}") from None
    except ProtocolError as exc:
        raise Unreachable(f"unreadable answer from {url}: {exc.message}") from None
    finally:
        with contextlib.suppress(Exception):
            await ws.close()
    if isinstance(first, wire.Error):
        raise first_frame_error(first)
    if not isinstance(first, wire.Welcome) or not first.token:
        raise Unreachable(f"unexpected answer from {url}: {type(first).__name__}")
    return first
