"""The tchat wire protocol: frame types and codec. No I/O; imports nothing of ours."""

from shared.codec import decode_client, decode_server, encode
from shared.errors import CloseCode, ErrorCode, ProtocolError
from shared.frames import PROTOCOL_VERSION

__all__ = [
    "PROTOCOL_VERSION",
    "CloseCode",
    "ErrorCode",
    "ProtocolError",
    "decode_client",
    "decode_server",
    "encode",
]
