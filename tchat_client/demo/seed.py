"""The demo's world: people, channels, a group, DMs and a believable conversation.

Written straight through the server's services (the demo runs the server in the
same process), then backdated so the transcript shows yesterday and today.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from tchat_server.app import Services
from tchat_server.storage.messages import NewMessage
from tchat_server.storage.users import UserRow

__all__ = ["DEMO_PASSWORD", "ME", "PEOPLE", "seed"]

ME = "sam"
PEOPLE = ("alice", "bob", "carol", "dave", "deploy-bot")
DEMO_PASSWORD = "demo-password"


@dataclass(frozen=True, slots=True)
class Line:
    minutes_ago: float
    author: str
    body: str


GENERAL = [
    Line(1500, "alice", "Morning all :sunny: standup moved to **10:30** today"),
    Line(1490, "bob", "thanks! I'll bring the release notes"),
    Line(1480, "carol", "Can someone review the resume fix? It's in `server/handshake.py`"),
    Line(1475, "sam", "On it :eyes:"),
    Line(95, "dave", "Lunch at the usual place? :taco:"),
    Line(93, "alice", "yes please"),
    Line(40, "bob", "Heads up: the **v0.2** branch is cut.\nFreeze is _Thursday_, ~~Wednesday~~."),
    Line(
        38,
        "carol",
        "Checklist before the freeze:\n1. green CI\n2. changelog\n3. migration tested on a copy of prod",
    ),
    Line(12, "alice", "@sam did the reconnect storm numbers come back?"),
    Line(11, "sam", "They did: 5,000 clients resumed in **3.1 s** :tada:"),
    Line(10, "dave", "> 5,000 clients resumed in 3.1 s\n\nthat's lovely"),
    Line(
        3,
        "bob",
        "Here's the trick we used for batching:\n```python\nasync def drain(queue):\n    batch = [await queue.get()]\n    while not queue.empty():\n        batch.append(queue.get_nowait())\n    return batch\n```",
    ),
    Line(2, "carol", "neat! see https://docs.python.org/3/library/asyncio-queue.html"),
]

DEV = [
    Line(300, "carol", "Anyone seen `database is locked` in the tests?"),
    Line(298, "bob", "Only with two writers. We keep one writer connection now."),
    Line(
        120, "alice", "PR for the transcript widget is up: it renders only visible lines :rocket:"
    ),
    Line(60, "dave", "Benchmarks: first paint of 10k messages **0.1 s**"),
]

RANDOM = [
    Line(800, "dave", "What's everyone reading?"),
    Line(790, "alice", "_The Soul of a New Machine_ again :books:"),
]

OPS = [
    Line(30, "deploy-bot", ":white_check_mark: deploy `web@4f2c1a` finished in 42 s"),
    Line(15, "deploy-bot", ":warning: disk on `db-2` at 81%"),
]

CORE_TEAM = [
    Line(200, "alice", "Roadmap doc for Q1 is in the usual folder"),
    Line(190, "bob", "Reading it now. I like the threads proposal"),
    Line(20, "alice", "@sam can you take the search milestone?"),
]

DM_ALICE = [
    Line(50, "alice", "hey, got a minute for the perf review later?"),
    Line(48, "sam", "sure, after lunch?"),
    Line(47, "alice", "perfect :+1:"),
]

DM_BOB = [
    Line(7, "bob", "can you look at my PR when you're free? no rush"),
]


async def seed(services: Services) -> None:
    """Create the demo world (once: a seeded database is left as it is)."""
    accounts, rooms = services.accounts, services.rooms
    if await services.users.get_by_name(ME) is not None:
        return
    users: dict[str, UserRow] = {}
    for name in (ME, *PEOPLE):
        users[name] = await accounts.create_user(name, DEMO_PASSWORD, admin=name == ME)
    general = await services.room_store.get_by_name("general")
    assert general is not None
    await services.room_store.set_topic(general.id, "Company-wide chatter · be kind :)")
    for user in users.values():
        await services.room_store.add_member(general.id, user.id)
        services.hub.add_member(general.id, user.id)
    channels = {"general": general.id}
    for name, topic, members in (
        ("dev", "Code, reviews and CI", (ME, "alice", "bob", "carol", "dave")),
        ("random", "Anything goes", (ME, "alice", "dave")),
        ("ops", "Deploys and alerts", (ME, "bob", "deploy-bot")),
    ):
        info = await rooms.create(
            name, "channel", topic, [m for m in members if m != ME], users[ME]
        )
        channels[name] = info.id
    group = await rooms.create("core-team", "group", "Planning", ["alice", "bob"], users[ME])
    dm_alice = await rooms.dm_room(users["alice"], ME)
    dm_bob = await rooms.dm_room(users["bob"], ME)
    now = time.time()
    for room_id, lines in (
        (channels["general"], GENERAL),
        (channels["dev"], DEV),
        (channels["random"], RANDOM),
        (channels["ops"], OPS),
        (group.id, CORE_TEAM),
        (dm_alice, DM_ALICE),
        (dm_bob, DM_BOB),
    ):
        for line in lines:
            author = users[line.author]
            item = NewMessage(room_id, author.id, str(uuid.uuid4()), line.body, author.name)
            row = await services.messages.committer.submit(item)
            await services.message_store.set_created_at(row.id, now - line.minutes_ago * 60)
    # Sam has read everything but the last few messages in a couple of rooms.
    for room_id, unread in (
        (channels["general"], 3),
        (channels["dev"], 0),
        (channels["random"], 0),
    ):
        room = await services.room_store.get(room_id)
        assert room is not None
        await services.room_store.mark_read(room_id, users[ME].id, room.latest_seq - unread)
