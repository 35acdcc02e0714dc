"""The demo's world: people, channels, a group, DMs and a believable conversation.

Written straight through the server's services (the demo runs the server in the
same process), then backdated so the transcript shows yesterday and today.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass

from tchat_server.app import Services
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
    reply_to: int | None = None
    """Index (in the same list) of the line this one answers."""
    reactions: tuple[tuple[str, tuple[str, ...]], ...] = ()
    edited: str | None = None
    """The body after an edit (the line is posted as ``body``, then edited)."""
    deleted: bool = False


GENERAL = [
    Line(
        1500,
        "alice",
        "Morning all :sunny: standup moved to **10:30** today",
        reactions=(("👍", ("bob", "carol", "sam")), ("☕", ("dave",))),
    ),
    Line(1490, "bob", "thanks! I'll bring the release notes"),
    Line(1480, "carol", "Can someone review the resume fix? It's in `server/handshake.py`"),
    Line(1475, "sam", "On it :eyes:", reply_to=2),
    Line(1440, "sam", "Left two comments: the replay can race the live events", reply_to=2),
    Line(
        1430, "carol", "Good catch, fixed both. Thanks!", reply_to=2, reactions=(("🙏", ("sam",)),)
    ),
    Line(900, "dave", "wrong channel, sorry", deleted=True),
    Line(95, "dave", "Lunch at the usual place? :taco:"),
    Line(93, "alice", "yes please"),
    Line(
        40,
        "bob",
        "Heads up: the **v0.2** branch is cut.\nFreeze is Wednesday.",
        edited="Heads up: the **v0.2** branch is cut.\nFreeze is _Thursday_, ~~Wednesday~~.",
    ),
    Line(
        38,
        "carol",
        "Checklist before the freeze:\n1. green CI\n2. changelog\n3. migration tested on a copy of prod",
    ),
    Line(12, "alice", "@sam did the reconnect storm numbers come back?"),
    Line(
        11,
        "sam",
        "They did: 5,000 clients resumed in **3.1 s** :tada:",
        reply_to=11,
        reactions=(("🎉", ("alice", "bob", "dave")), ("❤️", ("carol",))),
    ),
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

DEPLOY_LOG = "\n".join(
    f"2026-11-26T09:{minute:02d}:00Z web@4f2c1a step {minute}: ok" for minute in range(40)
).encode()

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
        seqs: list[int] = []
        for line in lines:
            author = users[line.author]
            parent = seqs[line.reply_to] if line.reply_to is not None else None
            future = await services.messages.post(
                room_id, author.id, author.name, str(uuid.uuid4()), line.body, reply_to=parent
            )
            row = await future
            seqs.append(row.seq)
            await services.message_store.set_created_at(row.id, now - line.minutes_ago * 60)
        for line, seq in zip(lines, seqs, strict=True):
            await _afterwards(services, users, room_id, seq, line)
    await _post_file(services, users["deploy-bot"], channels["ops"], now)
    # Sam has read everything but the last few messages in a couple of rooms.
    for room_id, unread in (
        (channels["general"], 3),
        (channels["dev"], 0),
        (channels["random"], 0),
    ):
        room = await services.room_store.get(room_id)
        assert room is not None
        await services.room_store.mark_read(room_id, users[ME].id, room.latest_seq - unread)


async def _afterwards(
    services: Services, users: dict[str, UserRow], room_id: int, seq: int, line: Line
) -> None:
    """What happened to a line after it was posted: reactions, an edit, a delete."""
    author = users[line.author]
    for emoji, people in line.reactions:
        for person in people:
            await services.changes.react(room_id, seq, users[person].id, emoji)
    if line.edited is not None:
        await services.changes.edit(room_id, seq, author.id, line.edited)
    if line.deleted:
        await services.changes.delete(room_id, seq, author.id)


async def _post_file(services: Services, bot: UserRow, room_id: int, now: float) -> None:
    """The deploy bot attaches its log: a file card in #ops."""
    digest = hashlib.sha256(DEPLOY_LOG).hexdigest()
    files = services.files
    upload, _ = await files.upload_start(
        bot.id, room_id, "deploy-web-4f2c1a.log", len(DEPLOY_LOG), digest, "text/plain"
    )
    done = await files.upload_chunk(bot.id, upload, 0, DEPLOY_LOG)
    assert done.file is not None
    future = await services.messages.post(
        room_id, bot.id, bot.name, str(uuid.uuid4()), "full log of the deploy", file_id=done.file.id
    )
    row = await future
    await services.message_store.set_created_at(row.id, now - 29 * 60)
