"""Settings from flags, ``TCHAT_*`` environment variables and a TOML file, in that
order of precedence over the defaults, checked before anything starts.

Every key of ``SETTINGS`` can be set in the file (``port = 8765``) and in the
environment (``TCHAT_PORT=8765``); the common ones also have a flag. An unknown key,
a value of the wrong type or out of range is refused with a ``ConfigError`` that
names the key and where it came from. Relative paths in the file are relative to
the file's folder; elsewhere to the working directory.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from tchat_server.config import SETTINGS, Argon2Params, ServerConfig, Setting

__all__ = ["CONFIG_ENV", "ConfigError", "Resolved", "render", "resolve"]

CONFIG_ENV = "TCHAT_CONFIG"
"""The config file, when ``--config`` is not given."""

OTHER_ENV = frozenset({CONFIG_ENV, "TCHAT_HOME", "TCHAT_PROFILE"})
"""``TCHAT_*`` variables that are not server settings (the client's own)."""


class ConfigError(ValueError):
    """A setting is unknown or its value is unusable; the message names the key."""


BY_KEY: dict[str, Setting] = {s.key: s for s in SETTINGS}
BY_ENV: dict[str, Setting] = {s.env: s for s in SETTINGS}


@dataclass(frozen=True, slots=True)
class Resolved:
    """The effective configuration and, per key, where its value came from."""

    config: ServerConfig
    values: dict[str, Any]
    sources: dict[str, str]


def resolve(
    *,
    file: Path | None = None,
    env: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
) -> Resolved:
    """Merge default < file < environment < flags into a checked ``ServerConfig``.

    ``flags`` maps keys to values given on the command line (``None``: not given).

    Raises:
        ConfigError: every problem found, one per line, each naming its key.
    """
    values = _defaults()
    sources = dict.fromkeys(values, "default")
    problems: list[str] = []

    def take(setting: Setting, raw: Any, source: str, text: bool, base: Path | None) -> None:
        try:
            values[setting.key] = _parse(setting, raw, text=text, base=base)
            sources[setting.key] = source
        except ValueError as exc:
            reason = "expected a non-empty string" if setting.secret else str(exc)
            problems.append(f"{setting.key}: {reason} (from {source})")

    if file is not None:
        for key, raw in _read_file(file).items():
            setting = BY_KEY.get(key)
            if setting is None:
                problems.append(_unknown(key, f"in {file}", list(BY_KEY)))
            else:
                take(setting, raw, f"file {file}", False, file.parent)
    for name, raw in sorted((env or {}).items()):
        if not name.startswith("TCHAT_") or name in OTHER_ENV:
            continue
        setting = BY_ENV.get(name)
        if setting is None:
            problems.append(_unknown(name, "in the environment", list(BY_ENV)))
        else:
            take(setting, raw, f"env {name}", True, None)
    for key, raw in (flags or {}).items():
        if raw is None or raw == []:
            continue
        setting = BY_KEY[key]
        take(setting, raw, f"flag {setting.flag}", True, None)

    if (values["tls_cert"] is None) != (values["tls_key"] is None):
        given = "tls_cert" if values["tls_key"] is None else "tls_key"
        problems.append(f"tls_cert, tls_key: set both or neither (only {given} is set)")
    if values["argon2_memory_kib"] < 8 * values["argon2_parallelism"]:
        problems.append("argon2_memory_kib: must be at least 8 × argon2_parallelism")
    if problems:
        raise ConfigError("\n".join(problems))
    return Resolved(_build(values), values, sources)


def render(resolved: Resolved) -> str:
    """The effective configuration as TOML, secrets masked, each key's source noted."""
    lines = ["# tchat-server: effective configuration (flag > environment > file > default)"]
    for setting in SETTINGS:
        value = resolved.values[setting.key]
        source = resolved.sources[setting.key]
        if value is None:
            lines.append(f"# {setting.key} is not set  ({setting.env})")
            continue
        shown = "********" if setting.secret else value
        lines.append(f"{setting.key} = {_toml(shown)}  # {source}")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ internals


def _defaults() -> dict[str, Any]:
    base = ServerConfig()
    found: dict[str, Any] = {}
    for setting in SETTINGS:
        if setting.key.startswith("argon2_"):
            found[setting.key] = getattr(base.argon2, setting.key.removeprefix("argon2_"))
        elif setting.key == "allow_origins":
            found[setting.key] = list(base.allowed_origins)
        else:
            value = getattr(base, setting.key)
            found[setting.key] = list(value) if isinstance(value, tuple) else value
    return found


def _build(values: dict[str, Any]) -> ServerConfig:
    names = {f.name for f in fields(ServerConfig)}
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key.startswith("argon2_"):
            continue
        name = "allowed_origins" if key == "allow_origins" else key
        assert name in names, name
        kwargs[name] = tuple(value) if isinstance(value, list) else value
    kwargs["argon2"] = Argon2Params(
        time_cost=values["argon2_time_cost"],
        memory_kib=values["argon2_memory_kib"],
        parallelism=values["argon2_parallelism"],
    )
    return ServerConfig(**kwargs)


def _read_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"config file {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None


def _unknown(name: str, where: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]}?" if close else ""
    return f"{name}: unknown setting {where}{hint}"


def _parse(setting: Setting, raw: Any, *, text: bool, base: Path | None) -> Any:
    """One value, from text (environment, flag) or from TOML (typed)."""
    if setting.optional and (raw is None or (isinstance(raw, str) and not raw.strip())):
        return None
    kind = setting.kind
    if kind in {"list", "networks"}:
        items = _as_list(raw, text=text)
        return [_network(item) for item in items] if kind == "networks" else items
    if kind in {"int", "float"}:
        return _number(setting, raw, text=text)
    if kind == "path" and isinstance(raw, os.PathLike):
        raw = os.fspath(raw)
    if not isinstance(raw, str):
        raise ValueError(f"expected a string, got {_shown(raw)}")
    if kind == "path":
        if not raw.strip():
            raise ValueError("expected a path, got an empty string")
        path = Path(raw).expanduser()
        return base / path if base is not None and not path.is_absolute() else path
    if kind == "choice":
        wanted = raw.strip()
        for choice in setting.choices:
            if wanted.casefold() == choice.casefold():
                return choice
        raise ValueError(f"expected one of {', '.join(setting.choices)}, got {_shown(raw)}")
    if not raw.strip():
        raise ValueError("expected a value, got an empty string")
    return raw.strip()


def _number(setting: Setting, raw: Any, *, text: bool) -> int | float:
    want_int = setting.kind == "int"
    noun = "an integer" if want_int else "a number"
    value: int | float
    if text and isinstance(raw, str):
        try:
            value = int(raw.strip()) if want_int else float(raw.strip())
        except ValueError:
            raise ValueError(f"expected {noun}, got {_shown(raw)}") from None
    elif isinstance(raw, bool) or not isinstance(raw, int | float):
        raise ValueError(f"expected {noun}, got {_shown(raw)}")
    elif want_int and not isinstance(raw, int):
        raise ValueError(f"expected an integer, got {_shown(raw)}")
    else:
        value = raw if want_int else float(raw)
    if not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {_shown(raw)}")
    low, high = setting.minimum, setting.maximum
    if (low is not None and value < low) or (high is not None and value > high):
        span = f"from {_num(low)} to {_num(high)}" if high is not None else f"at least {_num(low)}"
        raise ValueError(f"must be {span}, got {_shown(raw)}")
    return value


def _as_list(raw: Any, *, text: bool) -> list[str]:
    if text and isinstance(raw, str):
        return [item.strip() for item in raw.split(",") if item.strip()]
    if isinstance(raw, list | tuple) and all(isinstance(item, str) for item in raw):
        return [item.strip() for item in raw if item.strip()]
    raise ValueError(f"expected a list of strings, got {_shown(raw)}")


def _network(item: str) -> str:
    try:
        return str(ipaddress.ip_network(item, strict=False))
    except ValueError:
        raise ValueError(f"not an IP address or network: {item!r}") from None


def _num(value: float | None) -> str:
    return str(int(value)) if value is not None and float(value).is_integer() else str(value)


def _shown(raw: Any) -> str:
    text = repr(raw)
    return text if len(text) <= 60 else text[:57] + "..."


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)
