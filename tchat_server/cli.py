"""``tchat-server``: serve, and administer users and invites on the same data.

Admin commands open the database directly (WAL lets them run beside a live server);
a live server notices disabled accounts on its next revocation sweep.
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
from dataclasses import replace
from pathlib import Path

from shared.errors import ProtocolError
from tchat_server.app import TchatServer, open_services
from tchat_server.config import RegistrationPolicy, ServerConfig

__all__ = ["main"]

log = logging.getLogger("tchat.server")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tchat-server", description="The tchat chat server.")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="where the database lives (env TCHAT_DATA_DIR; default ./data)",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the server")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    serve.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks one)")
    serve.add_argument("--data-dir", type=Path, default=None, dest="serve_data_dir")
    serve.add_argument(
        "--registration",
        choices=["open", "invite", "closed"],
        default=os.environ.get("TCHAT_REGISTRATION", "invite"),
        help="who may create an account over the wire (default: invite)",
    )
    serve.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        help="a browser Origin allowed to connect (repeatable; default: none)",
    )
    serve.add_argument(
        "--synchronous",
        choices=["FULL", "NORMAL"],
        default="FULL",
        help="FULL: an ack means on disk (default); NORMAL: survives a crash, not a power cut",
    )

    user = commands.add_parser("user", help="manage accounts").add_subparsers(
        dest="user_command", required=True
    )
    add = user.add_parser("add", help="create an account")
    add.add_argument("name")
    add.add_argument("--admin", action="store_true")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    user.add_parser("list", help="list accounts")
    passwd = user.add_parser("passwd", help="set a password")
    passwd.add_argument("name")
    passwd.add_argument("--password-stdin", action="store_true")
    disable = user.add_parser("disable", help="disable an account and revoke its sessions")
    disable.add_argument("name")

    invite = commands.add_parser("invite", help="manage invite codes").add_subparsers(
        dest="invite_command", required=True
    )
    create = invite.add_parser("create", help="make an invite code")
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


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Again: "):
        raise SystemExit("tchat-server: the passwords differ")
    return first


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    data_dir = (
        getattr(args, "serve_data_dir", None)
        or args.data_dir
        or Path(os.environ.get("TCHAT_DATA_DIR", "data"))
    )
    config = ServerConfig(data_dir=data_dir)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("websockets").setLevel(logging.WARNING)
    try:
        if args.command == "serve":
            registration: RegistrationPolicy = args.registration
            config = replace(
                config,
                host=args.host,
                port=args.port,
                registration=registration,
                allowed_origins=tuple(args.allow_origin),
                synchronous=args.synchronous,
            )
            return asyncio.run(_serve(config))
        return asyncio.run(_admin(config, args))
    except ProtocolError as exc:
        print(f"tchat-server: {exc.message}", file=sys.stderr)
        return 1
    except (ValueError, OSError) as exc:
        print(f"tchat-server: {exc}", file=sys.stderr)
        return 1


async def _serve(config: ServerConfig) -> int:
    server = TchatServer(config)
    await server.start()
    assert server.services is not None
    print(
        f"tchat-server listening on ws://{config.host}:{server.port} "
        f"(data: {config.data_dir.resolve()}, registration: {config.registration})",
        flush=True,
    )
    if await server.services.users.count() == 0:
        print(
            "No users yet. Create the first admin with:\n"
            f"  tchat-server --data-dir {config.data_dir} user add NAME --admin",
            flush=True,
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    print("tchat-server: shutting down", flush=True)
    await server.stop()
    return 0


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
                    flags = ",".join(
                        flag
                        for flag, on in (("admin", row.is_admin), ("disabled", row.disabled))
                        if on
                    )
                    print(f"{row.name}\t{flags}")
            elif args.user_command == "passwd":
                await accounts.set_password(args.name, _read_password(args.password_stdin))
                print(f"password of {args.name} changed")
            elif args.user_command == "disable":
                user = await accounts.disable(args.name)
                print(f"disabled {user.name}; their sessions are revoked")
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
