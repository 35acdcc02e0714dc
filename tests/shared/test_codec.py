"""The codec, bytes in and frames (or ProtocolErrors) out: no sockets."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.codec import decode_client, decode_server, encode
from shared.errors import ErrorCode, ProtocolError
from shared.frames import (
    Ack,
    Error,
    Hello,
    MessageInfo,
    MessagePosted,
    Send,
)


def test_a_send_round_trips_and_omits_defaults() -> None:
    frame = Send(client_msg_id="c1", body="hi :tada:", room=3)
    data = encode(frame)
    assert json.loads(data) == {
        "type": "send",
        "client_msg_id": "c1",
        "body": "hi :tada:",
        "room": 3,
    }
    assert decode_client(data) == frame


def test_server_frames_round_trip() -> None:
    for frame in (
        Ack(client_msg_id="c", room=1, seq=2, id=3, ts=1.5, rid="r"),
        MessagePosted(message=MessageInfo(room=1, seq=2, id=3, author="a", body="b", ts=1.0)),
        Error(code="not_member", message="no", rid="r9"),
    ):
        assert decode_server(encode(frame)) == frame


def test_hello_resume_keys_are_room_ids() -> None:
    frame = decode_client(b'{"type":"hello","protocol":1,"token":"t","resume":{"7":12}}')
    assert isinstance(frame, Hello) and frame.resume == {7: 12}


@pytest.mark.parametrize(
    ("raw", "rid", "cid"),
    [
        (b"{not json", None, None),
        (b'{"type":"explode","rid":"r1"}', "r1", None),
        (b'{"type":"send","rid":"r2","client_msg_id":"c2","body":5,"room":1}', "r2", "c2"),
        (
            b'{"type":"send","client_msg_id":"c3","body":"x","room":99999999999999999999}',
            None,
            "c3",
        ),
        (b'{"type":"send","client_msg_id":"c4","body":"a\\u0000b","room":1}', None, "c4"),
        (b'{"type":"send","client_msg_id":"c5","body":"\\ud800","room":1}', None, None),
        (b'{"type":"send","client_msg_id":"c6","body":"x","room":NaN}', None, None),
        (b'{"type":"history","room":1,"limit":1000}', None, None),
        (b'{"type":"ping","rid":"' + b"x" * 65 + b'"}', None, None),
        (b"[" * 50_000, None, None),
        (b'{"type":"ping","junk":' + b"[" * 10_000 + b"]" * 10_000 + b"}", None, None),
    ],
    ids=[
        "malformed",
        "unknown-type",
        "wrong-type",
        "huge-int",
        "nul",
        "lone-surrogate",
        "nan",
        "limit-out-of-range",
        "long-rid",
        "deep-array",
        "deep-unknown-field",
    ],
)
def test_bad_frames_are_refused_and_named(raw: bytes, rid: str | None, cid: str | None) -> None:
    with pytest.raises(ProtocolError) as caught:
        decode_client(raw)
    assert caught.value.code is ErrorCode.BAD_FRAME
    assert caught.value.rid == rid
    assert caught.value.client_msg_id == cid


def test_oversized_frames_are_refused_before_parsing() -> None:
    raw = encode(Send(client_msg_id="c", body="x" * 10_000, room=1))
    with pytest.raises(ProtocolError) as caught:
        decode_client(raw, max_size=1000)
    assert caught.value.code is ErrorCode.FRAME_TOO_LARGE


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=512))
def test_garbage_bytes_never_escape_as_anything_but_protocol_error(raw: bytes) -> None:
    try:
        decode_client(raw)
    except ProtocolError as exc:
        assert exc.code in {ErrorCode.BAD_FRAME, ErrorCode.FRAME_TOO_LARGE}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(
        ["send", "hello", "history", "join", "typing", "mark_read", "ping", "create_room"]
    ),
    st.dictionaries(
        st.sampled_from(
            ["rid", "room", "body", "client_msg_id", "seq", "token", "protocol", "name"]
        ),
        json_values,
        max_size=6,
    ),
)
def test_mistyped_fields_give_bad_frame_or_a_valid_frame(
    kind: str, fields: dict[str, object]
) -> None:
    raw = json.dumps({"type": kind, **fields})
    try:
        frame = decode_client(raw)
    except ProtocolError as exc:
        assert exc.code is ErrorCode.BAD_FRAME
    else:
        assert decode_client(encode(frame)) == frame


def test_a_refusal_quoting_a_nul_or_surrogate_can_still_be_sent() -> None:
    """msgspec quotes the bad value in its message; an error frame may not carry NUL
    or lone surrogates, so the quote is escaped (found by the first-frame fuzz test)."""
    for raw in (b'{"type":"\\u0000","protocol":1}', b'{"type":"\\ud800","protocol":1}'):
        with pytest.raises(ProtocolError) as refused:
            decode_client(raw)
        frame = Error(code=refused.value.code.value, message=refused.value.message)
        assert decode_server(encode(frame)) == frame
