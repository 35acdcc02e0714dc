"""Who and where, as the client state knows them: the names the quick switcher and
completion offer. Plain functions of the state, so the main screen only routes."""

from __future__ import annotations

from tchat_client.core.state import State
from tchat_client.tui.widgets.room_list import sort_rooms

__all__ = ["completion_names", "known_people", "room_label", "switch_targets"]

Target = tuple[str, int | str, str]
"""(label, room id or "@user", hint)"""


def known_people(state: State) -> set[str]:
    """Everyone this client has seen: presence, member lists, DM partners and the
    authors of the messages it holds (not the user)."""
    people = {*state.presence, *(m for ms in state.members.values() for m in ms)}
    people.update(r.dm_user for r in state.rooms.values() if r.dm_user)
    for room_id in state.rooms:
        people.update(m.author for m in state.messages(room_id)[-200:])
    people.discard(state.me)
    return people


def completion_names(state: State) -> tuple[list[str], list[str]]:
    """(people, channel names) for the composer's completion."""
    rooms = [r.name for r in state.rooms.values() if r.kind == "channel"]
    return sorted(known_people(state)), sorted(rooms)


def switch_targets(state: State) -> list[Target]:
    """The quick switcher's entries: rooms in list order, then people to DM."""
    targets: list[Target] = []
    dm_partners: set[str] = set()
    for room in sort_rooms(state.rooms.values()):
        hint = f"{room.unread} unread" if room.unread else room.kind
        targets.append((room.label, room.id, hint))
        if room.kind == "dm" and room.dm_user:
            dm_partners.add(room.dm_user)
    for person in sorted(known_people(state)):
        if person not in dm_partners:
            targets.append((f"@{person}", f"@{person}", "start a conversation"))
    return targets


def room_label(state: State, room_id: int | None) -> str:
    room = state.rooms.get(room_id or 0)
    return room.label if room else "?"
