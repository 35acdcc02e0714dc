"""Encode and decode frames: the single gate every incoming frame passes.

``decode_client`` checks size, JSON syntax, frame type, field types and ranges before
anything else sees the frame, and turns every failure into a ``ProtocolError`` that
names the request when its id can be recovered. No I/O happens here.
"""

from __future__ import annotations

from typing import Any

import msgspec

from shared.errors import ErrorCode, ProtocolError
from shared.frame_base import has_forbidden_char
from shared.frames import ClientFrame, ServerFrame

__all__ = [
    "DEFAULT_MAX_FRAME",
    "decode_client",
    "decode_server",
    "decode_server_batch",
    "encode",
]

DEFAULT_MAX_FRAME = 64 * 1024
"""Bytes. The server's WebSocket frame limit and the codec's default."""

_encoder = msgspec.json.Encoder()
_client_decoder = msgspec.json.Decoder(ClientFrame)
_server_decoder = msgspec.json.Decoder(ServerFrame)
_server_batch_decoder = msgspec.json.Decoder(list[ServerFrame])


class _Ids(msgspec.Struct):
    """Just enough of any frame to name it in an error."""

    rid: Any = None
    client_msg_id: Any = None


_ids_decoder = msgspec.json.Decoder(_Ids)


def encode(frame: msgspec.Struct) -> bytes:
    """Serialise a frame to UTF-8 JSON bytes (send them as a text frame)."""
    return _encoder.encode(frame)


def _recover_ids(data: bytes | str) -> tuple[str | None, str | None]:
    try:
        ids = _ids_decoder.decode(data)
    except (msgspec.DecodeError, RecursionError, ValueError):
        return None, None
    return _echoable(ids.rid), _echoable(ids.client_msg_id)


def _echoable(value: Any) -> str | None:
    """An id fit to name the request in an error frame (which refuses NUL too)."""
    if isinstance(value, str) and len(value) <= 64 and not has_forbidden_char(value):
        return value
    return None


def _quotable(exc: Exception) -> str:
    """The decoder's message, which may quote the offending value: with NUL and lone
    surrogates escaped, since an error frame may not carry them either."""
    text = str(exc).encode("utf-8", "backslashreplace").decode("utf-8")
    return text.replace("\x00", "\\x00")


def _size(data: bytes | str) -> int:
    return len(data) if isinstance(data, bytes) else len(data.encode("utf-8", "surrogatepass"))


def decode_client(data: bytes | str, *, max_size: int = DEFAULT_MAX_FRAME) -> ClientFrame:
    """Decode and validate one client -> server frame.

    Raises:
        ProtocolError: ``frame_too_large`` or ``bad_frame``, with the frame's ``rid``
            and ``client_msg_id`` when they could be read.
    """
    if _size(data) > max_size:
        raise ProtocolError(ErrorCode.FRAME_TOO_LARGE, f"frame is larger than {max_size} bytes")
    try:
        frame: ClientFrame = _client_decoder.decode(data)
        return frame
    except (msgspec.DecodeError, RecursionError, ValueError) as exc:
        rid, cid = _recover_ids(data) if not isinstance(exc, RecursionError) else (None, None)
        reason = "JSON nested too deeply" if isinstance(exc, RecursionError) else _quotable(exc)
        raise ProtocolError(
            ErrorCode.BAD_FRAME, f"invalid frame: {reason}", rid=rid, client_msg_id=cid
        ) from None


def decode_server(data: bytes | str) -> ServerFrame:
    """Decode one server -> client frame (used by clients and tests).

    Raises:
        ProtocolError: ``bad_frame`` when the server sent something unreadable.
    """
    try:
        frame: ServerFrame = _server_decoder.decode(data)
        return frame
    except (msgspec.DecodeError, RecursionError, ValueError) as exc:
        raise ProtocolError(ErrorCode.BAD_FRAME, f"invalid server frame: {exc}") from None


def decode_server_batch(data: bytes | str) -> list[ServerFrame]:
    """Decode one server WebSocket frame into the frames it carries, in order.

    A frame holds either one frame object or, when the server batched what it had
    queued, a JSON array of frame objects (docs/PROTOCOL.md, "Batched frames").

    Raises:
        ProtocolError: ``bad_frame`` when the server sent something unreadable.
    """
    head = data.lstrip()[:1]
    if head not in (b"[", "["):
        return [decode_server(data)]
    try:
        frames: list[ServerFrame] = _server_batch_decoder.decode(data)
    except (msgspec.DecodeError, RecursionError, ValueError) as exc:
        raise ProtocolError(ErrorCode.BAD_FRAME, f"invalid server batch: {exc}") from None
    if not frames:
        raise ProtocolError(ErrorCode.BAD_FRAME, "invalid server batch: empty")
    return frames
