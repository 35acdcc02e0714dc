"""Logging for the server: human-readable lines (default) or JSON lines, on stderr.

The server never logs a token, a password or a message body: log calls name users,
rooms, addresses and error codes only. As a second line of defence every record
passes through ``scrub``, which masks bearer tokens and ``token``/``password``/
``body``/``invite`` values wherever they appear, and the loggers of libraries that
would log frames or SQL parameters at debug level (websockets, aiosqlite) are held
at WARNING whatever the level asked for.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from tchat_server.config import LogFormat, LogLevel

__all__ = ["JsonFormatter", "TextFormatter", "configure", "scrub"]

MASK = "[redacted]"

_SENSITIVE_KEYS = frozenset({"token", "password", "body", "invite", "authorization", "secret"})
_PATTERNS = (
    re.compile(r"(?i)(\bbearer\s+)[^\s,;\"']+"),
    re.compile(
        r"(?i)([\"']?\b(?:token|password|body|invite)[\"']?\s*[:=]\s*)(\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|[^\s,;}&]+)"
    ),
)
_QUIET = ("websockets", "aiosqlite", "asyncio")
"""Loggers whose debug output would carry frames or SQL parameters."""

_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}


def scrub(text: str) -> str:
    """``text`` with bearer tokens and token/password/body/invite values masked."""
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    return text


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    """Fields given with ``extra=``: sensitive names masked, everything else as text."""
    found: dict[str, Any] = {}
    for key, value in vars(record).items():
        if key in _STANDARD or key.startswith("_"):
            continue
        if key.lower() in _SENSITIVE_KEYS:
            found[key] = MASK
        elif isinstance(value, bool | int | float) or value is None:
            found[key] = value
        else:
            found[key] = scrub(str(value))
    return found


class TextFormatter(logging.Formatter):
    """``2025-01-01 12:00:00,000 INFO tchat.server: message``, scrubbed."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ``ts`` (UTC, ISO 8601), ``level``, ``logger``, ``msg``,
    the record's extra fields, and ``exc`` for a traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": scrub(record.getMessage()),
        }
        entry.update(_extras(record))
        if record.exc_info:
            entry["exc"] = scrub(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exc"] = scrub(record.exc_text)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure(
    fmt: LogFormat = "text", level: LogLevel = "info", stream: TextIO | None = None
) -> None:
    """Send every log record to ``stream`` (stderr) in the chosen format."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
