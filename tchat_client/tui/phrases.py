"""The short sentences the TUI shows about state (typing, connection), as plain
functions of plain data so they can be tested without a screen."""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["offline_text", "typing_text"]


def typing_text(users: Sequence[str]) -> str:
    """ "alice is typing…", "alice and bob are typing…", "several people are typing…"."""
    if not users:
        return ""
    if len(users) == 1:
        return f"{users[0]} is typing…"
    if len(users) == 2:
        return f"{users[0]} and {users[1]} are typing…"
    if len(users) == 3:
        return f"{users[0]}, {users[1]} and {users[2]} are typing…"
    return "several people are typing…"


def offline_text(status: str, retry_in: float | None, queued: int, detail: str = "") -> str:
    """The offline banner: "Offline — reconnecting in 4 s, 3 queued"."""
    waiting = f", {queued} queued" if queued else ""
    if status == "connecting":
        return f"Connecting…{waiting}"
    if status == "failed":
        reason = f": {detail}" if detail else ""
        return f"Disconnected{reason}{waiting}"
    if retry_in is not None and retry_in > 0.5:
        return f"Offline — reconnecting in {math.ceil(retry_in)} s{waiting}"
    if retry_in is not None:
        return f"Offline — reconnecting now{waiting}"
    return f"Offline{waiting}"
