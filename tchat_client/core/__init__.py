"""The headless client core: connection, state, outbox, cache and profiles.

Nothing here imports ``textual`` or knows about widgets: the CLI, the TUI and the
tests all drive the same ``Client`` and read the same typed change events.
"""

from tchat_client.core.client import Client
from tchat_client.core.errors import (
    AuthError,
    ClientError,
    ConnectionLost,
    NotConnected,
    NotLoggedIn,
    RequestFailed,
    SendFailed,
    UnknownTarget,
    Unreachable,
)
from tchat_client.core.profile import Profile, ProfileStore

__all__ = [
    "AuthError",
    "Client",
    "ClientError",
    "ConnectionLost",
    "NotConnected",
    "NotLoggedIn",
    "Profile",
    "ProfileStore",
    "RequestFailed",
    "SendFailed",
    "UnknownTarget",
    "Unreachable",
]
