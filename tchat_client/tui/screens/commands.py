"""Carrying out slash commands from the composer through the client core.

Parsing lives in ``tui/slash.py``; here each command becomes a client call in a
worker, and its failure a notification. The server checks every right.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from tchat_client.core import ClientError
from tchat_client.core.models import Room
from tchat_client.tui.moderation_ui import MODERATION_COMMANDS, moderation_call
from tchat_client.tui.slash import Command, SlashError, parse, unescape
from tchat_client.tui.transfers_ui import split_upload_args, upload_file

if TYPE_CHECKING:
    from tchat_client.tui.screens.main import MainScreen

__all__ = ["PaletteEntry", "SlashRunner", "palette_commands"]


class SlashRunner:
    def __init__(self, screen: MainScreen) -> None:
        self._screen = screen
        self._open_when_joined: str | None = None

    def message_text(self, text: str) -> str:
        return unescape(text)

    def wants(self, room: Room) -> bool:
        """True once, for the room a /join, /create or /dm is waiting to open."""
        if self._open_when_joined is None:
            return False
        if self._open_when_joined in {room.label.casefold(), (room.dm_user or "").casefold()}:
            self._open_when_joined = None
            return True
        return False

    def run(self, line: str) -> bool:
        """Carry out ``line`` if it is a command; False for an ordinary message.

        Raises:
            SlashError: unknown command or missing arguments.
        """
        command = parse(line)
        if command is None:
            return False
        if command.name in MODERATION_COMMANDS:
            self._moderate(command)
        else:
            handler = getattr(self, f"_{command.name}")
            handler(command)
        return True

    # ------------------------------------------------------------ commands

    def _join(self, command: Command) -> None:
        name = command.args[0].removeprefix("#")
        room = self._find(f"#{name}")
        if room is not None:
            self._screen.open_room(room.id)
            return
        self._open_when_joined = f"#{name.casefold()}"
        self._call(self._client.join(name), f"Could not join #{name}")

    def _leave(self, command: Command) -> None:
        room = self._find(command.args[0]) if command.args else self._screen.room
        if room is None:
            self._screen.notify("No such room", severity="error")
            return
        self._call(self._client.leave(room.id), f"Could not leave {room.label}")

    def _create(self, command: Command) -> None:
        args = list(command.args)
        kind = "channel"
        if args[0].lower() == "group" and len(args) > 1:
            kind = "group"
            args = args[1:]
        name = args[0].removeprefix("#")
        members = [a.removeprefix("@") for a in args[1:] if a.startswith("@")]
        label = f"#{name}" if kind == "channel" else name
        self._open_when_joined = label.casefold()
        self._call(
            self._client.create_room(name, kind=kind, members=members),
            f"Could not create {label}",
        )

    def _dm(self, command: Command) -> None:
        user = command.args[0].removeprefix("@")
        text = command.rest[len(command.args[0]) :].strip()
        if text:
            try:
                self._client.send_to(f"@{user}", text)
            except ClientError as exc:
                self._screen.notify(str(exc), severity="error")
                return
        self.open_dm(user)

    def open_dm(self, user: str) -> None:
        room = self._find(f"@{user}")
        if room is not None:
            self._screen.open_room(room.id)
        else:
            self._open_when_joined = user.casefold()
            self._screen.notify(
                f"Your first message to @{user} starts the conversation: /dm @{user} hello"
            )

    def _invite(self, command: Command) -> None:
        room = self._screen.room
        if room is None:
            return
        for user in command.args:
            name = user.removeprefix("@")
            self._call(self._client.invite(room.id, name), f"Could not invite {name}")

    def _topic(self, command: Command) -> None:
        room = self._screen.room
        if room is not None:
            self._call(self._client.set_topic(room.id, command.rest), "Could not set the topic")

    def _me(self, command: Command) -> None:
        room = self._screen.room
        if room is not None:
            self._screen.send(room.id, f"_{command.rest}_")

    def _away(self, command: Command) -> None:
        self._call(self._client.set_presence("away", command.rest), "Could not set your status")

    def _dnd(self, command: Command) -> None:
        self._call(self._client.set_presence("dnd", command.rest), "Could not set your status")

    def _back(self, command: Command) -> None:
        self._call(self._client.set_presence("online", ""), "Could not set your status")

    def _moderate(self, command: Command) -> None:
        """Kick, ban, mute, roles, slow mode, lock: the server says yes (its
        ``room_moderated`` line appears) or no (its reason as an error)."""
        room = self._here()
        call, failure = moderation_call(self._client, room, command)
        self._call(call, failure)

    def _notify(self, command: Command) -> None:
        room = self._here()
        choice = command.args[0].lower()
        if choice in {"mute", "unmute"}:
            call = self._client.set_notify(room.id, muted=choice == "mute")
            done = f"{room.label} {'muted' if choice == 'mute' else 'unmuted'}"
        else:
            call = self._client.set_notify(room.id, level=choice)
            done = (
                f"{room.label}: alerts for "
                + {
                    "all": "every message",
                    "mentions": "mentions only",
                    "none": "nothing",
                }[choice]
            )
        self._call(call, f"Could not change alerts for {room.label}", done=done)

    def _unread(self, command: Command) -> None:
        self._screen.catch_up.jump_to_first_unread()

    def _markunread(self, command: Command) -> None:
        self._screen.catch_up.mark_unread()

    def _upload(self, command: Command) -> None:
        room = self._here()
        path, caption = split_upload_args(command.rest)
        self._screen.run_worker(
            upload_file(self._screen, self._client, room.id, path, caption),
            group="upload",
            exit_on_error=False,
        )

    def _help(self, command: Command) -> None:
        self._screen.action_help()

    def _quit(self, command: Command) -> None:
        self._screen.app.exit()

    # -------------------------------------------------------------- helpers

    @property
    def _client(self) -> Any:
        return self._screen.client

    def _find(self, label: str) -> Room | None:
        wanted = label.casefold()
        for room in self._screen.client.state.rooms.values():
            if room.label.casefold() == wanted or (
                not wanted.startswith(("#", "@")) and room.name.casefold() == wanted
            ):
                return room
        return None

    def _here(self) -> Room:
        """The room on screen, for commands that act on it.

        Raises:
            SlashError: no room is open.
        """
        room = self._screen.room
        if room is None:
            raise SlashError("Pick a room first (ctrl+k)")
        return room

    def _call(self, call: Awaitable[object], failure: str, done: str = "") -> None:
        async def run() -> None:
            try:
                await call
            except ClientError as exc:
                self._screen.notify(f"{failure}: {exc}", severity="error")
            else:
                if done:
                    self._screen.notify(done)

        self._screen.run_worker(run(), exit_on_error=False)


Handler = Callable[[Command], None]


PaletteEntry = tuple[str, str, Callable[[], None]]
"""(title, help, callback) for the command palette (ctrl+p)."""


def palette_commands(screen: MainScreen) -> list[PaletteEntry]:
    """What the command palette offers beyond the key bindings: the room's alert
    level, mute, mark unread, and commands that need an argument (the composer is
    filled in for those)."""
    runner = screen.slash_runner

    def command(line: str) -> Callable[[], None]:
        def run() -> None:
            try:
                runner.run(line)
            except SlashError as exc:
                screen.notify(str(exc), severity="error")

        return run

    def prefill(text: str) -> Callable[[], None]:
        def run() -> None:
            screen.composer.load_text(text)
            screen.composer.move_cursor(screen.composer.document.end)
            screen.composer.focus()

        return run

    room = screen.room
    here = room.label if room is not None else "this room"
    entries: list[PaletteEntry] = [
        (f"Alerts: every message in {here}", "/notify all", command("/notify all")),
        (f"Alerts: only mentions in {here}", "/notify mentions", command("/notify mentions")),
        (f"Alerts: none from {here}", "/notify none", command("/notify none")),
        (f"Mute {here}", "No unread badge, no alerts: /notify mute", command("/notify mute")),
        (f"Unmute {here}", "/notify unmute", command("/notify unmute")),
        (f"Mark {here} unread", "/markunread", command("/markunread")),
        ("Upload a file…", "/upload PATH [caption]", prefill("/upload ")),
    ]
    if room is not None and room.can_moderate:
        entries += [
            (f"Lock {here}", "Only moderators may post: /lock", command("/lock")),
            (f"Unlock {here}", "/unlock", command("/unlock")),
            ("Slow mode…", "/slow 30s | 5m | off", prefill("/slow ")),
            ("Kick someone…", "/kick @user [reason]", prefill("/kick ")),
            ("Ban someone…", "/ban @user [duration] [reason]", prefill("/ban ")),
            ("Mute someone…", "/mute @user [duration] [reason]", prefill("/mute ")),
        ]
    return entries
