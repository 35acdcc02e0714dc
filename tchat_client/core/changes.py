"""The state's handling of messages that change after they are stored, of
moderation, and of catching up ("since you were away").

A part of ``State`` kept in its own module (``State`` inherits it): edits,
deletes, reactions and reply counts arrive as ``message_updated`` carrying the
whole message as it now is, so applying one is a replacement of the held message
(same room and seq), never a patch; an older version (a lower ``change``) never
replaces a newer one. Moderation actions (``room_moderated``) update what the
client shows of the room (slow mode, lock, one's role or mute) and are announced
as ``ModerationNotice``; the server decides every action, the client only
follows.
"""

from __future__ import annotations

from dataclasses import replace

from shared import frames as wire
from tchat_client.core.events import ChangeEvent, MembersChanged, MessageChanged, ModerationNotice
from tchat_client.core.mentions import mentions_me
from tchat_client.core.models import Member, Message, MessageState, ReplyPreview, Room

__all__ = ["ChangedMessages", "reply_preview"]

SNIPPET = 120
"""Characters of a parent's body quoted in a reply (as the server's ``ReplyRef``)."""


def reply_preview(parent: Message) -> ReplyPreview:
    """The one-line quote of ``parent`` that a reply to it shows."""
    assert parent.seq is not None
    snippet = "" if parent.deleted else " ".join(parent.body.split("\n"))[:SNIPPET]
    return ReplyPreview(parent.seq, parent.author, snippet, parent.deleted)


class ChangedMessages:
    """Mixed into ``State``: the attributes below are the state's own."""

    me: str
    rooms: dict[int, Room]
    members: dict[int, dict[str, Member]]
    _messages: dict[int, dict[int, Message]]

    def _emit(self, event: ChangeEvent) -> None:
        raise NotImplementedError

    def _set_room(self, room: Room) -> None:
        raise NotImplementedError

    def _own_state(self, room_id: int, seq: int) -> MessageState:
        raise NotImplementedError

    # ------------------------------------------------------------- queries

    def message(self, room_id: int, seq: int) -> Message | None:
        """The held message with that seq (None: not in memory)."""
        return self._messages.get(room_id, {}).get(seq)

    def shown(self, info: wire.MessageInfo) -> Message:
        """A message from an answer (a thread page), as the state would show it:
        one's own carries its delivery state."""
        own = info.author == self.me
        return Message.from_info(info, self._own_state(info.room, info.seq) if own else None)

    def away_summary(self) -> list[tuple[Room, int, int]]:
        """ "Since you were away": (room, unread, mentions) of every room with
        something unread, mentions first, then the most unread. A muted room is
        left out unless someone mentioned the user in it."""
        rooms = [
            (room, room.unread, room.mentions)
            for room in self.rooms.values()
            if (room.unread or room.mentions) and (not room.muted or room.mentions)
        ]
        rooms.sort(key=lambda item: (-item[2], -item[1], item[0].label.casefold()))
        return rooms

    # ------------------------------------------------------------- changes

    def message_updated(self, info: wire.MessageInfo) -> Message | None:
        """A message as it now is (live ``message_updated``, a resume's replay, or a
        newer version in a history page): replace the held one and announce it
        (``MessageChanged``, also for a message not held, e.g. one a thread view
        shows). None when what is held is newer."""
        held = self._messages.get(info.room)
        old = held.get(info.seq) if held is not None else None
        if old is not None and old.change >= info.change and old.change > 0:
            return None
        state: MessageState | None = None
        if info.author == self.me:
            state = (
                old.state if old is not None and old.state else self._own_state(info.room, info.seq)
            )
        message = Message.from_info(info, state)
        if old is not None and held is not None:
            held[info.seq] = message
        room = self.rooms.get(info.room)
        if room is not None and info.change > room.latest_change:
            self.rooms[room.id] = replace(room, latest_change=info.change)  # not shown
        self._emit(MessageChanged(message))
        if old is None or old.body != message.body or old.deleted != message.deleted:
            self._requote(message)
        return message

    def refresh(self, info: wire.MessageInfo) -> None:
        """A held message seen again (a history page, a replay, the
        ``message_posted`` of one of ours held since its ack): a newer version
        replaces it; the same version may still bring what the held copy lacks or
        has stale: the quote of its parent as it now is (a quote has no change
        number of its own), or the file card of a message sent from the outbox."""
        held = self._messages.get(info.room, {})
        old = held.get(info.seq)
        if old is None:
            return
        if info.change > old.change:
            self.message_updated(info)
            return
        fresh = Message.from_info(info)
        if info.change != old.change:
            return
        quote = fresh.reply if fresh.reply is not None else old.reply
        card = fresh.file if fresh.file is not None else old.file
        if quote != old.reply or card != old.file:
            held[info.seq] = replace(old, reply=quote, file=card, reply_to=fresh.reply_to)
            self._emit(MessageChanged(held[info.seq]))

    def _requote(self, parent: Message) -> None:
        """The held replies to ``parent`` quote its current text."""
        held = self._messages.get(parent.room or 0, {})
        if not held or parent.seq is None:
            return
        quote = reply_preview(parent)
        for seq, reply in list(held.items()):
            if reply.reply_to == parent.seq and reply.reply != quote:
                held[seq] = replace(reply, reply=quote)
                self._emit(MessageChanged(held[seq]))

    # ----------------------------------------------------------- moderation

    def moderated(self, frame: wire.RoomModerated) -> None:
        """A moderation action: follow what it changes that the client shows, then
        announce it."""
        room = self.rooms.get(frame.room)
        mine = frame.user is not None and frame.user.casefold() == self.me.casefold()
        if room is not None:
            changed = room
            if frame.action == "slow_mode":
                changed = replace(room, slow_mode=frame.seconds or 0)
            elif frame.action in ("lock", "unlock"):
                changed = replace(room, locked=frame.action == "lock")
            elif frame.action == "role" and mine and frame.role is not None:
                changed = replace(room, role=frame.role)
            elif frame.action == "mute" and mine:
                changed = replace(room, muted_until=frame.until or 0.0)
            elif frame.action == "unmute" and mine:
                changed = replace(room, muted_until=None)
            if changed != room:
                self._set_room(changed)
        self._moderate_member(frame)
        self._emit(
            ModerationNotice(
                frame.room,
                frame.action,
                frame.by,
                frame.user,
                frame.reason,
                frame.until,
                frame.seconds,
                frame.role,
                frame.seq,
            )
        )

    def _moderate_member(self, frame: wire.RoomModerated) -> None:
        listed = self.members.get(frame.room)
        member = listed.get(frame.user) if listed is not None and frame.user else None
        if listed is None or member is None:
            return
        if frame.action == "role" and frame.role is not None:
            member = replace(member, role=frame.role)
        elif frame.action == "mute":
            member = replace(member, muted_until=frame.until or 0.0)
        elif frame.action == "unmute":
            member = replace(member, muted_until=None)
        else:
            return
        listed[member.user] = member
        self._emit(MembersChanged(frame.room, tuple(listed.values())))

    # -------------------------------------------------------------- counts

    def _mentions(self, message: Message) -> bool:
        """Whether a new message counts as a mention of the user (as the server
        counts: by name, ``@room``, and ``@here`` for a member online, which a
        client receiving it live is)."""
        return mentions_me(message, self.me)
