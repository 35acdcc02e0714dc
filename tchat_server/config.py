"""The server's settings: one frozen object, built by the CLI and passed down."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

__all__ = ["Argon2Params", "RegistrationPolicy", "ServerConfig"]

RegistrationPolicy = Literal["open", "invite", "closed"]


@dataclass(frozen=True, slots=True)
class Argon2Params:
    """argon2id cost. The defaults are argon2-cffi's (RFC 9106 low-memory profile);
    tests use ``Argon2Params.cheap()``."""

    time_cost: int = 3
    memory_kib: int = 65536
    parallelism: int = 4

    @classmethod
    def cheap(cls) -> Argon2Params:
        return cls(time_cost=1, memory_kib=1024, parallelism=1)


@dataclass(frozen=True, slots=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8765
    data_dir: Path = Path("data")
    synchronous: Literal["NORMAL", "FULL"] = "FULL"
    """FULL: an ack means the message is on disk and survives a power cut."""

    registration: RegistrationPolicy = "invite"
    allowed_origins: tuple[str, ...] = ()
    """Browser Origins allowed to connect; requests with any other Origin are refused."""

    max_frame: int = 64 * 1024
    max_body: int = 4000
    history_page: int = 200
    resume_cap: int = 1000
    """A room missing more messages than this is not replayed: the client pages."""
    auth_timeout: float = 5.0

    rate_per_second: float = 10.0
    rate_burst: int = 20
    flood_disconnect_after: int = 50
    """Refused frames within ``flood_window`` seconds before the socket is closed."""
    flood_window: float = 10.0

    login_attempts_per_account: int = 5
    login_attempts_per_address: int = 20
    login_window: float = 60.0

    argon2: Argon2Params = field(default_factory=Argon2Params)
    hash_concurrency: int = 2

    outbound_queue_frames: int = 2000
    """A client this many frames behind is disconnected (it resumes on reconnect)."""

    typing_interval: float = 3.0
    typing_expiry: float = 6.0
    revocation_check_interval: float = 5.0
    shutdown_grace: float = 10.0

    @property
    def db_path(self) -> Path:
        return self.data_dir / "tchat.db"
