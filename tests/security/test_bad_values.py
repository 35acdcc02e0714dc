"""Values no frame may carry, in every field of every frame type (and inside the
lists of names a frame carries): NaN, infinities, integers beyond 2^53 and 2^64,
numbers that overflow a double, lone surrogates, NUL, nesting thousands deep. Each
is refused with ``bad_frame``: as the first frame (then closed with 4006) and
after signing in (the session goes on); nothing is stored, others do not notice."""

from __future__ import annotations

import json

import msgspec.inspect as mi
import pytest

from shared.errors import CloseCode, ErrorCode
from shared.frames import Error, MessagePosted, Ping, Pong
from tests.conftest import Running
from tests.security.strategies import FIRST_FRAMES, FRAME_TYPES
from tests.server.util import FAST, StartServer, message_count, round_trip
from tests.wire import Wire

HOSTILE = {
    "nan": "NaN",
    "infinity": "Infinity",
    "-infinity": "-Infinity",
    "overflowing-double": "1e400",
    "beyond-2^53": str(2**53),
    "beyond-2^64": str(2**64),
    "lone-surrogate": '"\\ud800"',
    "low-surrogate": '"a\\udc00b"',
    "nul": '"a\\u0000b"',
    "deep-array": "[" * 20_000 + "]" * 20_000,
    "deep-object": '{"a":' * 5_000 + "1" + "}" * 5_000,
}
"""Raw JSON, written into a frame as it is (``json`` would not write most of them)."""


def fields_of(cls: type) -> list[str]:
    info = mi.type_info(cls)
    assert isinstance(info, mi.StructType)
    return [f.encode_name for f in info.fields]


def tag_of(cls: type) -> str:
    tag = getattr(mi.type_info(cls), "tag", None)
    assert isinstance(tag, str)
    return tag


def frames_with(value: str) -> list[tuple[str, str, str]]:
    """(type, field, raw frame) with ``value`` in each field of each frame type, the
    other fields left out (the hostile value must be refused whatever else is there)."""
    found = []
    for cls in FRAME_TYPES:
        tag = tag_of(cls)
        for name in fields_of(cls):
            found.append((tag, name, f'{{"type":{json.dumps(tag)},"{name}":{value}}}'))
    return found


def in_lists(value: str) -> list[tuple[str, str, str]]:
    """The hostile value as an element of each list field, the frame otherwise valid."""
    found = []
    for cls in FRAME_TYPES:
        info = mi.type_info(cls)
        assert isinstance(info, mi.StructType)
        for field in info.fields:
            if isinstance(field.type, mi.ListType):
                raw = (
                    f'{{"type":{json.dumps(tag_of(cls))},"rid":"list",'
                    f'"name":"listed","room":1,"{field.encode_name}":[{value}]}}'
                )
                found.append((tag_of(cls), field.encode_name, raw))
    return found


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
async def test_after_sign_in_every_field_refuses_it(start_server: StartServer, value: str) -> None:
    srv = await start_server(**FAST)  # hundreds of frames in a burst: no rate limit
    await srv.user("alice")
    await srv.user("bob")
    alice = await srv.connect("alice")
    bob = await srv.connect("bob")
    frames = [*frames_with(value), *in_lists(value)]
    for _, _, raw in frames:
        await alice.send_raw(raw)
    await round_trip(alice)
    errors = alice.seen(Error)
    assert len(errors) == len(frames), errors
    assert {e.code for e in errors} == {ErrorCode.BAD_FRAME}, [
        (frame[:2], e.code) for frame, e in zip(frames, errors, strict=True)
    ]
    assert await message_count(srv) == 0
    await round_trip(bob)
    assert bob.seen(MessagePosted) == [] and bob.closed is None


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
async def test_as_the_first_frame_it_is_refused_and_closed(srv: Running, value: str) -> None:
    await srv.user("bob")
    bob = await srv.connect("bob")
    for tag, name, raw in frames_with(value):
        if tag not in FIRST_FRAMES:
            continue
        wire = await Wire.open(srv.url)
        srv.wires.append(wire)
        await wire.send_raw(raw)
        error = await wire.find(Error)
        closed = await wire.wait_closed()
        # `protocol` is any integer: a big one is just a version this server lacks.
        allowed = {ErrorCode.BAD_FRAME}
        if name == "protocol" and value.isdigit():
            allowed.add(ErrorCode.UNSUPPORTED_PROTOCOL)
        assert error.code in allowed, (tag, name, error)
        assert closed.rcvd is not None and closed.rcvd.code == CloseCode.PROTOCOL, (tag, name)
    await bob.send(Ping(rid="still"))
    await bob.find(Pong, where=lambda p: p.rid == "still")
