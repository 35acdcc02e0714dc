"""Every frame of the tchat wire protocol, as typed msgspec Structs.

Commands travel client -> server and are named in the imperative (``send``,
``join``); events travel server -> client and are named for what happened
(``message_posted``, ``member_joined``). Each union is tagged by the ``type`` field.
Field constraints (lengths, ranges) are part of the type, so the codec rejects a
frame before any handler sees it. ``docs/PROTOCOL.md`` documents each frame.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

__all__ = [
    "PROTOCOL_VERSION",
    "Ack",
    "ChannelInfo",
    "ChannelList",
    "ClientFrame",
    "CreateRoom",
    "Error",
    "Hello",
    "History",
    "HistoryPage",
    "Invite",
    "Join",
    "Leave",
    "Limits",
    "ListChannels",
    "Login",
    "Logout",
    "MarkRead",
    "MemberInfo",
    "MemberJoined",
    "MemberLeft",
    "MemberList",
    "Members",
    "MessageInfo",
    "MessagePosted",
    "Ok",
    "Ping",
    "Pong",
    "PresenceChanged",
    "PresenceInfo",
    "ReadMarkerMoved",
    "Register",
    "ResumeInfo",
    "Resumed",
    "RoomInfo",
    "RoomJoined",
    "RoomLeft",
    "RoomUpdated",
    "Search",
    "SearchResults",
    "Send",
    "ServerFrame",
    "SetPresence",
    "SetTopic",
    "TopicChanged",
    "Typing",
    "UserInfo",
    "UserTyping",
    "Welcome",
]

PROTOCOL_VERSION = 1
"""Bumped on any incompatible change; exchanged in the first frame."""

MAX_ID = 2**53 - 1
"""Ids and seqs stay within the integers JavaScript can hold exactly."""

# Field types. Lengths are in characters (code points).
Rid = Annotated[str, Meta(min_length=1, max_length=64)]
ClientMsgId = Annotated[str, Meta(min_length=1, max_length=64)]
RoomId = Annotated[int, Meta(ge=1, le=MAX_ID)]
Seq = Annotated[int, Meta(ge=0, le=MAX_ID)]
Name = Annotated[str, Meta(min_length=1, max_length=80)]
Token = Annotated[str, Meta(min_length=1, max_length=128)]
Password = Annotated[str, Meta(max_length=1024)]
Body = Annotated[str, Meta(max_length=16_384)]
"""Protocol ceiling; the server's configured limit (default 4,000) is lower."""
Topic = Annotated[str, Meta(max_length=500)]
StatusText = Annotated[str, Meta(max_length=100)]
ClientName = Annotated[str, Meta(max_length=64)]
PageLimit = Annotated[int, Meta(ge=1, le=200)]
SearchLimit = Annotated[int, Meta(ge=1, le=100)]
SearchText = Annotated[str, Meta(max_length=500)]
Timestamp = float
"""Seconds since the Unix epoch (UTC), as the server's clock saw it."""

RoomKind = Literal["channel", "group", "dm"]
PresenceStatus = Literal["online", "away", "dnd", "offline"]
SettableStatus = Literal["online", "away", "dnd"]


def _has_forbidden_char(text: str) -> bool:
    """True when text holds NUL or a lone surrogate: neither may reach storage."""
    if "\x00" in text:
        return True
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


class _Frame(msgspec.Struct, tag_field="type", omit_defaults=True):
    """Base of every frame: tagged by ``type``, defaults omitted on the wire."""

    def __post_init__(self) -> None:
        for field in self.__struct_fields__:
            value = getattr(self, field)
            # Strings of the frame itself and in its lists (`create_room.members`).
            texts = value if isinstance(value, list) else (value,)
            if any(isinstance(t, str) and t and _has_forbidden_char(t) for t in texts):
                raise ValueError(f"field `{field}` contains a NUL or lone surrogate")


# --------------------------------------------------------------------------- commands


class Hello(_Frame, tag="hello"):
    """First frame of a returning client: authenticate with a session token (here,
    or in an ``Authorization: Bearer`` header of the WebSocket request).

    ``resume`` maps room id -> the last seq the client holds; the server replays what
    is missing when ``epoch`` matches its own.
    """

    protocol: int
    token: Token | None = None
    client: ClientName = ""
    epoch: Annotated[str, Meta(max_length=64)] | None = None
    resume: dict[RoomId, Seq] = {}


class Login(_Frame, tag="login"):
    """First frame: authenticate with a password; the welcome carries a new token."""

    protocol: int
    username: Name
    password: Password
    client: ClientName = ""


class Register(_Frame, tag="register"):
    """First frame: create an account (and log in); the welcome carries a new token."""

    protocol: int
    username: Name
    password: Password
    invite: Annotated[str, Meta(max_length=64)] | None = None
    client: ClientName = ""


class Send(_Frame, tag="send"):
    """Post a message to a room, or to a user by name (a DM, created on first use).

    Exactly one of ``room`` and ``dm`` is set. ``client_msg_id`` makes the send
    idempotent: a repeat returns the original ``ack`` and stores nothing.
    """

    client_msg_id: ClientMsgId
    body: Body
    room: RoomId | None = None
    dm: Name | None = None
    rid: Rid | None = None


class History(_Frame, tag="history"):
    """Ask for a page of a room's messages: before a seq (older), after one (newer),
    or, with neither, the newest page."""

    room: RoomId
    rid: Rid | None = None
    before: Seq | None = None
    after: Seq | None = None
    limit: PageLimit = 50


class Join(_Frame, tag="join"):
    """Join a public channel by name (with or without the leading ``#``)."""

    name: Name
    rid: Rid | None = None


class Leave(_Frame, tag="leave"):
    room: RoomId
    rid: Rid | None = None


class CreateRoom(_Frame, tag="create_room"):
    """Create a public channel or a private group; ``members`` are invited at once."""

    name: Name
    kind: Literal["channel", "group"] = "channel"
    topic: Topic = ""
    members: Annotated[list[Name], Meta(max_length=100)] = []
    rid: Rid | None = None


class Invite(_Frame, tag="invite"):
    room: RoomId
    user: Name
    rid: Rid | None = None


class SetTopic(_Frame, tag="set_topic"):
    room: RoomId
    topic: Topic
    rid: Rid | None = None


class ListChannels(_Frame, tag="list_channels"):
    """The directory of public channels."""

    rid: Rid | None = None


class Members(_Frame, tag="members"):
    """The member list of a room one belongs to, with presence."""

    room: RoomId
    rid: Rid | None = None


class SetPresence(_Frame, tag="set_presence"):
    status: SettableStatus
    text: StatusText = ""
    rid: Rid | None = None


class Typing(_Frame, tag="typing"):
    """The user is typing in a room. Ephemeral; the server drops repeats within 3 s."""

    room: RoomId


class MarkRead(_Frame, tag="mark_read"):
    """Move the user's read marker in a room forward to ``seq`` (never backwards)."""

    room: RoomId
    seq: Seq
    rid: Rid | None = None


class Logout(_Frame, tag="logout"):
    """Revoke this connection's token (``everywhere``: all of the user's tokens)."""

    everywhere: bool = False
    rid: Rid | None = None


class Ping(_Frame, tag="ping"):
    rid: Rid | None = None


class Search(_Frame, tag="search"):
    """Full-text search over the rooms the user is in, newest first. ``query`` holds
    words and filters (``from:``, ``in:``, ``before:``, ``after:``, ``has:file``);
    ``before_id`` pages on to messages older than that message id."""

    query: SearchText
    limit: SearchLimit = 50
    before_id: Seq | None = None
    rid: Rid | None = None


ClientFrame = (
    Hello
    | Login
    | Register
    | Send
    | History
    | Join
    | Leave
    | CreateRoom
    | Invite
    | SetTopic
    | ListChannels
    | Members
    | SetPresence
    | Typing
    | MarkRead
    | Logout
    | Ping
    | Search
)

# ----------------------------------------------------------------------- shared shapes


class UserInfo(msgspec.Struct, frozen=True, omit_defaults=True):
    name: str
    admin: bool = False


class RoomInfo(msgspec.Struct, frozen=True, omit_defaults=True):
    """A room as one member sees it, with that member's unread state."""

    id: int
    name: str
    kind: RoomKind
    topic: str = ""
    member_count: int = 0
    latest_seq: int = 0
    last_read_seq: int = 0
    unread: int = 0
    mentions: int = 0
    dm_user: str | None = None
    """For a DM: the other participant."""
    others_read_seq: int = 0
    """In DMs and groups: the furthest any *other* member has read (read receipts
    that happened while this client was away). Always 0 in channels."""


class MessageInfo(msgspec.Struct, frozen=True, omit_defaults=True):
    room: int
    seq: int
    id: int
    author: str
    body: str
    ts: Timestamp
    client_msg_id: str | None = None


class PresenceInfo(msgspec.Struct, frozen=True, omit_defaults=True):
    user: str
    status: PresenceStatus
    text: str = ""


class MemberInfo(msgspec.Struct, frozen=True, omit_defaults=True):
    user: str
    status: PresenceStatus = "offline"
    text: str = ""


class ChannelInfo(msgspec.Struct, frozen=True, omit_defaults=True):
    id: int
    name: str
    topic: str = ""
    member_count: int = 0
    joined: bool = False


class ResumeInfo(msgspec.Struct, frozen=True, omit_defaults=True):
    """What resume did for one room: replayed seqs ``from_seq+1..latest_seq``, or,
    when ``truncated``, nothing (more were missing than the cap: page history)."""

    room: int
    from_seq: int
    latest_seq: int
    replayed: int = 0
    truncated: bool = False


class Limits(msgspec.Struct, frozen=True):
    max_body: int
    max_frame: int
    history_page: int
    resume_cap: int
    typing_interval: float
    typing_expiry: float


# ----------------------------------------------------------------------------- events


class Welcome(_Frame, tag="welcome"):
    """Answer to a successful hello/login/register. ``token`` is set only when a new
    one was issued (login, register)."""

    protocol: int
    server: str
    epoch: str
    user: UserInfo
    rooms: list[RoomInfo]
    presence: list[PresenceInfo]
    limits: Limits
    token: str | None = None


class Resumed(_Frame, tag="resumed"):
    """Sent once after a hello's replay: the client is caught up in every room.
    ``epoch_ok`` false means the client's seqs belong to another database."""

    rooms: list[ResumeInfo]
    epoch_ok: bool = True


class Ack(_Frame, tag="ack"):
    """A message is stored on disk (sent only after the commit)."""

    client_msg_id: str
    room: int
    seq: int
    id: int
    ts: Timestamp
    rid: str | None = None
    duplicate: bool = False


class MessagePosted(_Frame, tag="message_posted"):
    message: MessageInfo


class HistoryPage(_Frame, tag="history_page"):
    """Messages in ascending seq order; ``more`` says the page was full, i.e. there
    may be more in the direction asked for."""

    room: int
    messages: list[MessageInfo]
    more: bool = False
    rid: str | None = None


class SearchResults(_Frame, tag="search_results"):
    """Answer to ``search``: matching messages, newest first; ``more`` says the page
    was full (ask again with ``before_id`` = the last message's ``id``)."""

    messages: list[MessageInfo]
    more: bool = False
    rid: str | None = None


class RoomJoined(_Frame, tag="room_joined"):
    """The user is now a member of a room (joined, invited, created, first DM)."""

    room: RoomInfo
    rid: str | None = None


class RoomLeft(_Frame, tag="room_left"):
    room: int
    rid: str | None = None


class RoomUpdated(_Frame, tag="room_updated"):
    """A room's counts or read state changed for this user (e.g. from another
    of the user's sessions)."""

    room: RoomInfo


class MemberJoined(_Frame, tag="member_joined"):
    room: int
    user: str
    by: str | None = None


class MemberLeft(_Frame, tag="member_left"):
    room: int
    user: str


class TopicChanged(_Frame, tag="topic_changed"):
    room: int
    topic: str
    by: str


class ChannelList(_Frame, tag="channel_list"):
    channels: list[ChannelInfo]
    rid: str | None = None


class MemberList(_Frame, tag="member_list"):
    room: int
    members: list[MemberInfo]
    rid: str | None = None


class PresenceChanged(_Frame, tag="presence_changed"):
    user: str
    status: PresenceStatus
    text: str = ""


class UserTyping(_Frame, tag="user_typing"):
    """``user`` is typing in ``room``; forget it after ``expires_in`` seconds unless
    another arrives."""

    room: int
    user: str
    expires_in: float


class ReadMarkerMoved(_Frame, tag="read_marker_moved"):
    """A member's read marker moved. Sent to every member of DMs and groups (read
    receipts) and, in channels, only to the reader's own sessions."""

    room: int
    user: str
    seq: int


class Ok(_Frame, tag="ok"):
    """Success of a command that has no other answer."""

    rid: str | None = None


class Pong(_Frame, tag="pong"):
    ts: Timestamp
    rid: str | None = None


class Error(_Frame, tag="error"):
    """A request failed. Names the request (``rid`` or ``client_msg_id``) when known."""

    code: str
    message: str
    rid: str | None = None
    client_msg_id: str | None = None
    retry_after: float | None = None


ServerFrame = (
    Welcome
    | Resumed
    | Ack
    | MessagePosted
    | HistoryPage
    | SearchResults
    | RoomJoined
    | RoomLeft
    | RoomUpdated
    | MemberJoined
    | MemberLeft
    | TopicChanged
    | ChannelList
    | MemberList
    | PresenceChanged
    | UserTyping
    | ReadMarkerMoved
    | Ok
    | Pong
    | Error
)
