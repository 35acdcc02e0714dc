"""What every ``tchat`` command shares: profiles, a connected client, room names.

A connected client is caught up and has flushed the outbox first ("every command
that connects flushes first"); failures surface as the core's ``ClientError`` or
as ``Failure(exit_code, one_line)``, which ``cli.py`` prints and returns.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tchat_client.core.client import Client
from tchat_client.core.errors import UnknownTarget
from tchat_client.core.models import Room
from tchat_client.core.profile import Profile, ProfileStore
from tchat_client.core.targets import parse_target, resolve_target

__all__ = ["CLIENT_NAME", "connected", "find_room", "new_client", "profile_of", "store", "warn"]

CLIENT_NAME = "tchat-cli"


def warn(message: str) -> None:
    print(f"tchat: {message}", file=sys.stderr, flush=True)


def store() -> ProfileStore:
    return ProfileStore.from_env()


def profile_of(args: argparse.Namespace) -> Profile:
    return store().get(args.profile)


@asynccontextmanager
async def connected(
    args: argparse.Namespace, profile: Profile | None = None, *, report: bool = True
) -> AsyncIterator[Client]:
    """A client that is connected, caught up and has flushed the outbox (``report``:
    warn about messages that failed)."""
    profile = profile or profile_of(args)
    profile.require_token()
    client = new_client(args, profile)
    try:
        async with asyncio.timeout(args.timeout):
            await client.start()
        await _flush_first(client, args.timeout, report)
        yield client
    finally:
        await client.close()


def new_client(args: argparse.Namespace, profile: Profile) -> Client:
    """A client for one command: no prefetching, and no retrying a first
    connection that fails (a script wants the error now, not in 30 s)."""
    return Client(
        profile,
        client_name=CLIENT_NAME,
        prefetch=False,
        fail_fast=True,
        request_timeout=args.timeout,
    )


async def _flush_first(client: Client, seconds: float, report: bool) -> None:
    if client.outbox.pending_count():
        try:
            async with asyncio.timeout(seconds):
                await client.flush()
        except TimeoutError:
            count = client.outbox.pending_count()
            warn(f"{count} queued message(s) not sent yet; they stay in the outbox")
    failed = [e for e in client.outbox.entries() if e.state == "failed"]
    if failed and report:
        warn(f"{len(failed)} message(s) could not be sent; see `tchat outbox`")


def find_room(client: Client, target: str) -> Room:
    try:
        parsed = parse_target(target)
    except ValueError as exc:
        raise UnknownTarget(str(exc)) from None
    room = resolve_target(parsed, client.state.rooms.values())
    if room is None:
        if parsed.kind == "dm":
            raise UnknownTarget(f"no conversation with {parsed.label} yet")
        raise UnknownTarget(f"no room named {parsed.label} among yours")
    return room
