"""Composition root: open storage, build the services, serve, and stop cleanly.

Every object is wired here through its constructor; nothing reaches for a global.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from websockets.asyncio.server import Server

from shared.codec import encode
from shared.errors import CloseCode
from shared.frames import MessagePosted
from tchat_server.config import ServerConfig
from tchat_server.dispatch import Dispatcher, Handler
from tchat_server.handshake import Handshake
from tchat_server.hub import Hub
from tchat_server.metrics import ServerMetrics
from tchat_server.services.accounts import AccountService
from tchat_server.services.messages import MessageService, to_info
from tchat_server.services.passwords import Hasher
from tchat_server.services.permissions import Permissions
from tchat_server.services.presence import PresenceService
from tchat_server.services.rooms import RoomService
from tchat_server.services.search import SearchService
from tchat_server.session import Session
from tchat_server.storage.db import Database
from tchat_server.storage.messages import MessageRow, MessageStore
from tchat_server.storage.rooms import RoomStore
from tchat_server.storage.search import SearchStore
from tchat_server.storage.users import UserStore
from tchat_server.transport import Transport

__all__ = ["TchatServer", "open_services"]

log = logging.getLogger("tchat.server")


class Services:
    """The storage-backed rules, without any network: also used by the admin CLI."""

    def __init__(self, config: ServerConfig, db: Database) -> None:
        self.config = config
        self.db = db
        self.hub = Hub()
        self.users = UserStore(db)
        self.room_store = RoomStore(db)
        self.message_store = MessageStore(db)
        self.accounts = AccountService(
            self.users, self.room_store, Hasher(config.argon2, config.hash_concurrency), config
        )
        self.permissions = Permissions()
        self.rooms = RoomService(self.room_store, self.users, self.hub)
        self.rooms.permissions = self.permissions
        self.presence = PresenceService(self.hub, config.typing_interval, config.typing_expiry)
        self.search = SearchService(SearchStore(db), self.room_store, self.users, self.hub)
        self.messages = MessageService(
            self.message_store,
            self.users,
            self.hub,
            max_body=config.max_body,
            resume_cap=config.resume_cap,
            history_page=config.history_page,
            publish_stored=self._publish_stored,
            permissions=self.permissions,
        )
        self.metrics = ServerMetrics(config.metrics_token)
        self.metrics.count_sessions(lambda: len(self.hub.all_sessions()))
        self.messages.committer.on_commit = self.metrics.observe_commit

    def _publish_stored(self, rows: list[MessageRow]) -> None:
        fanout: list[float] = []
        for row in rows:
            started = time.perf_counter()
            event = encode(MessagePosted(message=to_info(row)))
            self.hub.publish(row.room_id, event, seq=row.seq)
            fanout.append(time.perf_counter() - started)
        self.metrics.stored(len(rows), fanout)

    async def close(self) -> None:
        await self.db.close()


async def open_services(config: ServerConfig) -> Services:
    db = await Database.open(config.db_path, synchronous=config.synchronous)
    services = Services(config, db)
    await services.users.refresh_name_folds()
    await services.rooms.ensure_default_channel()
    services.hub.load(await services.room_store.all_memberships())
    return services


class TchatServer:
    """A running server: ``await start()``, then ``port``; ``await stop()``."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.services: Services | None = None
        self._server: Server | None = None
        self._sweeper: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        sockets = list(self._server.sockets)
        return int(sockets[0].getsockname()[1])

    async def start(self) -> None:
        services = await open_services(self.config)
        self.services = services
        services.messages.committer.start()
        handshake = Handshake(
            self.config,
            services.accounts,
            services.rooms,
            services.messages,
            services.presence,
            services.hub,
            services.db.epoch,
        )
        # Each feature's handlers (tchat_server/dispatch_*.py) join the core ones here.
        extra_handlers: dict[type, Handler] = {}
        dispatcher = Dispatcher(
            services.accounts,
            services.rooms,
            services.messages,
            services.presence,
            on_logout=self._logged_out,
            search=services.search,
            extra_handlers=extra_handlers,
        )
        transport = Transport(
            self.config,
            handshake,
            dispatcher,
            services.accounts,
            services.presence,
            services.hub,
            ready=self._ready,
            metrics=services.metrics,
        )
        self._server = await transport.serve()
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep_revoked())

    async def stop(self) -> None:
        """Stop accepting, close every socket with 1001, finish in-flight commits."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        if self._server is not None:
            self._server.close(close_connections=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), self.config.shutdown_grace)
        if self.services is not None:
            await self.services.messages.committer.stop()
            await self.services.close()

    async def _ready(self) -> bool:
        if self.services is None:
            return False
        try:
            await self.services.db.fetch_one("SELECT 1")
        except Exception:
            return False
        return True

    def _logged_out(self, session: Session, everywhere: bool) -> None:
        assert self.services is not None
        if everywhere:
            for other in self.services.hub.sessions_of(session.user_id):
                if other is not session:
                    other.close(CloseCode.REVOKED, "logged out")
        session.close(CloseCode.NORMAL, "logged out", flush=True)

    async def _sweep_revoked(self) -> None:
        """Close sessions whose token was revoked or whose account was disabled,
        whoever did it (another session, the admin CLI in another process)."""
        assert self.services is not None
        hub, users = self.services.hub, self.services.users
        while True:
            await asyncio.sleep(self.config.revocation_check_interval)
            sessions = hub.all_sessions()
            if not sessions:
                continue
            try:
                dead = await users.dead_tokens(list({s.token_hash for s in sessions}))
            except Exception:
                log.exception("revocation sweep failed")
                continue
            for session in sessions:
                if session.token_hash in dead:
                    session.close(CloseCode.REVOKED, "session revoked")
