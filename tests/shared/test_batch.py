"""Batched server frames: a JSON array of frames in one WebSocket message."""

from __future__ import annotations

import pytest

from shared.codec import decode_server, decode_server_batch, encode
from shared.errors import ErrorCode, ProtocolError
from shared.frames import Ack, MessageInfo, MessagePosted, Pong


def _posted(seq: int) -> MessagePosted:
    return MessagePosted(message=MessageInfo(room=1, seq=seq, id=seq, author="a", body="b", ts=1.0))


def test_a_plain_frame_is_a_batch_of_one() -> None:
    frame = Pong(ts=2.5)
    assert decode_server_batch(encode(frame)) == [frame]
    assert decode_server_batch(encode(frame).decode()) == [frame]


def test_an_array_decodes_to_its_frames_in_order() -> None:
    frames = [_posted(1), _posted(2), Ack(client_msg_id="c", room=1, seq=2, id=2, ts=1.0)]
    data = b"[" + b",".join(encode(f) for f in frames) + b"]"
    assert decode_server_batch(data) == frames
    assert decode_server_batch(b" \n" + data) == frames


@pytest.mark.parametrize(
    "raw",
    [b"[]", b"[1]", b'[{"type":"nope"}]', b'[{"type":"pong","ts":1.0}', b"[" * 10_000],
)
def test_a_bad_batch_is_a_bad_frame(raw: bytes) -> None:
    with pytest.raises(ProtocolError) as caught:
        decode_server_batch(raw)
    assert caught.value.code is ErrorCode.BAD_FRAME


def test_decode_server_still_refuses_an_array() -> None:
    with pytest.raises(ProtocolError):
        decode_server(b'[{"type":"pong","ts":1.0}]')
