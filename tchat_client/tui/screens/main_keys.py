"""The main screen's key bindings (Textual reads them from ``MainScreen.BINDINGS``;
the help screen and the footer are made from them)."""

from __future__ import annotations

from textual.binding import Binding, BindingType

__all__ = ["MAIN_BINDINGS"]

MAIN_BINDINGS: list[BindingType] = [
    Binding(
        "ctrl+k",
        "switcher",
        "Switch room",
        id="main.switcher",
        tooltip="Jump to a room or person",
        priority=True,
    ),
    Binding(
        "ctrl+f",
        "search",
        "Search",
        id="main.search",
        tooltip="Search the messages of your rooms",
        priority=True,
    ),
    Binding("f1", "help", "Help", id="main.help", priority=True),
    Binding(
        "ctrl+b",
        "toggle_members",
        "Members",
        id="main.members",
        tooltip="Show or hide the member list",
        priority=True,
    ),
    Binding("alt+up", "room(-1)", "Previous room", id="main.prev_room", show=False),
    Binding("alt+down", "room(1)", "Next room", id="main.next_room", show=False),
    Binding(
        "alt+shift+down,ctrl+down",
        "next_unread",
        "Next unread room",
        id="main.next_unread",
        show=False,
    ),
    # Priority: the composer would otherwise type the letter (alt+u -> "u").
    Binding(
        "alt+u",
        "jump_unread",
        "Jump to first unread",
        id="main.jump_unread",
        show=False,
        priority=True,
    ),
    Binding(
        "alt+a",
        "catch_up",
        "Catch up: next room with news",
        id="main.catch_up",
        tooltip="Open the next room with unread messages from the away summary",
        show=False,
        priority=True,
    ),
    Binding(
        "pageup",
        "scroll_transcript(-1)",
        "Scroll up",
        id="main.page_up",
        show=False,
        priority=True,
    ),
    Binding(
        "pagedown",
        "scroll_transcript(1)",
        "Scroll down",
        id="main.page_down",
        show=False,
        priority=True,
    ),
    Binding("escape", "focus_composer", "Back to writing", id="main.escape", show=False),
]
