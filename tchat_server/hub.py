"""Who is in which room, who is connected, and fan-out of encoded events.

The membership map mirrors the database (loaded at start, updated by the room
rules after each commit), so permission checks and fan-out never touch SQLite.
Each event is encoded once by the caller and pushed to the sessions of the room's
*online* members only; pushing never awaits.
"""

from __future__ import annotations

from collections.abc import Iterable

from tchat_server.session import Joined, Session

__all__ = ["Hub"]


class Hub:
    def __init__(self) -> None:
        self._members: dict[int, set[int]] = {}
        self._rooms_of: dict[int, set[int]] = {}
        self._sessions: dict[int, list[Session]] = {}
        self._online_in_room: dict[int, set[int]] = {}

    # ----------------------------------------------------------- membership

    def load(self, memberships: Iterable[tuple[int, int]]) -> None:
        for room_id, user_id in memberships:
            self.add_member(room_id, user_id)

    def add_member(self, room_id: int, user_id: int) -> bool:
        """Record a membership; True when it is new to the hub."""
        members = self._members.setdefault(room_id, set())
        if user_id in members:
            return False
        members.add(user_id)
        self._rooms_of.setdefault(user_id, set()).add(room_id)
        if user_id in self._sessions:
            self._online_in_room.setdefault(room_id, set()).add(user_id)
        return True

    def remove_member(self, room_id: int, user_id: int) -> None:
        self._members.get(room_id, set()).discard(user_id)
        self._rooms_of.get(user_id, set()).discard(room_id)
        self._online_in_room.get(room_id, set()).discard(user_id)

    def is_member(self, room_id: int, user_id: int) -> bool:
        return user_id in self._members.get(room_id, ())

    def members(self, room_id: int) -> frozenset[int]:
        return frozenset(self._members.get(room_id, ()))

    def rooms_of(self, user_id: int) -> frozenset[int]:
        return frozenset(self._rooms_of.get(user_id, ()))

    def co_members(self, user_id: int) -> set[int]:
        """Everyone who shares at least one room with the user (not the user)."""
        found: set[int] = set()
        for room_id in self._rooms_of.get(user_id, ()):
            found.update(self._members.get(room_id, ()))
        found.discard(user_id)
        return found

    # ------------------------------------------------------------- sessions

    def attach(self, session: Session) -> bool:
        """Register a live session; True when it is the user's first."""
        sessions = self._sessions.setdefault(session.user_id, [])
        sessions.append(session)
        if len(sessions) == 1:
            for room_id in self._rooms_of.get(session.user_id, ()):
                self._online_in_room.setdefault(room_id, set()).add(session.user_id)
            return True
        return False

    def detach(self, session: Session) -> bool:
        """Forget a session; True when it was the user's last."""
        sessions = self._sessions.get(session.user_id)
        if not sessions or session not in sessions:
            return False
        sessions.remove(session)
        if sessions:
            return False
        del self._sessions[session.user_id]
        for room_id in self._rooms_of.get(session.user_id, ()):
            self._online_in_room.get(room_id, set()).discard(session.user_id)
        return True

    def online_in(self, room_id: int) -> frozenset[int] | set[int]:
        """The room's members who are online (the hub's own set: do not change it)."""
        return self._online_in_room.get(room_id, frozenset())

    def is_online(self, user_id: int) -> bool:
        return user_id in self._sessions

    def sessions_of(self, user_id: int) -> tuple[Session, ...]:
        return tuple(self._sessions.get(user_id, ()))

    def all_sessions(self) -> list[Session]:
        return [s for sessions in self._sessions.values() for s in sessions]

    # -------------------------------------------------------------- fan-out

    def publish(
        self,
        room_id: int,
        data: bytes,
        *,
        exclude_user: int | None = None,
        seq: int | None = None,
    ) -> int:
        """Push an encoded event to every online member's sessions; returns how many."""
        count = 0
        for user_id in self._online_in_room.get(room_id, ()):
            if user_id == exclude_user:
                continue
            for session in self._sessions[user_id]:
                session.push(data, room_id, seq)
                count += 1
        return count

    def to_users(self, user_ids: Iterable[int], data: bytes) -> None:
        for user_id in user_ids:
            for session in self._sessions.get(user_id, ()):
                session.push(data)

    def to_user(self, user_id: int, data: bytes) -> None:
        for session in self._sessions.get(user_id, ()):
            session.push(data)

    def to_user_joined(self, user_id: int, frames: Joined) -> None:
        """Push frames joined once for many users (``Session.push_joined``)."""
        for session in self._sessions.get(user_id, ()):
            session.push_joined(frames)
