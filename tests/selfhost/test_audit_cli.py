"""``tchat-server audit`` and ``tchat-server user role``: the real command, run as
a process beside a live server on the same data directory."""

from __future__ import annotations

import json
from pathlib import Path

from shared.frames import CreateRoom, Error, Join, Ok, RoomJoined, RoomLeft
from shared.frames_moderation import Ban, Kick, LockRoom, SetRole, SetSlowMode
from tests.conftest import Running
from tests.selfhost.conftest import run_cli
from tests.wire import Wire, next_rid


async def ok(wire: Wire, frame: object) -> None:
    rid = frame.rid  # type: ignore[attr-defined]
    await wire.send(frame)  # type: ignore[arg-type]
    answer = await wire.find(Ok | Error, where=lambda f: f.rid == rid)  # type: ignore[arg-type]
    assert isinstance(answer, Ok), answer


async def audit(data_dir: Path, *flags: str) -> tuple[int, str, str]:
    return await run_cli("--data-dir", str(data_dir), "audit", *flags)


async def test_every_action_is_in_the_audit_log(srv: Running, data_dir: Path) -> None:
    for name in ("alice", "bob", "carol"):
        await srv.user(name)
    alice, bob, carol = [await srv.connect(n) for n in ("alice", "bob", "carol")]
    await ok(alice, CreateRoom(name="den", rid=next_rid()))
    room = (await alice.find(RoomJoined, where=lambda j: j.room.name == "den")).room.id
    for wire in (bob, carol):
        await ok(wire, Join(name="den", rid=next_rid()))

    await ok(alice, SetRole(room=room, user="bob", role="moderator", rid=next_rid()))
    await ok(bob, Kick(room=room, user="carol", reason="spam \x1b[31mred\x9b", rid=next_rid()))
    await ok(alice, Ban(room=room, user="carol", duration=3600, rid=next_rid()))
    await ok(alice, SetSlowMode(room=room, seconds=10, rid=next_rid()))
    await ok(alice, LockRoom(room=room, rid=next_rid()))

    # The admin CLI makes bob a server admin (audited with no actor); his next
    # connection carries the role, and an admin outranks the room's owner.
    code, out, err = await run_cli("--data-dir", str(data_dir), "user", "role", "bob", "admin")
    assert (code, out.strip()) == (0, "bob is now a server admin"), err
    code, out, _ = await run_cli("--data-dir", str(data_dir), "user", "list")
    assert "bob\tadmin" in out.splitlines()
    bob_again = await srv.connect("bob")
    assert bob_again.welcome is not None and bob_again.welcome.user.role == "admin"
    await ok(bob_again, Kick(room=room, user="alice", rid=next_rid()))
    await alice.find(RoomLeft, where=lambda r: r.room == room)

    code, out, err = await audit(data_dir, "--json")
    assert code == 0, err
    entries = [json.loads(line) for line in out.splitlines()]
    assert [(e["actor"], e["action"], e["room"], e["target"]) for e in entries] == [
        ("bob", "kick", "den", "alice"),
        (None, "server_role", None, "bob"),
        ("alice", "lock", "den", None),
        ("alice", "slow_mode", "den", None),
        ("alice", "ban", "den", "carol"),
        ("bob", "kick", "den", "carol"),
        ("alice", "role", "den", "bob"),
    ]
    assert entries[1]["detail"] == {"role": "admin"}
    assert entries[3]["detail"] == {"seconds": 10}
    assert entries[4]["detail"]["until"] > entries[4]["ts"] + 3500
    assert entries[5]["detail"] == {"reason": "spam \x1b[31mred\x9b"}
    assert out.isascii()  # escapes, never raw control characters

    code, table, _ = await audit(data_dir)
    lines = table.splitlines()
    assert code == 0 and lines[0].split()[:3] == ["time", "(UTC)", "actor"]
    assert len(lines) == 1 + len(entries)
    assert "(admin cli)" in lines[2] and "server_role" in lines[2] and 'role="admin"' in lines[2]
    assert "\x1b" not in table and "\x9b" not in table
    assert 'reason="spam \\u001b[31mred\\u009b"' in lines[6]

    code, out, _ = await audit(data_dir, "--json", "--room", "#den", "--limit", "2")
    assert [json.loads(line)["action"] for line in out.splitlines()] == ["kick", "lock"]
    code, out, _ = await audit(data_dir, "--room", "nowhere")
    assert (code, out) == (0, "no audited actions\n")


async def test_refused_admin_commands_change_nothing(srv: Running, data_dir: Path) -> None:
    await srv.user("alice")
    code, _, err = await run_cli("--data-dir", str(data_dir), "user", "role", "nobody", "admin")
    assert code == 1 and "no user" in err
    code, _, err = await run_cli("--data-dir", str(data_dir), "user", "role", "alice", "king")
    assert code == 2 and "invalid choice" in err
    code, out, _ = await run_cli("--data-dir", str(data_dir), "user", "role", "alice", "member")
    assert (code, out.strip()) == (0, "alice is already a server member")
    code, _, err = await audit(data_dir, "--limit", "0")
    assert code == 1 and "--limit" in err
    code, out, _ = await audit(data_dir, "--json")
    assert (code, out) == (0, "")
    rows = await srv.services.db.fetch_all("SELECT role, is_admin FROM users WHERE name = 'alice'")
    assert [tuple(r) for r in rows] == [("member", 0)]
