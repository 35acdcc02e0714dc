"""``tchat-server``: serve; show the configuration; back up, restore and check the
data; administer users and invites.

Settings come from flags, ``TCHAT_*`` variables and ``--config FILE`` (TOML), in
that order (``tchat_server.settings``). Admin commands open the database directly
(WAL lets them run beside a live server); a live server notices disabled accounts
on its next revocation sweep.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import re
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from shared.errors import ProtocolError
from tchat_server import audit
from tchat_server import backup as backups
from tchat_server.app import TchatServer, open_services
from tchat_server.config import SETTINGS, ServerConfig
from tchat_server.datadir import DataDirLock
from tchat_server.edge import tls_context
from tchat_server.logs import configure as configure_logging
from tchat_server.runtime import tune_gc
from tchat_server.settings import CONFIG_ENV, ConfigError, render, resolve
from tchat_server.storage.users import TokenRow

__all__ = ["main", "parse_duration"]

log = logging.getLogger("tchat.server")

EXIT_CONFIG = 2
"""Exit code for a refused configuration (as for a usage error)."""


def _common() -> argparse.ArgumentParser:
    """``--config`` and ``--data-dir``, accepted before or after the command."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        type=Path,
        default=argparse.SUPPRESS,
        metavar="FILE",
        help=f"TOML settings file (env {CONFIG_ENV})",
    )
    common.add_argument(
        "--data-dir",
        type=Path,
        default=argparse.SUPPRESS,
        help="where the database lives (env TCHAT_DATA_DIR; default ./data)",
    )
    return common


def _server_flags() -> argparse.ArgumentParser:
    """The settings that have a flag (besides ``--data-dir``), for serve and config."""
    flags = argparse.ArgumentParser(add_help=False)
    for setting in SETTINGS:
        if setting.flag is None or setting.key == "data_dir":
            continue
        help_text = f"{setting.help} (env {setting.env})"
        metavar = setting.flag.removeprefix("--").replace("-", "_").upper()
        if setting.kind in {"list", "networks"}:
            flags.add_argument(
                setting.flag,
                dest=setting.key,
                action="append",
                metavar=metavar,
                help=help_text + "; repeatable",
            )
        elif setting.kind == "choice":
            flags.add_argument(
                setting.flag, dest=setting.key, choices=setting.choices, help=help_text
            )
        else:
            flags.add_argument(setting.flag, dest=setting.key, metavar=metavar, help=help_text)
    return flags


def _parser() -> argparse.ArgumentParser:
    common, server = _common(), _server_flags()
    parser = argparse.ArgumentParser(
        prog="tchat-server",
        description="The tchat chat server.",
        parents=[common],
        epilog="Settings: flag > TCHAT_<KEY> environment variable > --config file > default.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def command(
        name: str, help_text: str, *parents: argparse.ArgumentParser
    ) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help_text, parents=[common, *parents])

    command("serve", "run the server", server)
    config = command("config", "the configuration").add_subparsers(
        dest="config_command", required=True
    )
    config.add_parser(
        "show", help="print the effective configuration (secrets masked)", parents=[common, server]
    )

    dest = command("backup", "copy the data consistently, even while the server runs")
    dest.add_argument("dest", type=Path, help="a new folder for the backup")
    source = command("restore", "replace the data with a backup (stop the server first)")
    source.add_argument("source", type=Path, help="a backup folder (or a .db file)")
    source.add_argument("--force", action="store_true", help="replace existing data (kept aside)")
    checked = command("check", "check the database's integrity")
    checked.add_argument("path", type=Path, nargs="?", help="a backup folder (default: the data)")
    checked.add_argument(
        "--files",
        action="store_true",
        help="also read every uploaded file and check its SHA-256 (sizes are always checked)",
    )

    user = command("user", "manage accounts").add_subparsers(dest="user_command", required=True)
    add = user.add_parser("add", help="create an account", parents=[common])
    add.add_argument("name")
    add.add_argument("--admin", action="store_true")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    user.add_parser("list", help="list accounts", parents=[common])
    passwd = user.add_parser("passwd", help="set a password", parents=[common])
    passwd.add_argument("name")
    passwd.add_argument("--password-stdin", action="store_true")
    disable = user.add_parser(
        "disable", help="disable an account and revoke its sessions", parents=[common]
    )
    disable.add_argument("name")
    role = user.add_parser(
        "role", help="set a server role (owner and admin moderate every room)", parents=[common]
    )
    role.add_argument("name")
    role.add_argument("role", choices=["owner", "admin", "member"])
    sessions = user.add_parser(
        "sessions", help="list an account's session tokens (never the tokens)", parents=[common]
    )
    sessions.add_argument("name")
    revoke = user.add_parser(
        "revoke", help="revoke session tokens; their connections close", parents=[common]
    )
    revoke.add_argument("name")
    which = revoke.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true", help="every session of the account")
    which.add_argument("--client", help="only sessions signed in from this client name")

    audit = command("audit", "show the moderation audit log, newest first")
    audit.add_argument("--json", action="store_true", help="one JSON object per line")
    audit.add_argument("--room", default=None, help="only this room's actions")
    audit.add_argument("--limit", type=int, default=100, help="how many (default 100)")

    invite = command("invite", "manage invite codes").add_subparsers(
        dest="invite_command", required=True
    )
    create = invite.add_parser("create", help="make an invite code", parents=[common])
    create.add_argument("--uses", type=int, default=1)
    create.add_argument("--expires", default=None, help="e.g. 30m, 12h, 7d (default: never)")
    return parser


def parse_duration(text: str) -> float:
    """'90s', '30m', '12h', '7d' -> seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", text)
    if not match:
        raise ValueError(f"not a duration: {text!r} (try 30m, 12h or 7d)")
    unit = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[match.group(2)]
    return float(match.group(1)) * unit


def session_table(tokens: list[tuple[TokenRow, str]]) -> str:
    """``user sessions``: one aligned line per token, newest first; the client name
    (chosen by the client) with control characters escaped. Never a hash."""

    def when(ts: float | None) -> str:
        return "-" if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M")

    lines = [("client", "created (UTC)", "last used (UTC)", "state")]
    for row, state in tokens:
        shown = f"revoked {when(row.revoked_at)}" if state == "revoked" else state
        client = audit.printable(row.client) or "-"
        lines.append((client, when(row.created_at), when(row.last_used_at), shown))
    if len(lines) == 1:
        return "no sessions\n"
    widths = [max(len(line[i]) for line in lines) for i in range(3)]
    return "".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=False))
        + f"  {line[3]}\n"
        for line in lines
    )


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Again: "):
        raise SystemExit("tchat-server: the passwords differ")
    return first


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    flags = {s.key: getattr(args, s.key, None) for s in SETTINGS if s.flag is not None}
    config_file: Path | None = getattr(args, "config", None)
    if config_file is None and os.environ.get(CONFIG_ENV):
        config_file = Path(os.environ[CONFIG_ENV])
    try:
        resolved = resolve(file=config_file, env=os.environ, flags=flags)
    except ConfigError as exc:
        problems = str(exc).splitlines()
        print("tchat-server: configuration refused:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_CONFIG
    config = resolved.config
    configure_logging(config.log_format, config.log_level)
    try:
        if args.command == "serve":
            return asyncio.run(_serve(config))
        if args.command == "config":
            sys.stdout.write(render(resolved))
            return 0
        if args.command in {"backup", "restore", "check"}:
            return _data_command(config, args)
        return asyncio.run(_admin(config, args))
    except ConfigError as exc:
        print(f"tchat-server: configuration refused: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except (ProtocolError, backups.BackupError) as exc:
        message = exc.message if isinstance(exc, ProtocolError) else str(exc)
        print(f"tchat-server: {message}", file=sys.stderr)
        return 1
    except (ValueError, OSError) as exc:
        print(f"tchat-server: {exc}", file=sys.stderr)
        return 1


async def _serve(config: ServerConfig) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):  # before anything: a signal never kills
        loop.add_signal_handler(sig, stop.set)
    tls_context(config)  # an unusable certificate is refused before anything is opened
    with DataDirLock(config.data_dir):
        server = TchatServer(config)
        try:
            await server.start()
        except BaseException:
            await server.stop()
            raise
        assert server.services is not None
        tune_gc()  # after start-up: see tchat_server/runtime.py
        url = f"{config.scheme}://{config.host}:{server.port}"
        if config.log_format == "json":
            log.info("listening on %s", url, extra={"event": "listening", "url": url})
        else:
            print(
                f"tchat-server listening on {url} "
                f"(data: {config.data_dir.resolve()}, registration: {config.registration})",
                flush=True,
            )
        if await server.services.users.count() == 0:
            log.warning(
                "no users yet: create the first admin with "
                "`tchat-server --data-dir %s user add NAME --admin`",
                config.data_dir,
            )
        await stop.wait()
        started = time.monotonic()
        log.info(
            "shutting down: closing connections (1001) and finishing commits",
            extra={"event": "stopping", "grace": config.shutdown_grace},
        )
        await server.stop()
        log.info("stopped in %.2f s", time.monotonic() - started, extra={"event": "stopped"})
    return 0


def _data_command(config: ServerConfig, args: argparse.Namespace) -> int:
    if args.command == "backup":
        info = backups.backup(config.data_dir, args.dest)
        print(
            f"backed up {info.messages} messages and {info.files} files to {info.path} "
            f"(schema {info.schema_version}, epoch {info.epoch})"
        )
        return 0
    if args.command == "restore":
        info = backups.restore(args.source, config.data_dir, force=args.force)
        print(
            f"restored {info.messages} messages and {info.files} files into {info.path}; "
            f"new epoch {info.epoch}: clients refetch their history"
        )
        return 0
    report = backups.check(args.path or config.data_dir, blobs=True, hashes=args.files)
    for problem in report.problems:
        print(f"problem: {problem}")
    status = "ok" if report.ok else f"{len(report.problems)} problem(s)"
    print(
        f"{report.database}: {status} ({report.users} users, {report.rooms} rooms, "
        f"{report.messages} messages, {report.files} files)"
    )
    return 0 if report.ok else 1


async def _admin(config: ServerConfig, args: argparse.Namespace) -> int:
    services = await open_services(config)
    try:
        accounts = services.accounts
        if args.command == "user":
            if args.user_command == "add":
                user = await accounts.create_user(
                    args.name, _read_password(args.password_stdin), admin=args.admin
                )
                print(f"created {'admin ' if user.is_admin else ''}user {user.name}")
            elif args.user_command == "list":
                for row in await services.users.list_all():
                    shown = ((row.role, row.role != "member"), ("disabled", row.disabled))
                    flags = ",".join(flag for flag, on in shown if on)
                    print(f"{row.name}\t{flags}")
            elif args.user_command == "role":
                found = await services.users.get_by_name(args.name)
                if found is None:
                    raise ValueError(f"no user named {args.name!r}")
                if await services.users.set_role(found.id, args.role):
                    print(f"{found.name} is now a server {args.role}")
                else:
                    print(f"{found.name} is already a server {args.role}")
            elif args.user_command == "passwd":
                await accounts.set_password(args.name, _read_password(args.password_stdin))
                print(f"password of {args.name} changed")
            elif args.user_command == "disable":
                user = await accounts.disable(args.name)
                print(f"disabled {user.name}; their sessions are revoked")
            elif args.user_command == "sessions":
                _, tokens = await accounts.sessions(args.name)
                sys.stdout.write(session_table(tokens))
            elif args.user_command == "revoke":
                count = await accounts.revoke_sessions(args.name, None if args.all else args.client)
                if count == 0:
                    which = "" if args.all else f" from client {args.client!r}"
                    raise ValueError(f"{args.name} has no active session{which}; nothing revoked")
                print(
                    f"revoked {count} session(s) of {args.name}; a running server closes "
                    f"their connections within {config.revocation_check_interval:g} s"
                )
        elif args.command == "audit":
            if args.limit < 1:
                raise ValueError("--limit must be at least 1")
            entries = await services.moderation.audit_log(args.room, args.limit)
            sys.stdout.write((audit.as_json_lines if args.json else audit.as_table)(entries))
        elif args.command == "invite":
            expires = parse_duration(args.expires) if args.expires else None
            if args.uses < 1:
                raise ValueError("--uses must be at least 1")
            code = await accounts.create_invite(args.uses, expires)
            print(code)
    finally:
        await services.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
