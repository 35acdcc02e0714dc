"""``tchat-server audit``: the moderation log as a table for people or JSON Lines
for programs.

Reasons are free text typed by moderators: the table escapes control and format
characters (ESC, C1, bidi overrides) so that a log line cannot drive the terminal,
and the JSON is pure ASCII with everything else escaped.
"""

from __future__ import annotations

import json
import unicodedata
from datetime import UTC, datetime
from typing import Any

from tchat_server.storage.moderation import AuditRow

__all__ = ["CLI_ACTOR", "as_json_lines", "as_table", "printable"]

CLI_ACTOR = "(admin cli)"
"""How the table names an action with no actor: the admin CLI's own."""

_HEADERS = ("time (UTC)", "actor", "action", "room", "target", "detail")


def printable(text: str) -> str:
    """``text`` with control, format and unassigned characters shown as escapes."""
    return "".join(f"\\u{ord(c):04x}" if unicodedata.category(c)[0] == "C" else c for c in text)


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _detail(detail: dict[str, Any]) -> str:
    parts: list[str] = []
    for key, value in sorted(detail.items()):
        if key == "until" and isinstance(value, int | float):
            value = _when(value)
        text = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else str(value)
        parts.append(f"{key}={text}")
    return " ".join(parts)


def _cells(row: AuditRow) -> tuple[str, ...]:
    return tuple(
        printable(cell)
        for cell in (
            _when(row.ts),
            row.actor if row.actor is not None else CLI_ACTOR,
            row.action,
            f"#{row.room}" if row.room is not None else "-",
            row.target or "-",
            _detail(row.detail),
        )
    )


def as_table(rows: list[AuditRow]) -> str:
    """Aligned columns, newest first (as given); the detail column runs on."""
    if not rows:
        return "no audited actions\n"
    table = [_HEADERS, *(_cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(_HEADERS) - 1)]
    out = []
    for line in table:
        head = "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=False))
        out.append(f"{head}  {line[-1]}".rstrip())
    return "\n".join(out) + "\n"


def as_json_lines(rows: list[AuditRow]) -> str:
    """One JSON object per line: id, ts, time, actor (null: the admin CLI), action,
    room, target, detail."""
    return "".join(
        json.dumps(
            {
                "id": row.id,
                "ts": row.ts,
                "time": datetime.fromtimestamp(row.ts, UTC).isoformat(),
                "actor": row.actor,
                "action": row.action,
                "room": row.room,
                "target": row.target,
                "detail": row.detail,
            },
            ensure_ascii=True,
            sort_keys=False,
        )
        + "\n"
        for row in rows
    )
