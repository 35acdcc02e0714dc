"""``tchat login``, ``logout``, ``profiles``, ``status``, ``join`` and ``leave``."""

from __future__ import annotations

import argparse
import getpass
import ipaddress
import sys
from urllib.parse import urlsplit

from tchat_client.commands.common import (
    CLIENT_NAME,
    connected,
    find_room,
    profile_of,
    store,
    warn,
)
from tchat_client.core.auth import sign_in
from tchat_client.core.cache import Cache
from tchat_client.core.errors import AuthError, ClientError
from tchat_client.core.outbox import Outbox
from tchat_client.exits import ExitCode, Failure

__all__ = ["join", "leave", "login", "logout", "profiles", "status"]


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise Failure(ExitCode.ERROR, "no password on standard input")
        return line
    if not sys.stdin.isatty():
        raise Failure(ExitCode.ERROR, "no terminal to ask for a password: use --password-stdin")
    password = getpass.getpass("Password: ")
    if args.register and password != getpass.getpass("Password again: "):
        raise Failure(ExitCode.ERROR, "the passwords differ")
    return password


def _cleartext_warning(server: str) -> None:
    host = urlsplit(server).hostname or ""
    if urlsplit(server).scheme != "ws" or host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    warn(f"warning: {server} is not encrypted (ws://): use wss:// beyond this machine")


async def login(args: argparse.Namespace) -> int:
    if args.invite and not args.register:
        raise Failure(ExitCode.ERROR, "--invite goes with --register")
    password = _read_password(args)
    try:
        profile = await sign_in(
            store(),
            args.server,
            args.user,
            password,
            register=args.register,
            invite=args.invite,
            profile_name=args.profile,
            client_name=CLIENT_NAME,
        )
    except ValueError as exc:
        raise Failure(ExitCode.ERROR, str(exc)) from None
    _cleartext_warning(profile.server)
    warn(f"logged in as {profile.user} on {profile.server} (profile {profile.name})")
    outbox = Outbox(profile.outbox_path)
    pending = outbox.pending_count()
    outbox.close()
    if pending:
        try:
            async with connected(args, profile):
                pass
        except ClientError as exc:
            warn(f"could not send the {pending} queued message(s) yet: {exc}")
    return ExitCode.OK


async def logout(args: argparse.Namespace) -> int:
    profile = profile_of(args)
    if profile.token() is None:
        warn(f"profile {profile.name} is already logged out")
        return ExitCode.OK
    problem: ClientError | None = None
    try:
        async with connected(args, profile) as client:
            await client.logout(args.everywhere)
    except AuthError:
        pass  # the token is no longer valid: nothing left to revoke
    except ClientError as exc:
        problem = exc
    profile.forget_token()
    cache = Cache(profile.cache_path)
    cache.wipe()
    cache.close()
    outbox = Outbox(profile.outbox_path)
    left = len(outbox.entries())
    outbox.close()
    if left:
        warn(f"{left} message(s) stay in the outbox until you log in again")
    if problem is not None:
        raise Failure(
            ExitCode.UNREACHABLE,
            f"logged out here, but the server was not told ({problem}): the session stays valid there",
        )
    warn(f"logged out of {profile.server}")
    return ExitCode.OK


async def profiles(args: argparse.Namespace) -> int:
    profiles_ = store()
    if args.set_default:
        profiles_.set_default(args.set_default)
    default = profiles_.default_name()
    for profile in profiles_.list():
        mark = "*" if profile.name == default else " "
        state = "" if profile.token() else "  (logged out)"
        print(f"{mark} {profile.name}  {profile.user}  {profile.server}{state}")
    return ExitCode.OK


async def status(args: argparse.Namespace) -> int:
    async with connected(args) as client:
        await client.set_presence(args.status, " ".join(args.text))
    return ExitCode.OK


async def join(args: argparse.Namespace) -> int:
    async with connected(args) as client:
        room = await client.join(args.name)
    warn(f"joined {room.label}")
    return ExitCode.OK


async def leave(args: argparse.Namespace) -> int:
    async with connected(args) as client:
        room = find_room(client, args.target)
        await client.leave(room.id)
    warn(f"left {room.label}")
    return ExitCode.OK
