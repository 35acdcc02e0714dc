"""Hostile and broken input: each gets its error or close code, and nothing else
changes (no row stored, other clients still served)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from websockets.exceptions import InvalidStatus

from shared.codec import encode
from shared.errors import CloseCode, ErrorCode
from shared.frames import (
    PROTOCOL_VERSION,
    CreateRoom,
    Error,
    History,
    Login,
    Logout,
    MessagePosted,
    Ok,
    Ping,
    Pong,
    RoomJoined,
    Send,
    Welcome,
)
from tests.conftest import PASSWORD, Running
from tests.server.util import (
    StartServer,
    assert_untouched,
    error_for,
    message_count,
    post,
    room_id,
    round_trip,
)
from tests.wire import Wire


@dataclass
class Scene:
    srv: Running
    alice: Wire
    bob: Wire
    general: int
    rows: int

    async def untouched(self, *, alice_alive: bool = True) -> None:
        """No row stored or changed, nothing published, everyone else served."""
        await assert_untouched(
            self.srv, [self.bob, *([self.alice] if alice_alive else [])], self.rows
        )
        first = await self.srv.services.db.fetch_one("SELECT body FROM messages WHERE seq = 1")
        assert first is not None and first[0] == "a message that must survive"
        assert len(self.bob.seen(MessagePosted)) == self.rows


@pytest.fixture
async def scene(srv: Running) -> AsyncIterator[Scene]:
    await srv.user("alice")
    await srv.user("bob")
    alice = await srv.connect("alice")
    bob = await srv.connect("bob")
    general = room_id(alice)
    await post(alice, general, "a message that must survive")
    yield Scene(srv, alice, bob, general, await message_count(srv))


async def raw_error(
    scene: Scene, raw: str | bytes, *, rid: str | None = None, cid: str | None = None
) -> Error:
    """Send a raw frame; its error (by id, or else the one error answered before a
    ping's pong, since frames are answered in order)."""
    before = len(scene.alice.seen(Error))
    await scene.alice.send_raw(raw)
    if rid is None and cid is None:
        await round_trip(scene.alice)
        errors = scene.alice.seen(Error)[before:]
        assert len(errors) == 1, errors
        return errors[0]
    return await error_for(scene.alice, rid=rid, cid=cid)


# ------------------------------------------------------------- after the welcome


async def test_malformed_json(scene: Scene) -> None:
    error = await raw_error(scene, '{"type": "send", "client_msg_id": ')
    assert error.code == ErrorCode.BAD_FRAME
    await scene.untouched()


async def test_unknown_frame_type(scene: Scene) -> None:
    error = await raw_error(scene, '{"type": "explode", "rid": "u1"}', rid="u1")
    assert error.code == ErrorCode.BAD_FRAME
    await scene.untouched()


async def test_wrong_field_types(scene: Scene) -> None:
    frame = {"type": "send", "client_msg_id": "w1", "body": 42, "room": scene.general}
    error = await raw_error(scene, json.dumps(frame), cid="w1")
    assert error.code == ErrorCode.BAD_FRAME and "body" in error.message
    frame = {"type": "history", "rid": "w2", "room": "general"}
    error = await raw_error(scene, json.dumps(frame), rid="w2")
    assert error.code == ErrorCode.BAD_FRAME
    frame = {"type": "send", "client_msg_id": "w3", "body": "x"}
    error = await raw_error(scene, json.dumps(frame), cid="w3")
    assert error.code == ErrorCode.BAD_FRAME  # neither room nor dm
    await scene.untouched()


async def test_a_first_frame_only_command_after_the_welcome(scene: Scene) -> None:
    frame = Login(protocol=PROTOCOL_VERSION, username="alice", password=PASSWORD)
    await scene.alice.send(frame)
    await round_trip(scene.alice)
    assert [e.code for e in scene.alice.seen(Error)] == [ErrorCode.BAD_FRAME]
    await scene.untouched()


async def test_oversized_frame_closes_1009(scene: Scene) -> None:
    body = "x" * (64 * 1024)
    await scene.alice.send(Send(client_msg_id="big", body=body, room=scene.general))
    closed = await scene.alice.wait_closed()
    assert closed.rcvd is not None and closed.rcvd.code == CloseCode.TOO_BIG
    await scene.untouched(alice_alive=False)


async def test_body_too_long(scene: Scene) -> None:
    await scene.alice.send(Send(client_msg_id="long", body="y" * 4001, room=scene.general))
    error = await error_for(scene.alice, cid="long")
    assert error.code == ErrorCode.BODY_TOO_LONG
    # Exactly at the limit is fine (and trailing whitespace does not count).
    ack = await post(scene.alice, scene.general, "y" * 4000 + "   ")
    assert ack.seq == 2
    scene.rows += 1
    await scene.untouched()


async def test_empty_body(scene: Scene) -> None:
    await scene.alice.send(Send(client_msg_id="blank", body=" \n\t ", room=scene.general))
    assert (await error_for(scene.alice, cid="blank")).code == ErrorCode.EMPTY_BODY
    await scene.untouched()


async def test_unknown_room(scene: Scene) -> None:
    await scene.alice.send(Send(client_msg_id="nowhere", body="hi", room=987654, rid="s"))
    error = await error_for(scene.alice, rid="s")
    assert error.code == ErrorCode.ROOM_NOT_FOUND and error.client_msg_id == "nowhere"
    await scene.alice.send(History(room=987654, rid="h"))
    assert (await error_for(scene.alice, rid="h")).code == ErrorCode.ROOM_NOT_FOUND
    await scene.untouched()


async def test_posting_where_one_is_not_a_member(scene: Scene) -> None:
    await scene.bob.send(CreateRoom(name="bobs-channel", rid="c"))
    joined = await scene.bob.find(RoomJoined)
    await scene.bob.send(CreateRoom(name="bobs-group", kind="group", rid="g"))
    group = await scene.bob.find(RoomJoined, where=lambda j: j.room.kind == "group")

    await scene.alice.send(Send(client_msg_id="nm", body="hi", room=joined.room.id))
    error = await error_for(scene.alice, cid="nm")
    assert error.code == ErrorCode.NOT_MEMBER
    await scene.alice.send(History(room=joined.room.id, rid="nmh"))
    assert (await error_for(scene.alice, rid="nmh")).code == ErrorCode.NOT_MEMBER
    # A private group one is not in does not exist, as far as one can tell.
    await scene.alice.send(Send(client_msg_id="ng", body="hi", room=group.room.id))
    assert (await error_for(scene.alice, cid="ng")).code == ErrorCode.ROOM_NOT_FOUND
    await scene.untouched()


async def test_dm_to_nobody(scene: Scene) -> None:
    await scene.alice.send(Send(client_msg_id="dm1", body="hello?", dm="nobody", rid="d"))
    error = await error_for(scene.alice, rid="d")
    assert error.code == ErrorCode.USER_NOT_FOUND and error.client_msg_id == "dm1"
    rooms = await scene.srv.services.db.fetch_all("SELECT id FROM rooms WHERE kind = 'dm'")
    assert rooms == []
    await scene.untouched()


async def test_deeply_nested_json(scene: Scene) -> None:
    depth = 30_000
    error = await raw_error(scene, "[" * depth + "]" * depth)
    assert error.code == ErrorCode.BAD_FRAME
    # Too deep to parse at all, so its rid cannot be read back either.
    nested = '{"type": "ping", "rid": "deep", "x": ' + "[" * depth + "]" * depth + "}"
    error = await raw_error(scene, nested)
    assert error.code == ErrorCode.BAD_FRAME and "nested" in error.message
    nested = '{"type": "ping", "rid": "deep", "x": ' + "[" * 100 + "]" * 100 + "}"
    await scene.alice.send_raw(nested)
    await scene.alice.find(Pong, where=lambda p: p.rid == "deep")  # unknown fields are ignored
    nested = '{"type": "ping", "rid": ' + '{"a": ' * 5000 + "1" + "}" * 5000 + "}"
    error = await raw_error(scene, nested)
    assert error.code == ErrorCode.BAD_FRAME and error.rid is None
    await scene.untouched()


async def test_nul_bytes(scene: Scene) -> None:
    frame = {"type": "send", "client_msg_id": "nul", "body": "a\x00b", "room": scene.general}
    error = await raw_error(scene, json.dumps(frame), cid="nul")
    assert error.code == ErrorCode.BAD_FRAME
    # A NUL in the id itself: refused without echoing the id (and without dying).
    frame = {"type": "send", "client_msg_id": "n\x00l", "body": "ok", "room": scene.general}
    error = await raw_error(scene, json.dumps(frame))
    assert error.code == ErrorCode.BAD_FRAME and error.client_msg_id is None
    frame = {"type": "ping", "rid": "r\x00d"}
    error = await raw_error(scene, json.dumps(frame))
    assert error.code == ErrorCode.BAD_FRAME and error.rid is None
    await scene.untouched()


async def test_huge_integers(scene: Scene) -> None:
    for n, number in enumerate(["9" * 40, str(2**53), "-1", "1e400", "3.5"]):
        raw = f'{{"type": "history", "rid": "int{n}", "room": {number}}}'
        error = await raw_error(scene, raw, rid=f"int{n}")
        assert error.code == ErrorCode.BAD_FRAME, number
    await scene.untouched()


async def test_invalid_utf8(scene: Scene) -> None:
    error = await raw_error(scene, b'{"type": "ping", "rid": "\xff\xfe"}')
    assert error.code == ErrorCode.BAD_FRAME
    frame = b'{"type": "send", "client_msg_id": "u8", "room": 1, "body": "\xc3("}'
    error = await raw_error(scene, frame)
    assert error.code == ErrorCode.BAD_FRAME
    await scene.untouched()


# ----------------------------------------------------------- as the first frame


async def first_frame(srv: Running, raw: str) -> tuple[Error, int]:
    wire = await Wire.open(srv.url)
    srv.wires.append(wire)
    await wire.send_raw(raw)
    error = await wire.find(Error)
    closed = await wire.wait_closed()
    assert closed.rcvd is not None
    return error, closed.rcvd.code


async def test_wrong_password(scene: Scene) -> None:
    login = Login(protocol=PROTOCOL_VERSION, username="alice", password="wrong password")
    error, code = await first_frame(scene.srv, encode(login).decode())
    assert (error.code, code) == (ErrorCode.AUTH_FAILED, CloseCode.AUTH_FAILED)
    await scene.untouched()


async def test_missing_token_and_non_auth_first_frames(scene: Scene) -> None:
    for raw in (
        json.dumps({"type": "hello", "protocol": PROTOCOL_VERSION}),
        json.dumps({"type": "ping", "rid": "p"}),
        json.dumps({"type": "send", "client_msg_id": "x", "body": "x", "room": 1}),
    ):
        error, code = await first_frame(scene.srv, raw)
        assert (error.code, code) == (ErrorCode.AUTH_REQUIRED, CloseCode.PROTOCOL), raw
    await scene.untouched()


async def test_bad_first_frames(scene: Scene) -> None:
    error, code = await first_frame(scene.srv, "{not json")
    assert (error.code, code) == (ErrorCode.BAD_FRAME, CloseCode.PROTOCOL)
    raw = json.dumps({"type": "hello", "protocol": 99, "token": "t"})
    error, code = await first_frame(scene.srv, raw)
    assert (error.code, code) == (ErrorCode.UNSUPPORTED_PROTOCOL, CloseCode.PROTOCOL)
    raw = json.dumps({"type": "login", "protocol": 1, "username": "alice", "password": 5})
    error, code = await first_frame(scene.srv, raw)
    assert (error.code, code) == (ErrorCode.BAD_FRAME, CloseCode.PROTOCOL)
    await scene.untouched()


async def test_oversized_first_frame(scene: Scene) -> None:
    wire = await Wire.open(scene.srv.url)
    scene.srv.wires.append(wire)
    await wire.send_raw("x" * (64 * 1024 + 1))
    closed = await wire.wait_closed()
    assert closed.rcvd is not None and closed.rcvd.code == CloseCode.TOO_BIG
    await scene.untouched()


async def test_revoked_token(scene: Scene) -> None:
    other = await scene.srv.connect("alice")
    assert other.welcome is not None and other.welcome.token is not None
    await other.send(Logout(rid="bye"))
    await other.find(Ok, where=lambda ok: ok.rid == "bye")
    closed = await other.wait_closed()
    assert closed.rcvd is not None and closed.rcvd.code == CloseCode.NORMAL

    raw = json.dumps({"type": "hello", "protocol": 1, "token": other.welcome.token})
    error, code = await first_frame(scene.srv, raw)
    assert (error.code, code) == (ErrorCode.TOKEN_INVALID, CloseCode.AUTH_FAILED)
    error, code = await first_frame(scene.srv, raw.replace(other.welcome.token, "made-up"))
    assert (error.code, code) == (ErrorCode.TOKEN_INVALID, CloseCode.AUTH_FAILED)
    await scene.untouched()  # alice's first connection used another token


async def test_a_socket_that_never_authenticates_is_closed(start_server: StartServer) -> None:
    srv = await start_server(auth_timeout=0.5)
    await srv.user("bob")
    bob = await srv.connect("bob")
    silent = await Wire.open(srv.url)
    srv.wires.append(silent)
    closed = await silent.wait_closed()
    assert closed.rcvd is not None and closed.rcvd.code == CloseCode.AUTH_TIMEOUT
    assert silent.frames == []
    await assert_untouched(srv, [bob], 0)


async def test_rate_limit_names_the_request_and_flooding_closes(
    start_server: StartServer,
) -> None:
    srv = await start_server(rate_per_second=0.01, rate_burst=3, flood_disconnect_after=5)
    await srv.user("alice")
    await srv.user("bob")
    alice = await srv.connect("alice")
    bob = await srv.connect("bob")
    for n in range(3):
        await alice.send(Ping(rid=f"ok{n}"))
    await alice.find(Pong, where=lambda p: p.rid == "ok2")
    await alice.send(Send(client_msg_id="fast", body="too fast", room=room_id(alice), rid="rl"))
    error = await error_for(alice, rid="rl")
    assert error.code == ErrorCode.RATE_LIMITED and error.client_msg_id == "fast"
    assert error.retry_after is not None and error.retry_after > 0
    for n in range(10):
        await alice.send(Ping(rid=f"flood{n}"))
    closed = await alice.wait_closed()
    assert closed.rcvd is not None and closed.rcvd.code == CloseCode.FLOODING
    # bob is allowed his own burst.
    await assert_untouched(srv, [bob], 0)


async def test_hello_needs_a_token_unless_the_header_carries_one(scene: Scene) -> None:
    assert scene.alice.welcome is not None and scene.alice.welcome.token is not None
    token = scene.alice.welcome.token
    wire = await Wire.open(scene.srv.url, additional_headers={"Authorization": f"Bearer {token}"})
    scene.srv.wires.append(wire)
    await wire.send_raw(json.dumps({"type": "hello", "protocol": PROTOCOL_VERSION}))
    await round_trip(wire)
    assert isinstance(wire.frames[0], Welcome) and wire.frames[0].user.name == "alice"
    await scene.untouched()


async def test_foreign_origins_and_bad_authorization_headers_are_refused(scene: Scene) -> None:
    """A web page elsewhere cannot borrow a browser's connection; a bad bearer token
    is refused before the upgrade."""
    for headers, status in (
        ({"Origin": "http://evil.example"}, 403),
        ({"Authorization": "Bearer not-a-token"}, 401),
        ({"Authorization": "Basic YWxpY2U6cGFzcw=="}, 401),
    ):
        with pytest.raises(InvalidStatus) as refused:
            await Wire.open(scene.srv.url, additional_headers=headers)
        assert refused.value.response.status_code == status, headers
    await scene.untouched()
