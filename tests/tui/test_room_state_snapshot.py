"""A picture of the room state around the transcript, compared with
pytest-textual-snapshot: the room list with a muted room (dim, 🔕, no count) and a
muted room that mentions the user (its @ badge stays), the header of a locked room
in slow mode with the alert level and role, the away summary, the hint over the
composer (an upload in progress, why one cannot post) and roles in the member list.

Update after an intended change with ``pytest tests/tui --snapshot-update``, and
look at the new SVG before committing it.
"""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical

from tchat_client.core.models import Member, Room
from tchat_client.tui.catch_up import AwaySummary
from tchat_client.tui.widgets.members import MemberList
from tchat_client.tui.widgets.room_header import RoomHeader
from tchat_client.tui.widgets.room_list import RoomList
from tchat_client.tui.widgets.status_lines import HintLine

OPS = Room(
    2,
    "ops",
    "channel",
    topic="Deploys and alerts",
    member_count=4,
    slow_mode=30,
    locked=True,
    notify="mentions",
    role="owner",
)
ROOMS = [
    Room(1, "general", "channel", unread=4),
    OPS,
    Room(3, "random", "channel", unread=12, muted=True),
    Room(4, "dev", "channel", unread=3, mentions=1, muted=True),
    Room(5, "core-team", "group", unread=2),
    Room(6, "bob", "dm", unread=1, dm_user="bob"),
]
MEMBERS = [
    Member("sam", "online", role="owner"),
    Member("alice", "online", role="moderator"),
    Member("bob", "away", "at lunch", muted_until=0),
    Member("carol", "offline"),
]


class RoomStateApp(App[None]):
    CSS = """
    #sidebar { width: 24; }
    #conversation { width: 1fr; }
    #spacer { height: 1fr; }
    """

    def compose(self) -> ComposeResult:
        with Horizontal():
            with Vertical(id="sidebar"):
                yield RoomList()
            with Vertical(id="conversation"):
                yield RoomHeader()
                yield AwaySummary()
                yield Vertical(id="spacer")
                yield HintLine()
            yield MemberList()

    def on_mount(self) -> None:
        self.query_one(RoomList).show(ROOMS, {"bob": "away"}, OPS.id)
        self.query_one(RoomHeader).show(OPS)
        self.query_one(AwaySummary).show([ROOMS[5], ROOMS[0], ROOMS[4]])
        hint = self.query_one(HintLine)
        hint.set_progress("up", "Uploading report.pdf 45% · 1.2/2.6 MB")
        hint.set_hint("This room is locked: only moderators and admins can post")
        self.query_one(MemberList).show(MEMBERS, "sam")


def test_room_state_snapshot(snap_compare: Any) -> None:
    assert snap_compare(RoomStateApp(), terminal_size=(100, 20))
