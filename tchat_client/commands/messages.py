"""``tchat send``, ``flush`` and ``outbox``: the commands around the outbox.

``send`` writes the message to the outbox before anything else, then connects,
flushes and waits for this message's ack. When it fails, the message is taken
back out of the outbox only if the server cannot have it (never written to a
socket, or refused for good); otherwise it stays, and the next flush finishes
it: the server stores one message per ``client_msg_id``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from shared.errors import ErrorCode
from tchat_client import output
from tchat_client.commands.common import connected, new_client, profile_of, warn
from tchat_client.core.client import Client
from tchat_client.core.errors import ClientError, RequestFailed
from tchat_client.core.outbox import Outbox
from tchat_client.exits import ExitCode, Failure, classify

__all__ = ["flush", "outbox", "read_text", "send"]


def read_text(args: argparse.Namespace) -> str:
    """The message from the arguments, else from stdin (a pipe or the terminal)."""
    if args.text:
        return " ".join(args.text)
    if sys.stdin.isatty():
        warn("reading the message from standard input (end it with Ctrl-D)")
    data = sys.stdin.buffer.read()
    return data.decode("utf-8", errors="replace").replace("\x00", "\ufffd").rstrip()


async def send(args: argparse.Namespace) -> int:
    text = read_text(args)
    if not text.strip():
        raise Failure(ExitCode.ERROR, "nothing to send: the message is empty")
    if args.id is not None and not 1 <= len(args.id) <= 64:
        raise Failure(ExitCode.ERROR, "--id takes 1 to 64 characters")
    profile = profile_of(args)
    profile.require_token()
    client = new_client(args, profile)
    try:
        client.load()
        existed = args.id is not None and client.outbox.get(args.id) is not None
        cid = client.send_to(
            args.target, text, client_msg_id=args.id, reply_to=getattr(args, "reply_to", None)
        )
        if args.queue:
            return ExitCode.OK
        try:
            async with asyncio.timeout(args.timeout):
                await client.start()
                ack = await client.wait_delivered(cid)
        except (ClientError, TimeoutError) as exc:
            raise _send_failure(client, cid, existed, exc, args.timeout) from None
        if args.json:
            print(output.ack_json(ack, client.state.rooms.get(ack.room)))
        return ExitCode.OK
    finally:
        await client.close()


def _send_failure(
    client: Client, cid: str, existed: bool, exc: BaseException, timeout: float
) -> Failure:
    """Explain a failed send, taking the message back out of the outbox when the
    server cannot have it (never written to a socket, or refused for good)."""
    entry = client.outbox.get(cid)
    keep = entry is not None and (existed or entry.may_be_stored)
    if entry is not None and not keep:
        client.outbox.remove(cid)
    refusal = client.refusal(cid)
    if isinstance(exc, TimeoutError):
        if refusal is not None and refusal.code == ErrorCode.RATE_LIMITED:
            code, text = ExitCode.RATE_LIMITED, "rate limited by the server"
        elif refusal is not None and refusal.code == ErrorCode.SLOW_MODE:
            after = f" (retry in {refusal.retry_after:.0f} s)" if refusal.retry_after else ""
            code, text = ExitCode.RATE_LIMITED, f"the room is in slow mode{after}"
        else:
            code, text = ExitCode.UNREACHABLE, f"no answer from the server within {timeout:g} s"
    else:
        code, text = classify(exc)
    if keep:
        return Failure(code, f"{text}; the message stays in the outbox (`tchat flush` sends it)")
    return Failure(code, f"{text}; the message was not sent")


async def flush(args: argparse.Namespace) -> int:
    profile = profile_of(args)
    outbox = Outbox(profile.outbox_path)
    pending = outbox.pending_count()
    outbox.close()
    if pending:
        profile.require_token()
        async with connected(args, profile, report=False) as client:
            left = client.outbox.pending_count()
            failed = [e for e in client.outbox.entries() if e.state == "failed"]
    else:
        outbox = Outbox(profile.outbox_path)
        left, failed = 0, [e for e in outbox.entries() if e.state == "failed"]
        outbox.close()
    sent = pending - left - sum(1 for e in failed if e.attempts == 0)
    if pending:
        warn(f"sent {max(sent, 0)} message(s)")
    if left:
        raise Failure(
            ExitCode.UNREACHABLE, f"{left} message(s) still queued; they stay in the outbox"
        )
    for entry in failed:
        warn(f"not sent to {entry.target}: {entry.error} (id {entry.client_msg_id})")
    if failed:
        first = RequestFailed(failed[0].error_code or "", failed[0].error or "")
        code, _ = classify(first)
        raise Failure(code, f"{len(failed)} message(s) could not be sent; see `tchat outbox`")
    return ExitCode.OK


async def outbox(args: argparse.Namespace) -> int:
    profile = profile_of(args)
    box = Outbox(profile.outbox_path)
    try:
        for cid in args.drop or []:
            entry = box.get(cid)
            if entry is None:
                raise Failure(ExitCode.UNKNOWN, f"no message {cid} in the outbox")
            if entry.may_be_stored:
                raise Failure(
                    ExitCode.ERROR,
                    f"message {cid} may already be on the server: it cannot be dropped",
                )
            box.remove(cid)
        if args.retry:
            warn(f"{box.retry_failed()} failed message(s) queued again")
        entries = box.entries()
    finally:
        box.close()
    if args.json:
        print(output.outbox_json(entries))
    elif entries:
        print(output.outbox_text(entries))
    return ExitCode.OK
