"""The exceptions the client core raises, each mapped to one thing a user can do.

Exception tree::

    Exception
     └── ClientError              anything the client core reports
          ├── NotLoggedIn         no profile, or the profile has no token: log in
          ├── UnknownTarget       a room or user name matches nothing we know
          ├── Unreachable         no connection could be made (or kept) in time
          │    └── ConnectionLost the connection dropped before the answer came
          ├── NotConnected        the call needs a live connection and there is none
          └── RequestFailed       the server answered with an ``error`` frame
               ├── AuthError      the server refused our credentials: log in again
               └── SendFailed     a message was refused for good (it will not be retried)
"""

from __future__ import annotations

from shared.errors import ErrorCode

__all__ = [
    "AUTH_CODES",
    "TRANSIENT_SEND_CODES",
    "AuthError",
    "ClientError",
    "ConnectionLost",
    "NotConnected",
    "NotLoggedIn",
    "RequestFailed",
    "SendFailed",
    "UnknownTarget",
    "Unreachable",
]

AUTH_CODES = frozenset(
    {
        ErrorCode.AUTH_FAILED,
        ErrorCode.TOKEN_INVALID,
        ErrorCode.ACCOUNT_DISABLED,
        ErrorCode.INVITE_INVALID,
        ErrorCode.AUTH_REQUIRED,
    }
)
"""First-frame errors that retrying with the same credentials cannot fix."""

TRANSIENT_SEND_CODES = frozenset(
    {ErrorCode.RATE_LIMITED, ErrorCode.UNAVAILABLE, ErrorCode.INTERNAL, ErrorCode.SLOW_MODE}
)
"""Refusals of a send that a later attempt may overcome; any other fails the message.
(Slow mode: the message waits its turn, ``retry_after``, in the outbox.)"""


class ClientError(Exception):
    """Base of every error the client core raises; ``str()`` is one clear line."""


class NotLoggedIn(ClientError):
    pass


class UnknownTarget(ClientError):
    pass


class Unreachable(ClientError):
    pass


class ConnectionLost(Unreachable):
    pass


class NotConnected(ClientError):
    pass


class RequestFailed(ClientError):
    """The server refused a request. ``code`` is the wire ``ErrorCode`` string (kept
    as a string so that a newer server's codes do not break an older client)."""

    def __init__(self, code: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retry_after = retry_after


class AuthError(RequestFailed):
    pass


class SendFailed(RequestFailed):
    """A message was refused for good; it stays in the outbox as ``failed``."""

    def __init__(self, client_msg_id: str, code: str, message: str) -> None:
        super().__init__(code, message)
        self.client_msg_id = client_msg_id
