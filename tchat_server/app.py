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
from shared.frames import MessagePosted, MessageUpdated
from tchat_server.blobs import BlobStore
from tchat_server.config import ServerConfig
from tchat_server.dispatch import Dispatcher, Handler
from tchat_server.dispatch_changes import ChangeHandlers
from tchat_server.dispatch_files import FileHandlers
from tchat_server.dispatch_moderation import moderation_handlers
from tchat_server.handshake import Handshake
from tchat_server.hub import Hub
from tchat_server.metrics import ServerMetrics
from tchat_server.services.accounts import AccountService
from tchat_server.services.changes import ChangeService
from tchat_server.services.files import FileService, chunk_size_for
from tchat_server.services.messages import MessageService, to_info
from tchat_server.services.moderation import ModerationService
from tchat_server.services.passwords import Hasher
from tchat_server.services.permissions import Permissions
from tchat_server.services.presence import PresenceService
from tchat_server.services.rooms import RoomService
from tchat_server.services.search import SearchService
from tchat_server.session import Session
from tchat_server.storage.changes import ChangeStore
from tchat_server.storage.db import Database
from tchat_server.storage.files import FileStore
from tchat_server.storage.messages import MessageRow, MessageStore
from tchat_server.storage.moderation import ModerationStore
from tchat_server.storage.rooms import RoomStore
from tchat_server.storage.search import SearchStore
from tchat_server.storage.users import UserStore
from tchat_server.transport import Transport

__all__ = ["TchatServer", "open_services"]

log = logging.getLogger("tchat.server")

WRITE_PROBE_INTERVAL = 5.0
"""Seconds between write probes while the last write failed (asked by /readyz)."""


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
        self.files = FileService(
            FileStore(db),
            BlobStore(config.files_dir, config.uploads_dir),
            self.rooms,
            self.hub,
            max_file=config.max_file,
            quota=config.file_quota,
            chunk_size=chunk_size_for(config.max_frame),
        )
        self.messages.attach_check = self.files.check_attach
        self.changes = ChangeService(ChangeStore(db), self.messages, self.hub)
        self.moderation = ModerationService(
            ModerationStore(db), self.room_store, self.users, self.hub, self.rooms, self.permissions
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
            if row.updated_parent is not None:  # a reply: its parent's new reply count
                parent = encode(MessageUpdated(message=to_info(row.updated_parent)))
                self.hub.publish(row.room_id, parent)
            fanout.append(time.perf_counter() - started)
        self.metrics.stored(len(rows), fanout)

    async def close(self) -> None:
        await self.accounts.close()  # token uses still in memory
        await self.db.close()


async def open_services(config: ServerConfig) -> Services:
    db = await Database.open(config.db_path, synchronous=config.synchronous)
    services = Services(config, db)
    await services.users.refresh_name_folds()
    await services.rooms.ensure_default_channel()
    services.hub.load(await services.room_store.all_memberships())
    await services.moderation.load()
    return services


class TchatServer:
    """A running server: ``await start()``, then ``port``; ``await stop()``."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.services: Services | None = None
        self._server: Server | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self.write_probe_interval = WRITE_PROBE_INTERVAL
        self._last_probe = float("-inf")
        self.not_ready: str | None = None
        """Why the last /readyz check failed (None: it passed), for its answer."""

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
        extra_handlers.update(
            ChangeHandlers(services.changes, services.messages, services.rooms).handlers()
        )
        extra_handlers.update(moderation_handlers(services.moderation))
        await services.files.start()
        extra_handlers.update(FileHandlers(services.files).handlers())
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
            ready=self._readiness,
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
            await self.services.files.stop()
            await self.services.messages.committer.stop()
            await self.services.close()

    async def _ready(self) -> bool:
        """Reads work, and so did the last write (or a probe since: a failed commit
        keeps the server unready until a write commits, e.g. once space is back)."""
        self.not_ready = await self._not_ready()
        return self.not_ready is None

    async def _readiness(self) -> str | None:
        """For /readyz: None when ready, else the reason (its answer's body)."""
        return None if await self._ready() else self.not_ready or "not ready"

    async def _not_ready(self) -> str | None:
        if self.services is None:
            return "starting"
        db = self.services.db
        if db.write_error is not None:
            now = time.monotonic()
            if now - self._last_probe < self.write_probe_interval:
                return "database cannot be written"
            self._last_probe = now
            if not await db.probe_write():
                return "database cannot be written"
        try:
            await db.fetch_one("SELECT 1")
        except Exception:
            return "database cannot be read"
        return None

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
        hub, users, tokens = self.services.hub, self.services.users, self.services.accounts.tokens
        while True:
            await asyncio.sleep(self.config.revocation_check_interval)
            sessions = hub.all_sessions()
            # An open session is use (written hourly); then expired tokens are
            # revoked (hourly too), and their sessions closed below.
            tokens.seen_live({s.token_hash for s in sessions})
            with contextlib.suppress(Exception):
                await tokens.expire_due()
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
            # Server roles the admin CLI changed take effect here too.
            with contextlib.suppress(Exception):
                await self.services.moderation.refresh_server_roles()
