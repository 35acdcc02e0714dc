"""The words of notification levels, moderation, catch-up and files: parsing what
the user types and phrasing what happened, as plain functions (no screen)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tchat_client.core.events import ModerationNotice
from tchat_client.core.models import Room
from tchat_client.tui.catch_up import summary_text
from tchat_client.tui.complete import complete
from tchat_client.tui.moderation_ui import (
    format_duration,
    moderation_args,
    notice_text,
    parse_duration,
    post_hint,
    slow_seconds,
)
from tchat_client.tui.slash import SlashError, parse
from tchat_client.tui.transfers_ui import human_size, progress_text, split_upload_args

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), ("30s", 30), ("5m", 300), ("2h", 7200), ("7d", 604800), ("1h30m", 5400)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "spam", "5x", "m", "0", "-5m"])
def test_not_durations(text: str) -> None:
    assert parse_duration(text) is None


def test_format_duration() -> None:
    assert [format_duration(s) for s in (45, 600, 5400, 7200, 86400, 3 * 86400)] == [
        "45 s",
        "10 min",
        "1 h 30 min",
        "2 h",
        "1 day",
        "3 days",
    ]


def test_slow_mode_argument() -> None:
    assert [slow_seconds(w) for w in ("off", "0", "30s", "5m")] == [0, 0, 30, 300]
    with pytest.raises(SlashError):
        slow_seconds("7h")
    with pytest.raises(SlashError):
        slow_seconds("soon")


ROOM = Room(id=7, name="ops", kind="channel")


def call_for(line: str) -> object:
    command = parse(line)
    assert command is not None
    return moderation_args(ROOM.id, command)


def test_moderation_commands_become_calls() -> None:
    assert call_for("/kick @bob spamming links") == (
        "kick",
        (7, "bob"),
        {"reason": "spamming links"},
    )
    assert call_for("/ban bob 2h flood") == (
        "ban",
        (7, "bob"),
        {"duration": 7200, "reason": "flood"},
    )
    assert call_for("/ban bob being rude") == (
        "ban",
        (7, "bob"),
        {"duration": None, "reason": "being rude"},
    )
    assert call_for("/ban bob 2 links in a row") == (
        "ban",
        (7, "bob"),
        {"duration": None, "reason": "2 links in a row"},
    )
    assert call_for("/mute @bob 10m") == ("mute", (7, "bob"), {"duration": 600, "reason": ""})
    assert call_for("/role bob Moderator") == ("set_role", (7, "bob", "moderator"), {})
    assert call_for("/op bob") == ("set_role", (7, "bob", "moderator"), {})
    assert call_for("/deop bob") == ("set_role", (7, "bob", "member"), {})
    assert call_for("/slow off") == ("slow_mode", (7, 0), {})
    assert call_for("/lock") == ("lock", (7,), {"locked": True})
    assert call_for("/unlock") == ("lock", (7,), {"locked": False})


@pytest.mark.parametrize("line", ["/kick", "/role bob king", "/notify loudly", "/upload"])
def test_bad_commands_say_how(line: str) -> None:
    with pytest.raises(SlashError, match="usage"):
        parse(line)


def test_notice_lines() -> None:
    def line(**fields: object) -> str:
        return notice_text(ModerationNotice(room_id=1, by="alice", **fields), NOW)  # type: ignore[arg-type]

    assert line(action="kick", user="bob", reason="spam") == "alice kicked bob (spam)"
    assert line(action="mute", user="bob", until=NOW + 600) == "alice muted bob for 10 min"
    assert line(action="ban", user="bob") == "alice banned bob"
    assert line(action="slow_mode", seconds=30) == "alice set slow mode: 30 s between messages"
    assert line(action="slow_mode", seconds=0) == "alice turned slow mode off"
    assert line(action="lock") == "alice locked the room: only moderators can post"
    assert line(action="role", user="bob", role="moderator") == "alice made bob a moderator"


def test_post_hint() -> None:
    assert post_hint(ROOM, NOW) == ""
    assert "locked" in post_hint(Room(1, "ops", "channel", locked=True), NOW)
    assert post_hint(Room(1, "ops", "channel", locked=True, role="moderator"), NOW) == ""
    assert "muted you" in post_hint(Room(1, "ops", "channel", muted_until=0), NOW)
    assert post_hint(Room(1, "ops", "channel", muted_until=NOW - 1), NOW) == ""
    assert "30 s" in post_hint(Room(1, "ops", "channel", slow_mode=30), NOW)


def test_away_summary_words() -> None:
    rooms = [
        Room(1, "general", "channel", unread=12),
        Room(2, "bob", "dm", unread=3, mentions=1, dm_user="bob"),
        Room(3, "ops", "group", unread=5),
    ]
    assert summary_text(rooms) == "Since you were away: #general 12 · @bob 3 (1 mention) · ops 5"
    assert summary_text([]) == ""


def test_progress_words() -> None:
    assert progress_text("Uploading", "report.pdf", 1_200_000, 2_700_000) == (
        "Uploading report.pdf 44% · 1.1/2.6 MB"
    )
    assert human_size(512) == "512 B"


def test_upload_arguments(tmp_path: Path) -> None:
    spaced = tmp_path / "my report.pdf"
    spaced.write_bytes(b"x")
    assert split_upload_args(str(spaced)) == (spaced, "")
    assert split_upload_args(f'"{spaced}" the numbers') == (spaced, "the numbers")
    assert split_upload_args("~/a.txt hello there") == (Path.home() / "a.txt", "hello there")


def test_completion_of_arguments(tmp_path: Path) -> None:
    people = ["bob", "bill", "carol"]
    found = complete("/kick b", people=people)
    assert found is not None and [c.insert for c in found.candidates] == ["@bob ", "@bill "]
    assert complete("/kick bob", people=people) is None, "typed in full: Enter runs it"
    found = complete("/notify m")
    assert found is not None and [c.insert for c in found.candidates] == ["mentions ", "mute "]
    found = complete("/role bob mo", people=people)
    assert found is not None and [c.insert for c in found.candidates] == ["moderator "]
    assert complete("/lock") is None
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "nested").mkdir()
    found = complete(f"/upload {tmp_path}/n")
    assert found is not None
    assert [c.insert for c in found.candidates] == [f"{tmp_path}/nested/", f"{tmp_path}/notes.txt "]
