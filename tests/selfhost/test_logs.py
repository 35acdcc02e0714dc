"""Log formats: human-readable or JSON lines, and secrets scrubbed from both."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from tchat_server.logs import MASK, configure, scrub


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer abc.DEF-123_x", "abc.DEF-123_x"),
        ('frame {"type":"login","password":"pa\\"ss w0rd","username":"al"}', 'pa\\"ss w0rd'),
        ('{"type": "hello", "token": "tok-123"}', "tok-123"),
        ("login with password=hunter2&x=1", "hunter2"),
        ("{'body': 'my private text', 'room': 1}", "my private text"),
        ('register {"invite": "inv-code-1"}', "inv-code-1"),
    ],
)
def test_scrub_masks_secrets(text: str, secret: str) -> None:
    cleaned = scrub(text)
    assert secret not in cleaned and MASK in cleaned


def test_scrub_leaves_ordinary_lines_alone() -> None:
    line = "login refused for alice from 203.0.113.5: auth_failed (body_too_long, token_invalid)"
    assert scrub(line) == line


@pytest.fixture
def root_logging() -> Iterator[io.StringIO]:
    """``configure`` into a buffer; the root logger is put back afterwards."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    quiet = {name: logging.getLogger(name).level for name in ("websockets", "aiosqlite")}
    stream = io.StringIO()
    yield stream
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    for name, level in quiet.items():
        logging.getLogger(name).setLevel(level)


def test_json_lines_with_fields_and_masked_extras(root_logging: io.StringIO) -> None:
    configure("json", "debug", stream=root_logging)
    log = logging.getLogger("tchat.server")
    log.info(
        "%s connected from %s",
        "alice",
        "203.0.113.5",
        extra={"event": "connected", "user": "alice", "address": "203.0.113.5", "password": "pw"},
    )
    try:
        raise ValueError('bad frame {"token": "tok-999"}')
    except ValueError:
        log.exception("failed")
    logging.getLogger("websockets.server").debug('< TEXT \'{"body": "private"}\'')
    logging.getLogger("aiosqlite").debug("executing INSERT ... ('private',)")

    lines = root_logging.getvalue().splitlines()
    assert len(lines) == 2  # the libraries' debug output is held back
    first, second = (json.loads(line) for line in lines)
    assert first["msg"] == "alice connected from 203.0.113.5"
    assert (first["level"], first["logger"], first["event"]) == (
        "info",
        "tchat.server",
        "connected",
    )
    assert (first["user"], first["address"], first["password"]) == ("alice", "203.0.113.5", MASK)
    assert first["ts"].endswith("+00:00")
    assert second["level"] == "error" and "ValueError" in second["exc"]
    assert "tok-999" not in lines[1]


def test_text_lines_are_scrubbed(root_logging: io.StringIO) -> None:
    configure("text", "info", stream=root_logging)
    logging.getLogger("tchat.server").info("header was Bearer sekrit-token")
    logging.getLogger("tchat.server").debug("not at info")
    out = root_logging.getvalue()
    assert "INFO tchat.server: header was Bearer [redacted]" in out
    assert "sekrit-token" not in out and "not at info" not in out
