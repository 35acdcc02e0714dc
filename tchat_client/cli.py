"""``tchat``: the scriptable command line over the client core.

Scripts, cron jobs and bots use it, so it imports no ``textual`` (only a bare
``tchat``, which opens the terminal UI, does), prints data on stdout and each
error as one line on stderr, and exits with a code that says what went wrong
(see ``exits.py`` and ``tchat --help``).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import logging
import os
import sys
import textwrap
from typing import NoReturn

from tchat_client.cli_chat import add_chat_commands
from tchat_client.exits import EPILOG, ExitCode, Failure, classify

__all__ = ["build_parser", "main"]

_RAW_HELP = (
    "print bodies exactly as sent, terminal escape sequences included (by default they "
    "are shown as visible symbols: only use this for people you trust)"
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """Usage errors exit 1: 2 means bad credentials here."""
        self.print_usage(sys.stderr)
        self.exit(ExitCode.ERROR, f"{self.prog}: error: {message}\n")


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument(
        "--profile",
        default=argparse.SUPPRESS,
        help="the profile to use (default: $TCHAT_PROFILE, else the last logged in)",
    )
    common.add_argument(
        "--timeout",
        type=_positive,
        default=argparse.SUPPRESS,
        help="seconds to wait for the server (default 30)",
    )
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS)
    parser = _Parser(
        prog="tchat",
        description="tchat: a terminal chat. Without a command, opens the terminal UI.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, text: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            help=text.split(". ")[0],
            description=textwrap.fill(text, 78),
            parents=[common],
            epilog=EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    login = command("login", "log in (or register) and remember the session")
    login.add_argument("--server", required=True, help="ws://host:port or wss://host")
    login.add_argument("--user", required=True, help="user name")
    login.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    login.add_argument("--register", action="store_true", help="create the account first")
    login.add_argument("--invite", help="invite code (with --register)")

    logout = command("logout", "end the session and forget the token and cache")
    logout.add_argument("--everywhere", action="store_true", help="end all your sessions")

    profiles = command("profiles", "list profiles (* marks the default)")
    profiles.add_argument("--set-default", metavar="NAME", help="make NAME the default")

    rooms = command("rooms", "list your rooms with unread and mention counts")
    rooms.add_argument("--json", action="store_true", help="print JSON")

    send = command(
        "send",
        "send a message; exits 0 once the server acked it. TARGET: #channel, @user, "
        "or the name of a channel or group. Without TEXT, the message is read from stdin.",
    )
    send.add_argument("target", metavar="TARGET")
    send.add_argument("text", metavar="TEXT", nargs="*")
    send.add_argument(
        "--queue",
        action="store_true",
        help="return once the message is safely in the outbox (even with the server "
        "down); a later command or `tchat flush` sends it",
    )
    send.add_argument(
        "--id",
        metavar="KEY",
        help="idempotency key (client_msg_id): repeating a send with the same key "
        "stores the message once",
    )
    send.add_argument("--json", action="store_true", help="print the ack as JSON")
    send.add_argument(
        "--reply-to", metavar="SEQ", type=_count, help="answer message number SEQ of the room"
    )

    command("flush", "send whatever is in the outbox")

    outbox = command("outbox", "list the messages not sent yet (and why)")
    outbox.add_argument("--json", action="store_true", help="print JSON")
    outbox.add_argument(
        "--drop", metavar="ID", nargs="+", help="remove messages that were never sent, or failed"
    )
    outbox.add_argument("--retry", action="store_true", help="queue failed messages again")

    history = command("history", "print a room's recent messages, oldest first")
    history.add_argument("target", metavar="TARGET")
    history.add_argument("--limit", type=_count, default=50, help="how many (default 50)")
    history.add_argument("--json", action="store_true", help="one JSON object per line")
    history.add_argument("--raw", action="store_true", help=_RAW_HELP)

    tail = command("tail", "print a room's last messages; with -f, follow new ones")
    tail.add_argument("target", metavar="TARGET")
    tail.add_argument("-n", "--lines", type=_count, default=10, help="how many (default 10)")
    tail.add_argument(
        "-f", "--follow", action="store_true", help="keep printing new messages until interrupted"
    )
    tail.add_argument("--json", action="store_true", help="one JSON object per line")
    tail.add_argument("--raw", action="store_true", help=_RAW_HELP)

    search = command(
        "search",
        "search the messages of your rooms, newest first. QUERY: words (all must match), "
        '"a phrase", word* (a prefix), and filters from:USER, in:#channel / in:group / '
        "in:@user, before:YYYY-MM-DD, after:YYYY-MM-DD (UTC days), has:file.",
    )
    search.add_argument("query", metavar="QUERY", nargs="+")
    search.add_argument("--limit", type=_count, default=50, help="how many (default 50)")
    search.add_argument("--json", action="store_true", help="one JSON object per line")

    status = command(
        "status", "set your presence (it lasts while one of your sessions is connected)"
    )
    status.add_argument("status", choices=["online", "away", "dnd"])
    status.add_argument("text", metavar="TEXT", nargs="*", help="a status message")

    join = command("join", "join a public channel")
    join.add_argument("name", metavar="CHANNEL")
    leave = command("leave", "leave a channel or group")
    leave.add_argument("target", metavar="TARGET")
    add_chat_commands(command)  # edit, delete, react, thread, notify, moderation...

    upload = command(
        "upload",
        "upload a file and post it to TARGET (#channel, @user with a conversation "
        "already, or a group's name); prints the file's id. An interrupted upload of "
        "the same file resumes where it stopped.",
    )
    upload.add_argument("target", metavar="TARGET")
    upload.add_argument("path", metavar="PATH")
    upload.add_argument("--message", metavar="TEXT", help="text to post with the file")
    upload.add_argument("--json", action="store_true", help="print the file and message as JSON")

    download = command(
        "download",
        "download a file of one of your rooms into DEST (a folder, default the current "
        "one, or a file path); prints where it was written. A partial download resumes.",
    )
    download.add_argument("file_id", metavar="FILE_ID", type=_count)
    download.add_argument("dest", metavar="DEST", nargs="?")
    download.add_argument("--json", action="store_true", help="print the result as JSON")
    return parser


def _open_tui(profile: str | None) -> int:
    """Bare ``tchat``: the terminal UI (``tchat_client.tui.run``), when installed."""
    if importlib.util.find_spec("textual") is None or (
        importlib.util.find_spec("tchat_client.tui") is None
        or importlib.util.find_spec("tchat_client.tui.run") is None
    ):
        print(
            "tchat: the terminal UI is not available; see `tchat --help` for the commands",
            file=sys.stderr,
        )
        return 2
    run = importlib.import_module("tchat_client.tui.run")
    return int(run.run_tui(profile) or 0)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for name, default in (("profile", None), ("timeout", 30.0), ("verbose", False)):
        if not hasattr(args, name):
            setattr(args, name, default)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="tchat: %(message)s",
    )
    logging.getLogger("websockets").setLevel(logging.DEBUG if args.verbose else logging.ERROR)
    if args.command is None:
        return _open_tui(args.profile)
    # Imported here, so that `tchat --help` and the TUI do not load the commands.
    from tchat_client.commands import COMMANDS

    following = args.command == "tail" and args.follow
    try:
        return asyncio.run(COMMANDS[args.command](args))
    except KeyboardInterrupt:
        return ExitCode.OK if following else ExitCode.INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`tchat tail -f x | head`): not an error of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return ExitCode.OK
    except Exception as exc:
        code, message = classify(exc)
        if code == ExitCode.ERROR and not isinstance(exc, Failure) and args.verbose:
            logging.exception("failed")
        print(f"tchat: {message}", file=sys.stderr)
        return code
