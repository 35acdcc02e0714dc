"""Exit codes of ``tchat`` and how each error maps to one (scripts switch on them)."""

from __future__ import annotations

import enum

from shared.errors import ErrorCode
from tchat_client.core.errors import (
    AuthError,
    ClientError,
    NotLoggedIn,
    RequestFailed,
    UnknownTarget,
    Unreachable,
)

__all__ = ["EPILOG", "ExitCode", "Failure", "classify"]


class ExitCode(enum.IntEnum):
    OK = 0
    ERROR = 1
    AUTH = 2
    UNKNOWN = 3
    UNREACHABLE = 4
    RATE_LIMITED = 5
    NOT_LOGGED_IN = 6
    INTERRUPTED = 130


EPILOG = """\
exit codes:
  0    success (for send: the server acked the message)
  1    usage error, or a request the server refused (e.g. a message too long)
  2    bad credentials, or the session is no longer valid: log in again
  3    unknown room, user or file
  4    server unreachable, or no answer in time
  5    rate limited: try again later
  6    not logged in
  130  interrupted

environment:
  TCHAT_HOME     one directory for all config and data (default: the user's
                 platform config and data directories)
  TCHAT_PROFILE  the profile to use (default: the one logged in last)
"""

_UNKNOWN = {
    ErrorCode.ROOM_NOT_FOUND,
    ErrorCode.USER_NOT_FOUND,
    ErrorCode.NOT_MEMBER,
    ErrorCode.FILE_NOT_FOUND,
}
_LIMITED = {ErrorCode.RATE_LIMITED, ErrorCode.THROTTLED}


class Failure(Exception):
    """A command failed in a way it has already put into words."""

    def __init__(self, code: ExitCode, message: str) -> None:
        super().__init__(message)
        self.code = code


def classify(exc: BaseException) -> tuple[ExitCode, str]:
    """The exit code and the one line to print for an error."""
    if isinstance(exc, Failure):
        return exc.code, str(exc)
    if isinstance(exc, NotLoggedIn):
        return ExitCode.NOT_LOGGED_IN, str(exc)
    if isinstance(exc, AuthError):
        if exc.code == ErrorCode.TOKEN_INVALID:
            return ExitCode.AUTH, f"{exc.message}: run `tchat login` again"
        return ExitCode.AUTH, exc.message
    if isinstance(exc, UnknownTarget):
        return ExitCode.UNKNOWN, str(exc)
    if isinstance(exc, Unreachable):
        return ExitCode.UNREACHABLE, str(exc)
    if isinstance(exc, TimeoutError):
        return ExitCode.UNREACHABLE, "no answer from the server in time"
    if isinstance(exc, RequestFailed):
        if exc.code in _UNKNOWN:
            return ExitCode.UNKNOWN, exc.message
        if exc.code in _LIMITED:
            after = f" (retry in {exc.retry_after:.0f} s)" if exc.retry_after else ""
            return ExitCode.RATE_LIMITED, f"{exc.message}{after}"
        return ExitCode.ERROR, exc.message
    if isinstance(exc, ClientError):
        return ExitCode.ERROR, str(exc)
    return ExitCode.ERROR, f"{type(exc).__name__}: {exc}"
