"""Every frame of the tchat wire protocol, as typed msgspec Structs.

Commands travel client -> server and are named in the imperative (``send``,
``join``); events travel server -> client and are named for what happened
(``message_posted``, ``member_joined``). Each union is tagged by the ``type`` field.
Field constraints (lengths, ranges) are part of the type, so the codec rejects a
frame before any handler sees it. ``docs/PROTOCOL.md`` documents each frame.
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from shared.frame_base import (
    MAX_ID,
    Body,
    ClientMsgId,
    ClientName,
    Frame,
    Name,
    PageLimit,
    Password,
    PresenceStatus,
    Rid,
    RoomId,
    RoomKind,
    SearchLimit,
    SearchText,
    Seq,
    SettableStatus,
    StatusText,
    Timestamp,
    Token,
    Topic,
)
from shared.frames_files import (
    Download,
    FileChunk,
    UploadChunk,
    UploadDone,
    UploadProgress,
    UploadReady,
    UploadStart,
)
from shared.frames_messages import (
    Delete,
    Edit,
    MarkUnread,
    MessageUpdated,
    React,
    SetNotify,
    Thread,
    ThreadPage,
)
from shared.frames_moderation import (
    Ban,
    Kick,
    LockRoom,
    Mute,
    RoomModerated,
    SetRole,
    SetSlowMode,
    Unban,
    Unmute,
)
from shared.shapes import (
    ChannelInfo,
    FileInfo,
    Limits,
    MemberInfo,
    MessageInfo,
    NotifyLevel,
    PresenceInfo,
    Reaction,
    ReplyRef,
    ResumeInfo,
    RoomInfo,
    RoomRole,
    ServerRole,
    UserInfo,
)

__all__ = [
    "MAX_ID",
    "PROTOCOL_VERSION",
    "Ack",
    "Ban",
    "ChannelInfo",
    "ChannelList",
    "ClientFrame",
    "CreateRoom",
    "Delete",
    "Download",
    "Edit",
    "Error",
    "FileChunk",
    "FileInfo",
    "Frame",
    "Hello",
    "History",
    "HistoryPage",
    "Invite",
    "Join",
    "Kick",
    "Leave",
    "Limits",
    "ListChannels",
    "LockRoom",
    "Login",
    "Logout",
    "MarkRead",
    "MarkUnread",
    "MemberInfo",
    "MemberJoined",
    "MemberLeft",
    "MemberList",
    "Members",
    "MessageInfo",
    "MessagePosted",
    "MessageUpdated",
    "Mute",
    "NotifyLevel",
    "Ok",
    "Ping",
    "Pong",
    "PresenceChanged",
    "PresenceInfo",
    "PresenceStatus",
    "React",
    "Reaction",
    "ReadMarkerMoved",
    "Register",
    "ReplyRef",
    "ResumeInfo",
    "Resumed",
    "RoomInfo",
    "RoomJoined",
    "RoomKind",
    "RoomLeft",
    "RoomModerated",
    "RoomRole",
    "RoomUpdated",
    "Search",
    "SearchResults",
    "Send",
    "ServerFrame",
    "ServerRole",
    "SetNotify",
    "SetPresence",
    "SetRole",
    "SetSlowMode",
    "SetTopic",
    "Thread",
    "ThreadPage",
    "Timestamp",
    "TopicChanged",
    "Typing",
    "Unban",
    "Unmute",
    "UploadChunk",
    "UploadDone",
    "UploadProgress",
    "UploadReady",
    "UploadStart",
    "UserInfo",
    "UserTyping",
    "Welcome",
]

PROTOCOL_VERSION = 1
"""Bumped on any incompatible change; exchanged in the first frame."""


class Hello(Frame, tag="hello"):
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
    changes: dict[RoomId, Seq] = {}
    """Room id -> the room's change counter the client last saw (``latest_change``):
    messages changed since (edits, deletes, reactions, reply counts) are replayed
    as ``message_updated``."""


class Login(Frame, tag="login"):
    """First frame: authenticate with a password; the welcome carries a new token."""

    protocol: int
    username: Name
    password: Password
    client: ClientName = ""


class Register(Frame, tag="register"):
    """First frame: create an account (and log in); the welcome carries a new token."""

    protocol: int
    username: Name
    password: Password
    invite: Annotated[str, Meta(max_length=64)] | None = None
    client: ClientName = ""


class Send(Frame, tag="send"):
    """Post a message to a room, or to a user by name (a DM, created on first use).

    Exactly one of ``room`` and ``dm`` is set. ``client_msg_id`` makes the send
    idempotent: a repeat returns the original ``ack`` and stores nothing.
    """

    client_msg_id: ClientMsgId
    body: Body
    room: RoomId | None = None
    dm: Name | None = None
    rid: Rid | None = None
    reply_to: Annotated[int, Meta(ge=1, le=MAX_ID)] | None = None
    """The seq of the message (same room) this one answers."""
    file: Annotated[int, Meta(ge=1, le=MAX_ID)] | None = None
    """An uploaded file's id (``upload_done``) to show as this message's file card;
    the body may then be empty. The file must have been uploaded to this room."""


class History(Frame, tag="history"):
    """Ask for a page of a room's messages: before a seq (older), after one (newer),
    or, with neither, the newest page."""

    room: RoomId
    rid: Rid | None = None
    before: Seq | None = None
    after: Seq | None = None
    limit: PageLimit = 50


class Join(Frame, tag="join"):
    """Join a public channel by name (with or without the leading ``#``)."""

    name: Name
    rid: Rid | None = None


class Leave(Frame, tag="leave"):
    room: RoomId
    rid: Rid | None = None


class CreateRoom(Frame, tag="create_room"):
    """Create a public channel or a private group; ``members`` are invited at once."""

    name: Name
    kind: Literal["channel", "group"] = "channel"
    topic: Topic = ""
    members: Annotated[list[Name], Meta(max_length=100)] = []
    rid: Rid | None = None


class Invite(Frame, tag="invite"):
    room: RoomId
    user: Name
    rid: Rid | None = None


class SetTopic(Frame, tag="set_topic"):
    room: RoomId
    topic: Topic
    rid: Rid | None = None


class ListChannels(Frame, tag="list_channels"):
    """The directory of public channels."""

    rid: Rid | None = None


class Members(Frame, tag="members"):
    """The member list of a room one belongs to, with presence."""

    room: RoomId
    rid: Rid | None = None


class SetPresence(Frame, tag="set_presence"):
    status: SettableStatus
    text: StatusText = ""
    rid: Rid | None = None


class Typing(Frame, tag="typing"):
    """The user is typing in a room. Ephemeral; the server drops repeats within 3 s."""

    room: RoomId


class MarkRead(Frame, tag="mark_read"):
    """Move the user's read marker in a room forward to ``seq`` (never backwards)."""

    room: RoomId
    seq: Seq
    rid: Rid | None = None


class Logout(Frame, tag="logout"):
    """Revoke this connection's token (``everywhere``: all of the user's tokens)."""

    everywhere: bool = False
    rid: Rid | None = None


class Ping(Frame, tag="ping"):
    rid: Rid | None = None


class Search(Frame, tag="search"):
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
    | Edit
    | Delete
    | React
    | Thread
    | SetNotify
    | MarkUnread
    | UploadStart
    | UploadChunk
    | Download
    | Kick
    | Ban
    | Unban
    | Mute
    | Unmute
    | SetRole
    | SetSlowMode
    | LockRoom
)

# ----------------------------------------------------------------------- shared shapes

# ----------------------------------------------------------------------------- events


class Welcome(Frame, tag="welcome"):
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


class Resumed(Frame, tag="resumed"):
    """Sent once after a hello's replay: the client is caught up in every room.
    ``epoch_ok`` false means the client's seqs belong to another database."""

    rooms: list[ResumeInfo]
    epoch_ok: bool = True


class Ack(Frame, tag="ack"):
    """A message is stored on disk (sent only after the commit)."""

    client_msg_id: str
    room: int
    seq: int
    id: int
    ts: Timestamp
    rid: str | None = None
    duplicate: bool = False


class MessagePosted(Frame, tag="message_posted"):
    message: MessageInfo


class HistoryPage(Frame, tag="history_page"):
    """Messages in ascending seq order; ``more`` says the page was full, i.e. there
    may be more in the direction asked for."""

    room: int
    messages: list[MessageInfo]
    more: bool = False
    rid: str | None = None


class SearchResults(Frame, tag="search_results"):
    """Answer to ``search``: matching messages, newest first; ``more`` says the page
    was full (ask again with ``before_id`` = the last message's ``id``)."""

    messages: list[MessageInfo]
    more: bool = False
    rid: str | None = None


class RoomJoined(Frame, tag="room_joined"):
    """The user is now a member of a room (joined, invited, created, first DM)."""

    room: RoomInfo
    rid: str | None = None


class RoomLeft(Frame, tag="room_left"):
    room: int
    rid: str | None = None


class RoomUpdated(Frame, tag="room_updated"):
    """A room's counts or read state changed for this user (e.g. from another
    of the user's sessions)."""

    room: RoomInfo


class MemberJoined(Frame, tag="member_joined"):
    room: int
    user: str
    by: str | None = None


class MemberLeft(Frame, tag="member_left"):
    """``how``: the member ``left``, or was ``kicked`` / ``banned`` (then ``by`` says
    who; the details come in ``room_moderated``)."""

    room: int
    user: str
    how: Literal["left", "kicked", "banned"] = "left"
    by: str | None = None


class TopicChanged(Frame, tag="topic_changed"):
    room: int
    topic: str
    by: str


class ChannelList(Frame, tag="channel_list"):
    channels: list[ChannelInfo]
    rid: str | None = None


class MemberList(Frame, tag="member_list"):
    room: int
    members: list[MemberInfo]
    rid: str | None = None


class PresenceChanged(Frame, tag="presence_changed"):
    user: str
    status: PresenceStatus
    text: str = ""


class UserTyping(Frame, tag="user_typing"):
    """``user`` is typing in ``room``; forget it after ``expires_in`` seconds unless
    another arrives."""

    room: int
    user: str
    expires_in: float


class ReadMarkerMoved(Frame, tag="read_marker_moved"):
    """A member's read marker moved. Sent to every member of DMs and groups (read
    receipts) and, in channels, only to the reader's own sessions."""

    room: int
    user: str
    seq: int


class Ok(Frame, tag="ok"):
    """Success of a command that has no other answer."""

    rid: str | None = None


class Pong(Frame, tag="pong"):
    ts: Timestamp
    rid: str | None = None


class Error(Frame, tag="error"):
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
    | MessageUpdated
    | ThreadPage
    | UploadReady
    | UploadProgress
    | UploadDone
    | FileChunk
    | RoomModerated
)
