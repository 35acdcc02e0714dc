"""Carrying out slash commands from the composer through the client core.

Parsing lives in ``tui/slash.py``; here each command becomes a client call in a
worker, and its failure a notification. The server checks every right.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from tchat_client.core import ClientError
from tchat_client.core.models import Room
from tchat_client.tui.slash import Command, parse, unescape

if TYPE_CHECKING:
    from tchat_client.tui.screens.main import MainScreen

__all__ = ["SlashRunner"]


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

    def _call(self, call: Awaitable[object], failure: str) -> None:
        async def run() -> None:
            try:
                await call
            except ClientError as exc:
                self._screen.notify(f"{failure}: {exc}", severity="error")

        self._screen.run_worker(run(), exit_on_error=False)


Handler = Callable[[Command], None]
