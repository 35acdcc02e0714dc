"""The server's settings: one frozen object, built by the CLI and passed down, and
the table of the keys a self-hoster may set (``SETTINGS``: file key, ``TCHAT_*``
variable, flag). ``tchat_server.settings`` merges and checks them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

__all__ = [
    "SETTINGS",
    "Argon2Params",
    "LogFormat",
    "LogLevel",
    "RegistrationPolicy",
    "ServerConfig",
    "Setting",
]

RegistrationPolicy = Literal["open", "invite", "closed"]
LogFormat = Literal["text", "json"]
LogLevel = Literal["debug", "info", "warning", "error"]


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
    max_connections_per_address: int = 64
    """Open WebSockets from one client address; more are refused with HTTP 429."""
    max_connections_per_user: int = 16
    """Open sessions of one account; more are refused with ``too_many_connections``."""

    rate_per_second: float = 10.0
    rate_burst: int = 20
    flood_disconnect_after: int = 50
    """Refused frames within ``flood_window`` seconds before the socket is closed."""
    flood_window: float = 10.0

    login_attempts_per_account: int = 5
    login_attempts_per_address: int = 20
    login_window: float = 60.0
    token_idle_days: int = 90
    """A session token unused for this many days is expired (0: never)."""
    token_max_days: int = 0
    """A session token older than this many days is expired, used or not (0: never)."""

    argon2: Argon2Params = field(default_factory=Argon2Params)
    hash_concurrency: int = 2

    outbound_queue_frames: int = 2000
    """A client this many frames behind is disconnected (it resumes on reconnect)."""

    typing_interval: float = 3.0
    typing_expiry: float = 6.0
    max_file: int = 25 * 1024 * 1024
    """Largest upload in bytes (0: no uploads)."""
    file_quota: int = 1024 * 1024 * 1024
    """Bytes of files (and unfinished uploads) one user may hold."""
    file_rate: int = 32 * 1024 * 1024
    """File bytes a second per connection (uploaded chunks and asked-for downloads)."""
    revocation_check_interval: float = 5.0
    shutdown_grace: float = 10.0
    """SIGTERM: seconds to close sockets (1001) and finish in-flight commits."""

    tls_cert: Path | None = None
    """PEM certificate chain: with ``tls_key``, the server speaks ``wss://`` itself."""
    tls_key: Path | None = None
    trusted_proxies: tuple[str, ...] = ()
    """Addresses or networks (CIDR) of reverse proxies whose X-Forwarded-For names
    the real client, for rate limits and logs."""
    metrics_token: str | None = field(default=None, repr=False)
    """When set, ``/metrics`` answers only ``Authorization: Bearer <token>``."""
    log_format: LogFormat = "text"
    log_level: LogLevel = "info"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "tchat.db"

    @property
    def files_dir(self) -> Path:
        """Uploaded files (when uploads exist): backed up with the database."""
        return self.data_dir / "files"

    @property
    def uploads_dir(self) -> Path:
        """Parts of unfinished uploads (not backed up: a client resumes or restarts)."""
        return self.data_dir / "uploads"

    @property
    def scheme(self) -> str:
        return "wss" if self.tls_cert is not None else "ws"


SettingKind = Literal["str", "int", "float", "path", "choice", "list", "networks"]


@dataclass(frozen=True, slots=True)
class Setting:
    """One configurable key: ``key`` in the TOML file, ``env`` in the environment."""

    key: str
    kind: SettingKind
    help: str
    flag: str | None = None
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    optional: bool = False
    """May be unset (no value)."""
    secret: bool = False
    """Masked by ``config show``; never given a flag (flags show in ``ps``)."""

    @property
    def env(self) -> str:
        return "TCHAT_" + self.key.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting("host", "str", "address to listen on", flag="--host"),
    Setting(
        "port",
        "int",
        "port to listen on (0 picks a free one)",
        flag="--port",
        minimum=0,
        maximum=65535,
    ),
    Setting("data_dir", "path", "folder of the database (and uploaded files)", flag="--data-dir"),
    Setting(
        "registration",
        "choice",
        "who may create an account over the wire",
        flag="--registration",
        choices=("open", "invite", "closed"),
    ),
    Setting("allow_origins", "list", "browser Origins allowed to connect", flag="--allow-origin"),
    Setting(
        "synchronous",
        "choice",
        "FULL: an ack means on disk; NORMAL: survives a crash, not a power cut",
        flag="--synchronous",
        choices=("FULL", "NORMAL"),
    ),
    Setting(
        "tls_cert",
        "path",
        "PEM certificate chain: serve wss:// directly",
        flag="--tls-cert",
        optional=True,
    ),
    Setting("tls_key", "path", "PEM private key of tls_cert", flag="--tls-key", optional=True),
    Setting(
        "trusted_proxies",
        "networks",
        "proxies (addresses or CIDR networks) whose X-Forwarded-For is believed",
        flag="--trusted-proxy",
    ),
    Setting(
        "metrics_token", "str", "bearer token required by /metrics", optional=True, secret=True
    ),
    Setting(
        "log_format", "choice", "text or JSON lines", flag="--log-format", choices=("text", "json")
    ),
    Setting(
        "log_level",
        "choice",
        "least severe level logged",
        flag="--log-level",
        choices=("debug", "info", "warning", "error"),
    ),
    Setting(
        "shutdown_grace",
        "float",
        "seconds SIGTERM waits for sockets and commits",
        flag="--shutdown-grace",
        minimum=0,
    ),
    Setting("max_frame", "int", "largest frame in bytes", minimum=1024, maximum=16 * 1024 * 1024),
    Setting("max_body", "int", "longest message in characters", minimum=1),
    Setting("history_page", "int", "most messages per history page", minimum=1),
    Setting("resume_cap", "int", "most messages replayed per room on resume", minimum=0),
    Setting("auth_timeout", "float", "seconds a client has to send its first frame", minimum=0.1),
    Setting("max_connections_per_address", "int", "open connections from one address", minimum=1),
    Setting("max_connections_per_user", "int", "open sessions of one account", minimum=1),
    Setting("rate_per_second", "float", "frames a second per connection", minimum=0.1),
    Setting("rate_burst", "int", "burst of frames per connection", minimum=1),
    Setting(
        "flood_disconnect_after",
        "int",
        "refused frames before a flooding socket is closed",
        minimum=1,
    ),
    Setting("flood_window", "float", "seconds over which refused frames count", minimum=0.1),
    Setting("login_attempts_per_account", "int", "failed logins per account per window", minimum=1),
    Setting(
        "login_attempts_per_address",
        "int",
        "failed logins per client address per window",
        minimum=1,
    ),
    Setting("login_window", "float", "seconds of the login throttle window", minimum=1),
    Setting(
        "token_idle_days",
        "int",
        "days a session token may go unused before it expires (0: never)",
        flag="--token-idle-days",
        minimum=0,
    ),
    Setting(
        "token_max_days",
        "int",
        "days a session token lives at most, used or not (0: never)",
        flag="--token-max-days",
        minimum=0,
    ),
    Setting("argon2_time_cost", "int", "argon2id iterations", minimum=1),
    Setting("argon2_memory_kib", "int", "argon2id memory in KiB", minimum=8),
    Setting("argon2_parallelism", "int", "argon2id lanes", minimum=1),
    Setting("hash_concurrency", "int", "password hashes computed at once", minimum=1),
    Setting(
        "outbound_queue_frames", "int", "frames a client may lag before it is cut off", minimum=16
    ),
    Setting("typing_interval", "float", "seconds between typing notices", minimum=0.1),
    Setting("typing_expiry", "float", "seconds a typing notice lasts", minimum=0.1),
    Setting("max_file", "int", "largest upload in bytes (0: no uploads)", minimum=0),
    Setting("file_quota", "int", "bytes of files one user may hold", minimum=0),
    Setting("file_rate", "int", "file bytes a second per connection", minimum=64 * 1024),
    Setting(
        "revocation_check_interval", "float", "seconds between revoked-session sweeps", minimum=0.05
    ),
)
