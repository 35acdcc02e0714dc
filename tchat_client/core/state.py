"""Client state: rooms, messages, people, typing and unread counts.

Changed only by server events (and by the outbox for our own messages' states);
every change is announced as a typed event from ``events.py`` to subscribers.
Nothing here knows about widgets, sockets or files. Changed messages, moderation
and the "since you were away" summary are in ``changes.py`` (``State`` inherits
``ChangedMessages``); who a message mentions and whether it alerts, in
``mentions.py`` (re-exported here).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import replace

from shared import frames as wire
from tchat_client.core.changes import ChangedMessages
from tchat_client.core.events import (
    ChangeEvent,
    ConnectionChanged,
    HistoryLoaded,
    MembersChanged,
    MembershipChanged,
    MessageAdded,
    MessageStateChanged,
    Notice,
    PresenceChanged,
    RoomChanged,
    RoomRemoved,
    RoomReset,
    StateReset,
    TopicChanged,
    TypingChanged,
)
from tchat_client.core.mentions import mentioned_names, mentions_me, should_alert
from tchat_client.core.models import Member, Message, MessageState, Presence, Room
from tchat_client.core.subscribers import EventStream, Subscribers
from tchat_client.core.typists import Typists

__all__ = ["State", "mentions", "mentions_me", "should_alert"]

log = logging.getLogger("tchat.client")

MAX_IN_MEMORY = 5000
"""Messages held per room; the oldest beyond this are dropped (the cache and the
server still have them)."""


def mentions(body: str, user: str) -> bool:
    """``body`` names ``user`` with ``@`` (by name only; see ``mentions_me``)."""
    return user.casefold() in mentioned_names(body)


class State(ChangedMessages):
    def __init__(self) -> None:
        self.me = ""
        self.epoch: str | None = None
        self.limits: wire.Limits | None = None
        self.connection = ConnectionChanged("offline")
        self.rooms: dict[int, Room] = {}
        self.outgoing: dict[str, Message] = {}
        """Our messages not yet delivered, by client_msg_id, in the order queued."""
        self.presence: dict[str, Presence] = {}
        self.members: dict[int, dict[str, Member]] = {}
        self._messages: dict[int, dict[int, Message]] = {}
        self._typists = Typists(lambda room, users: self._emit(TypingChanged(room, users)))
        self._subscribers = Subscribers()

    # --------------------------------------------------------- subscribing

    def subscribe(self, callback: Callable[[ChangeEvent], None]) -> Callable[[], None]:
        """Call ``callback`` with every change from now on; returns an unsubscribe."""
        return self._subscribers.add(callback)

    def stream(self) -> EventStream:
        """The changes from now on as an async iterator (subscribed at once)."""
        return EventStream(self._subscribers)

    def _emit(self, event: ChangeEvent) -> None:
        self._subscribers.emit(event)

    # ------------------------------------------------------------- queries

    def messages(self, room_id: int) -> list[Message]:
        """The room's stored messages held in memory, by seq."""
        held = self._messages.get(room_id, {})
        return [held[seq] for seq in sorted(held)]

    def outgoing_in(self, room_id: int) -> list[Message]:
        return [m for m in self.outgoing.values() if m.room == room_id]

    def typing(self, room_id: int) -> tuple[str, ...]:
        return self._typists.in_room(room_id)

    def _own_state(self, room_id: int, seq: int) -> MessageState:
        room = self.rooms.get(room_id)
        return "read" if room is not None and room.others_read_seq >= seq else "delivered"

    # -------------------------------------------------------------- loading

    def load(
        self, me: str, epoch: str | None, rooms: Iterable[Room], messages: Iterable[Message]
    ) -> None:
        """Show what the cache holds before (or without) a connection."""
        self.me, self.epoch = me, epoch
        for room in rooms:
            self._set_room(room)
        by_room: dict[int, list[Message]] = {}
        for message in messages:
            room_id, seq = message.room, message.seq
            if room_id is None or seq is None:
                continue
            if message.author == me:
                message = replace(message, state=self._own_state(room_id, seq))
            self._messages.setdefault(room_id, {})[seq] = message
            by_room.setdefault(room_id, []).append(message)
        for room_id, loaded in by_room.items():
            self._emit(HistoryLoaded(room_id, tuple(loaded), more=True))

    def set_connection(self, event: ConnectionChanged) -> None:
        self.connection = event
        self._emit(event)

    # ---------------------------------------------------------- resetting

    def reset(self, epoch: str) -> None:
        """The server's database changed: every seq and room id we hold is void."""
        self._typists.forget()
        self.rooms.clear()
        self._messages.clear()
        self.members.clear()
        self.epoch = epoch
        for cid, message in self.outgoing.items():
            self.outgoing[cid] = replace(message, room=None)
        self._emit(StateReset(epoch))

    def reset_room(self, room_id: int) -> None:
        self._messages.pop(room_id, None)
        self._emit(RoomReset(room_id))

    # ------------------------------------------------------------- welcome

    def apply_welcome(self, welcome: wire.Welcome) -> None:
        self.me, self.epoch, self.limits = welcome.user.name, welcome.epoch, welcome.limits
        fresh = {info.id: info for info in welcome.rooms}
        for room_id in [r for r in self.rooms if r not in fresh]:
            self._remove_room(room_id)
        for info in welcome.rooms:
            self._room_info(info)
        now = {p.user: Presence(p.user, p.status, p.text) for p in welcome.presence}
        for user in [u for u in self.presence if u not in now]:
            self._set_presence(Presence(user, "offline"))
        for presence in now.values():
            if self.presence.get(presence.user) != presence:
                self._set_presence(presence)

    # ------------------------------------------------------------ messages

    def add_message(self, info: wire.MessageInfo) -> Message | None:
        """A live or replayed message; None when this seq is already held (a newer
        version of a held one replaces it: ``refresh``)."""
        if info.seq in self._messages.get(info.room, {}):
            self.refresh(info)
            return None
        own = info.author == self.me
        message = Message.from_info(info, self._own_state(info.room, info.seq) if own else None)
        pending = (
            self.outgoing.pop(info.client_msg_id, None) if own and info.client_msg_id else None
        )
        self._insert(message)
        if pending is not None and info.client_msg_id is not None:
            self._emit(
                MessageStateChanged(
                    info.client_msg_id, info.room, message.state or "delivered", info.seq
                )
            )
        else:
            self._emit(MessageAdded(message))
        return message

    def add_history(
        self, room_id: int, infos: Iterable[wire.MessageInfo], more: bool
    ) -> list[Message]:
        """A page fetched on request; returns (and announces) the messages that were
        not held yet."""
        held = self._messages.setdefault(room_id, {})
        new: list[Message] = []
        for info in infos:
            if info.seq in held:
                self.refresh(info)
                continue
            own = info.author == self.me
            message = Message.from_info(info, self._own_state(room_id, info.seq) if own else None)
            held[info.seq] = message
            new.append(message)
        if new:
            self._emit(HistoryLoaded(room_id, tuple(new), more))
        return new

    def _insert(self, message: Message) -> None:
        assert message.room is not None and message.seq is not None
        room_id, seq = message.room, message.seq
        held = self._messages.setdefault(room_id, {})
        held[seq] = message
        if len(held) > MAX_IN_MEMORY + 500:
            for old in sorted(held)[: len(held) - MAX_IN_MEMORY]:
                del held[old]
        room = self.rooms.get(room_id)
        # Rooms counts from the server already include seqs up to its latest_seq
        # (replays after a reconnect); only newer messages change them.
        if room is not None and seq > room.latest_seq:
            if message.author == self.me:
                # Posting reads the room up to one's own message, as the server does.
                room = replace(
                    room,
                    latest_seq=seq,
                    last_read_seq=max(room.last_read_seq, seq),
                    unread=0,
                    mentions=0,
                )
            else:
                unseen = seq > room.last_read_seq
                room = replace(
                    room,
                    latest_seq=seq,
                    unread=room.unread + unseen,
                    mentions=room.mentions + (unseen and self._mentions(message)),
                )
            self._set_room(room)
        self._typists.stopped(room_id, message.author)

    # ------------------------------------------------------------ outgoing

    def outgoing_added(self, message: Message) -> None:
        assert message.client_msg_id is not None
        self.outgoing[message.client_msg_id] = message
        self._emit(MessageAdded(message))

    def outgoing_changed(
        self, cid: str, state: MessageState, error: str | None = None, room_id: int | None = None
    ) -> None:
        message = self.outgoing.get(cid)
        if message is None or (
            message.state == state and message.error == error and room_id is None
        ):
            return
        message = replace(message, state=state, error=error, room=room_id or message.room)
        self.outgoing[cid] = message
        self._emit(MessageStateChanged(cid, message.room, state, None, error))

    def delivered(self, ack: wire.Ack) -> None:
        """The server acked one of ours (its ``message_posted`` may have come first)."""
        pending = self.outgoing.pop(ack.client_msg_id, None)
        if pending is None:
            return
        state = self._own_state(ack.room, ack.seq)
        if ack.seq not in self._messages.get(ack.room, {}):
            self._insert(
                replace(
                    pending,
                    room=ack.room,
                    seq=ack.seq,
                    id=ack.id,
                    ts=ack.ts,
                    state=state,
                    error=None,
                )
            )
        self._emit(MessageStateChanged(ack.client_msg_id, ack.room, state, ack.seq))

    def forget_outgoing(self, cid: str) -> None:
        """A failed message the user dropped from the outbox."""
        self.outgoing.pop(cid, None)

    # --------------------------------------------------------- other events

    def apply(self, frame: wire.ServerFrame) -> None:
        """Every other event the server sends."""
        if isinstance(frame, wire.RoomJoined | wire.RoomUpdated):
            self._room_info(frame.room)
        elif isinstance(frame, wire.RoomLeft):
            self._remove_room(frame.room)
        elif isinstance(frame, wire.MemberJoined | wire.MemberLeft):
            self._membership(frame)
        elif isinstance(frame, wire.TopicChanged):
            room = self.rooms.get(frame.room)
            if room is not None:
                self._set_room(replace(room, topic=frame.topic))
            self._emit(TopicChanged(frame.room, frame.topic, frame.by))
        elif isinstance(frame, wire.MemberList):
            self.members[frame.room] = {
                m.user: Member(m.user, m.status, m.text, m.role, m.muted_until)
                for m in frame.members
            }
            self._emit(MembersChanged(frame.room, tuple(self.members[frame.room].values())))
        elif isinstance(frame, wire.PresenceChanged):
            self._set_presence(Presence(frame.user, frame.status, frame.text))
        elif isinstance(frame, wire.UserTyping):
            if frame.user != self.me:
                self._typists.started(frame.room, frame.user, frame.expires_in)
        elif isinstance(frame, wire.ReadMarkerMoved):
            self._read_marker(frame.room, frame.user, frame.seq)
        elif isinstance(frame, wire.MessageUpdated):
            self.message_updated(frame.message)
        elif isinstance(frame, wire.RoomModerated):
            self.moderated(frame)
        elif isinstance(frame, wire.Error):
            self._emit(Notice(frame.code, frame.message))

    def _room_info(self, info: wire.RoomInfo) -> None:
        old = self.rooms.get(info.id)
        room = Room.from_info(info, old.others_read_seq if old else 0)
        if room != old:
            self._set_room(room)
        if room.others_read_seq > (old.others_read_seq if old else 0):
            self._mark_own_read(room.id, room.others_read_seq)

    def _set_room(self, room: Room) -> None:
        self.rooms[room.id] = room
        self._emit(RoomChanged(room))

    def _remove_room(self, room_id: int) -> None:
        self.rooms.pop(room_id, None)
        self._messages.pop(room_id, None)
        self.members.pop(room_id, None)
        self._typists.forget(room_id)
        self._emit(RoomRemoved(room_id))

    def _membership(self, frame: wire.MemberJoined | wire.MemberLeft) -> None:
        joined = isinstance(frame, wire.MemberJoined)
        room = self.rooms.get(frame.room)
        if room is not None:
            self._set_room(
                replace(room, member_count=max(0, room.member_count + (1 if joined else -1)))
            )
        listed = self.members.get(frame.room)
        if listed is not None:
            if joined:
                presence = self.presence.get(frame.user)
                listed[frame.user] = Member(
                    frame.user,
                    presence.status if presence else "offline",
                    presence.text if presence else "",
                )
            else:
                listed.pop(frame.user, None)
        by = frame.by if isinstance(frame, wire.MemberJoined) else None
        self._emit(MembershipChanged(frame.room, frame.user, joined, by))
        if listed is not None:
            self._emit(MembersChanged(frame.room, tuple(listed.values())))

    def _set_presence(self, presence: Presence) -> None:
        if presence.status == "offline":
            self.presence.pop(presence.user, None)
        else:
            self.presence[presence.user] = presence
        for listed in self.members.values():
            old = listed.get(presence.user)
            if old is not None:
                listed[presence.user] = replace(old, status=presence.status, text=presence.text)
        self._emit(PresenceChanged(presence.user, presence.status, presence.text))

    def _read_marker(self, room_id: int, user: str, seq: int) -> None:
        room = self.rooms.get(room_id)
        if room is None:
            return
        if user == self.me:
            if seq <= room.last_read_seq:
                return
            later = [
                m
                for m in self._messages.get(room_id, {}).values()
                if m.seq is not None and m.seq > seq and m.author != self.me
            ]
            unread = 0 if seq >= room.latest_seq else min(room.unread, len(later))
            mentioned = 0 if unread == 0 else sum(self._mentions(m) for m in later)
            self._set_room(
                replace(
                    room, last_read_seq=seq, unread=unread, mentions=min(room.mentions, mentioned)
                )
            )
            return
        if seq <= room.others_read_seq:
            return
        self._set_room(replace(room, others_read_seq=seq))
        self._mark_own_read(room_id, seq)

    def _mark_own_read(self, room_id: int, seq: int) -> None:
        """Our delivered messages up to ``seq`` are read by someone now."""
        held = self._messages.get(room_id, {})
        for number in sorted(held):
            message = held[number]
            if number <= seq and message.author == self.me and message.state == "delivered":
                held[number] = replace(message, state="read")
                if message.client_msg_id:
                    self._emit(MessageStateChanged(message.client_msg_id, room_id, "read", number))
