"""A demo server in a background thread: its own event loop, a temporary data
directory, the seeded world and (optionally) the bots.

The TUI runs on the main thread's loop as it always does; only the demo's server
lives on the other thread, so stopping it (for the offline picture) is one call.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import threading
from dataclasses import replace
from pathlib import Path

from tchat_client.demo.bots import run_bots, run_idle
from tchat_client.demo.seed import seed
from tchat_server.app import TchatServer
from tchat_server.config import Argon2Params, ServerConfig

__all__ = ["DemoWorld"]


class DemoWorld:
    def __init__(self, root: Path | None = None, *, bots: bool = True, port: int = 0) -> None:
        self.root = root or Path(tempfile.mkdtemp(prefix="tchat-demo-"))
        self._own_root = root is None
        self._bots = bots
        self._config = ServerConfig(
            host="127.0.0.1",
            port=port,
            data_dir=self.root / "server",
            registration="open",
            argon2=replace(Argon2Params(), time_cost=1),
            synchronous="NORMAL",
        )
        self.port = 0
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._server: TchatServer | None = None
        self._thread = threading.Thread(target=self._run, name="demo-server", daemon=True)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def home(self) -> Path:
        """The demo user's TCHAT_HOME."""
        return self.root / "client"

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(60)
        if self._failure is not None:
            raise RuntimeError(f"demo server failed to start: {self._failure}") from self._failure

    def stop_server(self) -> None:
        """Stop the server (the client goes offline); the thread keeps running."""
        if self._loop is not None and self._server is not None:
            asyncio.run_coroutine_threadsafe(self._server.stop(), self._loop).result(30)
            self._server = None

    def close(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported to start()
            self._failure = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = TchatServer(self._config)
        await server.start()
        self._server = server
        self.port = server.port
        assert server.services is not None
        await seed(server.services)
        self._ready.set()
        runner = run_bots if self._bots else run_idle
        bots = asyncio.create_task(runner(self.url, self._stop))
        await self._stop.wait()
        await bots
        if self._server is not None:
            await self._server.stop()
