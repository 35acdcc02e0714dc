"""Wire error codes and the one exception the codec raises.

Only errors a client can act on go on the wire (Synapse's ``Codes``): each code says
what went wrong in terms of the request, never the server's internals.

Exception tree::

    Exception
     └── ProtocolError        a frame could not be accepted (carries an ErrorCode)
"""

from __future__ import annotations

import enum

__all__ = ["CloseCode", "ErrorCode", "ProtocolError"]


class ErrorCode(enum.StrEnum):
    """Codes carried by ``error`` frames. Stable strings: clients switch on them."""

    # The frame itself.
    BAD_FRAME = "bad_frame"
    """Malformed JSON, unknown frame type, wrong or missing fields, bad characters."""
    FRAME_TOO_LARGE = "frame_too_large"
    UNSUPPORTED_PROTOCOL = "unsupported_protocol"

    # Authentication and accounts.
    AUTH_REQUIRED = "auth_required"
    AUTH_FAILED = "auth_failed"
    """Wrong user name or password (never says which)."""
    TOKEN_INVALID = "token_invalid"
    """Unknown, revoked or expired session token."""
    ACCOUNT_DISABLED = "account_disabled"
    REGISTRATION_CLOSED = "registration_closed"
    INVITE_INVALID = "invite_invalid"
    USERNAME_INVALID = "username_invalid"
    USERNAME_TAKEN = "username_taken"
    PASSWORD_INVALID = "password_invalid"
    THROTTLED = "throttled"
    """Too many login attempts; ``retry_after`` says when to try again."""

    # Rate and size limits.
    RATE_LIMITED = "rate_limited"
    BODY_TOO_LONG = "body_too_long"
    EMPTY_BODY = "empty_body"

    # Rooms, users and messages.
    ROOM_NOT_FOUND = "room_not_found"
    USER_NOT_FOUND = "user_not_found"
    NOT_MEMBER = "not_member"
    ALREADY_MEMBER = "already_member"
    FORBIDDEN = "forbidden"
    NAME_INVALID = "name_invalid"
    NAME_TAKEN = "name_taken"
    CLIENT_MSG_ID_REUSED = "client_msg_id_reused"
    """The same client_msg_id was sent before with a different room or body."""
    QUERY_INVALID = "query_invalid"
    """A search query that cannot be run (a bad date or filter, nothing to search)."""
    MESSAGE_NOT_FOUND = "message_not_found"
    """No message with that seq in that room (or it is deleted, for edit/react/reply)."""
    EMOJI_INVALID = "emoji_invalid"
    TOO_MANY_REACTIONS = "too_many_reactions"
    """A message holds at most 20 different emoji."""

    # Files.
    FILE_TOO_LARGE = "file_too_large"
    QUOTA_EXCEEDED = "quota_exceeded"
    """The upload would take the user past their storage quota."""
    FILE_NOT_FOUND = "file_not_found"
    """No such file or upload, or one in a room you are not a member of."""
    FILE_CORRUPT = "file_corrupt"
    """The bytes received do not have the SHA-256 announced; the upload is discarded."""
    UPLOAD_OFFSET = "upload_offset"
    """A chunk's offset is not the number of bytes the server holds."""

    # Moderation.
    BANNED = "banned"
    """You are banned from that room (``retry_after`` when the ban is timed)."""
    MUTED = "muted"
    """A moderator muted you in that room (``retry_after`` when the mute is timed)."""
    SLOW_MODE = "slow_mode"
    """The room is in slow mode; ``retry_after`` says when you may post again."""
    ROOM_LOCKED = "room_locked"
    """Only moderators may post in a locked room."""

    # The server.
    UNAVAILABLE = "unavailable"
    """The server could not store the request (disk full, read-only); retry later."""
    TOO_MANY_CONNECTIONS = "too_many_connections"
    """The account already has as many open sessions as the server allows."""
    INTERNAL = "internal"


class CloseCode(enum.IntEnum):
    """WebSocket close codes the server uses (4000-4999 are ours)."""

    NORMAL = 1000
    GOING_AWAY = 1001
    """Server shutting down: reconnect later."""
    POLICY = 1008
    TOO_BIG = 1009
    TRY_AGAIN_LATER = 1013
    """Refused for now (too many sessions, storage unavailable): reconnect later."""
    AUTH_FAILED = 4001
    AUTH_TIMEOUT = 4002
    REVOKED = 4003
    """The session's token was revoked or the account disabled."""
    TOO_SLOW = 4004
    """The client fell too far behind; reconnect and resume."""
    FLOODING = 4005
    """Sustained flooding past the rate limit."""
    PROTOCOL = 4006
    """Unsupported protocol version or an unusable first frame."""


class ProtocolError(Exception):
    """A frame could not be accepted.

    Attributes:
        code: the wire error code.
        message: a human-readable reason (safe to show; contains no user secrets).
        rid: the request id of the frame, when it could be recovered.
        client_msg_id: the client message id of the frame, when it could be recovered.
    """

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        rid: str | None = None,
        client_msg_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.rid = rid
        self.client_msg_id = client_msg_id
        self.retry_after = retry_after
