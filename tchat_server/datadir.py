"""The data directory's lock: held by ``tchat-server serve`` while it runs, so that
a second server on the same data, or a restore under a live server, is refused.

An advisory ``flock`` on ``.tchat-server.lock``: the kernel drops it when the process
dies, so a crash never leaves a stale lock behind. Admin commands (user, invite,
backup, check) do not take it: they work beside a running server.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX: no lock, no protection
    fcntl = None  # type: ignore[assignment]

__all__ = ["DataDirBusy", "DataDirLock"]

LOCK_NAME = ".tchat-server.lock"


class DataDirBusy(OSError):
    """Another process (a running server) holds the data directory."""


class DataDirLock:
    """``with DataDirLock(data_dir):`` holds the lock or raises ``DataDirBusy``."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise DataDirBusy(
                    f"a tchat-server is running on {self.path.parent} (it holds {LOCK_NAME}): "
                    "stop it first"
                ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None

    def __enter__(self) -> DataDirLock:
        self.acquire()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()
