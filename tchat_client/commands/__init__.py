"""The ``tchat`` subcommands, each an ``async`` function of the parsed arguments
returning an exit code."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Coroutine
from typing import Any

from tchat_client.commands.account import join, leave, login, logout, profiles, status
from tchat_client.commands.files import download, upload
from tchat_client.commands.message_actions import delete, edit, mark_unread, notify, react, thread
from tchat_client.commands.messages import flush, outbox, send
from tchat_client.commands.moderation import (
    ban,
    kick,
    lock,
    mute,
    role,
    slow,
    unban,
    unlock,
    unmute,
)
from tchat_client.commands.reading import history, rooms, tail
from tchat_client.commands.search import search

__all__ = ["COMMANDS"]

COMMANDS: dict[str, Callable[[argparse.Namespace], Coroutine[Any, Any, int]]] = {
    "login": login,
    "logout": logout,
    "profiles": profiles,
    "send": send,
    "flush": flush,
    "outbox": outbox,
    "rooms": rooms,
    "history": history,
    "tail": tail,
    "search": search,
    "status": status,
    "join": join,
    "leave": leave,
    "edit": edit,
    "delete": delete,
    "react": react,
    "thread": thread,
    "notify": notify,
    "mark-unread": mark_unread,
    "kick": kick,
    "ban": ban,
    "unban": unban,
    "mute": mute,
    "unmute": unmute,
    "role": role,
    "slow": slow,
    "lock": lock,
    "unlock": unlock,
    "upload": upload,
    "download": download,
}
