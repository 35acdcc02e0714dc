"""Profiles: which server and user, where their files live, and the token.

Config (``profiles.json`` and each profile's token) lives under platformdirs'
user config directory, data (cache, outbox) under the user data directory;
``TCHAT_HOME`` replaces both with one directory, so tests and scripts can keep
users apart. The token file is created with mode 0600 and is the only secret on
disk: no password is ever stored.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import platformdirs

from tchat_client.core.errors import NotLoggedIn

__all__ = ["ENV_HOME", "ENV_PROFILE", "Profile", "ProfileStore", "normalize_url"]

ENV_HOME = "TCHAT_HOME"
ENV_PROFILE = "TCHAT_PROFILE"
APP_NAME = "tchat"


def normalize_url(text: str) -> str:
    """``host:port``, ``http(s)://`` or ``ws(s)://`` -> a ``ws(s)://`` URL.

    Raises:
        ValueError: not a usable server address.
    """
    raw = text.strip()
    if "://" not in raw:
        raw = f"ws://{raw}"
    parts = urlsplit(raw)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    if scheme not in {"ws", "wss"} or not parts.hostname:
        raise ValueError(f"not a server address: {text!r} (try ws://host:8765)")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ValueError(f"bad port in {text!r}") from None
    return urlunsplit((scheme, parts.netloc, parts.path, parts.query, ""))


def default_profile_name(server: str, user: str) -> str:
    """``alice@chat.example.org:8765``: readable, unique per server and user."""
    return f"{user}@{urlsplit(server).netloc}"


def _dir_name(name: str) -> str:
    """A file-system-safe directory name for a profile (no separators, no ':')."""
    return re.sub(r"[^\w.@-]", "_", name) or "_"


def _write_private(path: Path, text: str) -> None:
    """Write a file readable only by its owner, atomically (temp file + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        if hasattr(os, "fchmod"):  # POSIX: whatever the umask, owner-only
            os.fchmod(fd, 0o600)
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


@dataclass(frozen=True, slots=True)
class Profile:
    """One server + user pair and the files that belong to it."""

    name: str
    server: str
    user: str
    config_dir: Path
    data_dir: Path

    @property
    def token_path(self) -> Path:
        return self.config_dir / "token"

    @property
    def cache_path(self) -> Path:
        return self.data_dir / "cache.sqlite3"

    @property
    def outbox_path(self) -> Path:
        return self.data_dir / "outbox.sqlite3"

    def token(self) -> str | None:
        try:
            text = self.token_path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return text or None

    def require_token(self) -> str:
        token = self.token()
        if token is None:
            raise NotLoggedIn(f"profile {self.name} is logged out: run `tchat login`")
        return token

    def save_token(self, token: str) -> None:
        _write_private(self.token_path, token + "\n")

    def forget_token(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.token_path.unlink()


class ProfileStore:
    """The profiles of this machine (or of one ``TCHAT_HOME``) and the default one."""

    def __init__(self, config_root: Path, data_root: Path) -> None:
        self.config_root = config_root
        self.data_root = data_root

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ProfileStore:
        environ = os.environ if env is None else env
        home = environ.get(ENV_HOME)
        if home:
            root = Path(home).expanduser()
            return cls(root, root)
        return cls(
            Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
            Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        )

    @property
    def _index_path(self) -> Path:
        return self.config_root / "profiles.json"

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self._index_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"default": None, "profiles": {}}
        except (OSError, ValueError) as exc:
            raise NotLoggedIn(f"cannot read {self._index_path}: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("profiles"), dict):
            raise NotLoggedIn(f"{self._index_path} is not a tchat profile list")
        return data

    def _write(self, data: dict[str, Any]) -> None:
        _write_private(self._index_path, json.dumps(data, indent=2, sort_keys=True) + "\n")

    def _profile(self, name: str, entry: Mapping[str, Any]) -> Profile:
        folder = _dir_name(name)
        return Profile(
            name=name,
            server=str(entry["server"]),
            user=str(entry["user"]),
            config_dir=self.config_root / "profiles" / folder,
            data_dir=self.data_root / "profiles" / folder,
        )

    def list(self) -> list[Profile]:
        data = self._read()
        return [self._profile(name, entry) for name, entry in sorted(data["profiles"].items())]

    def default_name(self) -> str | None:
        default = self._read().get("default")
        return str(default) if default else None

    def get(self, name: str | None = None) -> Profile:
        """The named profile, else ``TCHAT_PROFILE``'s, else the default one.

        Raises:
            NotLoggedIn: no such profile (or none at all).
        """
        data = self._read()
        wanted = name or os.environ.get(ENV_PROFILE) or data.get("default")
        if not wanted:
            raise NotLoggedIn("not logged in: run `tchat login --server URL --user NAME`")
        entry = data["profiles"].get(wanted)
        if entry is None:
            raise NotLoggedIn(f"no profile named {wanted!r}: run `tchat login`")
        return self._profile(str(wanted), entry)

    def save(
        self, server: str, user: str, name: str | None = None, default: bool = True
    ) -> Profile:
        """Create or update a profile; the newest login becomes the default, as
        ``gh auth login`` does, unless ``default`` is False."""
        profile_name = name or default_profile_name(server, user)
        data = self._read()
        data["profiles"][profile_name] = {"server": server, "user": user}
        if default or not data.get("default"):
            data["default"] = profile_name
        self._write(data)
        profile = self._profile(profile_name, data["profiles"][profile_name])
        profile.config_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        profile.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        return profile

    def set_default(self, name: str) -> None:
        data = self._read()
        if name not in data["profiles"]:
            raise NotLoggedIn(f"no profile named {name!r}")
        data["default"] = name
        self._write(data)
