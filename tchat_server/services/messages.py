"""Posting, history and resume: the rules of messages.

Sends go through a group committer: every send queued while a commit is running is
stored by the next commit, in submission order. The committer publishes each new
message to the room *before* resolving the sender's future, so members see
messages in seq order and an ack is only ever sent after the commit. A reply is
stored by the same commit as its parent's new reply count.

Every message handed out (history, thread, resume, search) is read as it is now;
changes to stored messages are ``services/changes.py``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from shared.errors import ErrorCode, ProtocolError
from shared.frames import MessageInfo, ResumeInfo
from shared.shapes import FileInfo, Reaction, ReplyRef
from tchat_server.hub import Hub
from tchat_server.services.permissions import Permissions
from tchat_server.storage.db import StorageUnavailable
from tchat_server.storage.messages import MessageRow, MessageStore, NewMessage
from tchat_server.storage.users import UserStore

__all__ = ["AttachCheck", "GroupCommitter", "MessageService", "Resume", "Thread", "to_info"]

log = logging.getLogger("tchat.server")

_MENTION = re.compile(r"(?<![\w@])@([\w.\-]{2,32})")
_HERE = "here"
_EVERYONE = frozenset({"room", "channel", "everyone"})

AttachCheck = Callable[[int, int, int], Awaitable[None]]
"""(file_id, room_id, user_id): raise ``ProtocolError`` unless the user may post
that file in that room (set by the files feature)."""


def to_info(row: MessageRow) -> MessageInfo:
    """The wire form of a message as the row holds it (its current state)."""
    if row.change == 0 and row.reply is None and row.file is None:
        # A plain message that never changed: the hot path of every send's fan-out.
        return MessageInfo(
            room=row.room_id,
            seq=row.seq,
            id=row.id,
            author=row.author,
            body=row.body,
            ts=row.created_at,
            client_msg_id=row.client_msg_id,
        )
    reply = row.reply
    file = row.file
    return MessageInfo(
        room=row.room_id,
        seq=row.seq,
        id=row.id,
        author=row.author,
        body=row.body,
        ts=row.created_at,
        client_msg_id=row.client_msg_id,
        edited=row.edited_at,
        deleted=row.deleted,
        reply_to=row.reply_to,
        reply=(
            ReplyRef(
                seq=reply.seq, author=reply.author, snippet=reply.snippet, deleted=reply.deleted
            )
            if reply is not None
            else None
        ),
        reply_count=row.reply_count,
        reactions=[Reaction(emoji=emoji, users=list(users)) for emoji, users in row.reactions],
        file=(
            FileInfo(id=file.id, name=file.name, size=file.size, mime=file.mime, sha256=file.sha256)
            if file is not None
            else None
        ),
        change=row.change,
    )


@dataclass(frozen=True, slots=True)
class Resume:
    """What a resume replays: messages in (room, seq) order and a summary per room."""

    messages: list[MessageRow]
    rooms: list[ResumeInfo]


@dataclass(frozen=True, slots=True)
class Thread:
    """A message and a page of its replies (ascending seq)."""

    parent: MessageRow
    replies: list[MessageRow]
    more: bool


_Pending = tuple[NewMessage, "asyncio.Future[MessageRow]"]


class GroupCommitter:
    """Stores queued sends in batches, one transaction per batch (group commit)."""

    def __init__(
        self,
        store: MessageStore,
        on_stored: Callable[[list[MessageRow]], None],
        max_batch: int = 512,
    ) -> None:
        self._store = store
        self._on_stored = on_stored
        self._max_batch = max_batch
        self._pending: list[_Pending] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.on_commit: Callable[[float, int], None] | None = None
        """Told each stored batch's commit time in seconds and size (for metrics)."""

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="group-commit")

    async def stop(self) -> None:
        """Commit everything queued (never cancelling a commit half-way), then stop;
        sends submitted from now on fail with ``StorageUnavailable``."""
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        await asyncio.wait([self._task])
        for _, future in self._pending:
            if not future.done():
                future.set_exception(StorageUnavailable("server is shutting down"))
        self._pending.clear()

    def submit(self, item: NewMessage) -> asyncio.Future[MessageRow]:
        """Queue a send; the future resolves after its commit (or fails with
        ``StorageUnavailable``). Order of submission is order of seqs."""
        future: asyncio.Future[MessageRow] = asyncio.get_running_loop().create_future()
        if self._stopping:
            future.set_exception(StorageUnavailable("server is shutting down"))
            return future
        self._pending.append((item, future))
        self._wake.set()
        return future

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                await self._commit(batch)
            if self._stopping:
                return

    async def _commit(self, batch: list[_Pending]) -> None:
        started = time.perf_counter()
        try:
            rows = await self._store.add_batch([item for item, _ in batch])
        except StorageUnavailable as exc:
            # The senders hear `unavailable`; the operator needs the cause (disk full...).
            log.warning(
                "could not store %d message(s): %s",
                len(batch),
                exc,
                extra={"event": "unavailable", "messages": len(batch)},
            )
            for _, future in batch:
                if not future.done():
                    future.set_exception(StorageUnavailable(str(exc)))
            return
        except Exception as exc:  # never leave a sender waiting forever
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        if self.on_commit is not None:
            self.on_commit(time.perf_counter() - started, len(batch))
        self._on_stored([row for row in rows if not row.duplicate])
        for (_, future), row in zip(batch, rows, strict=True):
            if not future.done():
                future.set_result(row)


class MessageService:
    def __init__(
        self,
        store: MessageStore,
        users: UserStore,
        hub: Hub,
        *,
        max_body: int,
        resume_cap: int,
        history_page: int,
        publish_stored: Callable[[list[MessageRow]], None],
        permissions: Permissions | None = None,
    ) -> None:
        self._store = store
        self._users = users
        self._hub = hub
        self._max_body = max_body
        self._resume_cap = resume_cap
        self._history_page = history_page
        self.committer = GroupCommitter(store, publish_stored)
        self.permissions = permissions or Permissions()
        self.attach_check: AttachCheck | None = None
        """Checks a send's ``file``; None: files are off and such a send is refused."""

    def check_body(
        self, body: str, client_msg_id: str | None = None, *, allow_empty: bool = False
    ) -> str:
        """The body as stored: trailing whitespace trimmed, length within the limit
        (``allow_empty``: a message carrying a file needs no text)."""
        text = body.rstrip()
        if not text.strip() and not allow_empty:
            raise ProtocolError(
                ErrorCode.EMPTY_BODY, "a message needs some text", client_msg_id=client_msg_id
            )
        if len(text) > self._max_body:
            raise ProtocolError(
                ErrorCode.BODY_TOO_LONG,
                f"a message has at most {self._max_body} characters (this one has {len(text)})",
                client_msg_id=client_msg_id,
            )
        return text

    async def post(
        self,
        room_id: int,
        author_id: int,
        author_name: str,
        client_msg_id: str,
        body: str,
        *,
        reply_to: int | None = None,
        file_id: int | None = None,
    ) -> asyncio.Future[MessageRow]:
        """Queue a message for storage; the caller awaits the future for the ack.

        ``reply_to`` names a message of the room (a reply to a reply answers the same
        parent); ``file_id`` an uploaded file to show as the message's card.

        Raises:
            ProtocolError: not_member, empty_body, body_too_long, message_not_found
                (reply_to), file_not_found, and the room's rules (muted, slow_mode...).
        """
        if not self._hub.is_member(room_id, author_id):
            raise ProtocolError(
                ErrorCode.NOT_MEMBER,
                "you are not a member of that room",
                client_msg_id=client_msg_id,
            )
        text = self.check_body(body, client_msg_id, allow_empty=file_id is not None)
        self.permissions.check_post(room_id, author_id, send=True)
        parent = None
        if reply_to is not None:
            parent = await self._store.reply_target(room_id, reply_to)
            # A repeat of a reply stored before its parent was deleted still gets
            # its duplicate ack (the store answers it; nothing is stored again).
            if parent is None and not await self._store.is_stored(author_id, client_msg_id):
                raise ProtocolError(
                    ErrorCode.MESSAGE_NOT_FOUND,
                    "no such message to reply to in that room",
                    client_msg_id=client_msg_id,
                )
        if file_id is not None:
            if self.attach_check is None:
                raise ProtocolError(
                    ErrorCode.FILE_NOT_FOUND, "no such file", client_msg_id=client_msg_id
                )
            await self.attach_check(file_id, room_id, author_id)
        mentions, everyone = await self._mentions(room_id, author_id, text)
        self.permissions.posted(room_id, author_id, time.time())
        item = NewMessage(
            room_id,
            author_id,
            client_msg_id,
            text,
            author_name,
            mentions,
            reply_to=parent,
            file_id=file_id,
            mention_all=everyone,
        )
        return self.committer.submit(item)

    async def _mentions(
        self, room_id: int, author_id: int, body: str
    ) -> tuple[tuple[int, ...], bool]:
        """The users named with ``@`` (``@here``: the members online now), and whether
        ``@room`` (``@channel``, ``@everyone``) names every member. The store keeps
        those who are members when the message commits (the hub does not know
        members who never connected)."""
        # Most bodies name nobody: skip the regex (a lookbehind at every character).
        names = set(_MENTION.findall(body)) if "@" in body else set()
        if not names:
            return (), False
        wanted = [name.rstrip(".-") for name in list(names)[:50]]
        keys = {name.casefold() for name in wanted}
        if keys & _EVERYONE:
            return (), True
        ids: set[int] = set()
        if _HERE in keys:
            ids.update(uid for uid in self._hub.members(room_id) if self._hub.is_online(uid))
        people = [name for name in wanted if name.casefold() != _HERE]
        if people:
            found = await self._users.ids_by_names(people)  # one query for all of them
            ids.update(found[name.casefold()] for name in people if name.casefold() in found)
        ids.discard(author_id)
        return tuple(sorted(ids)), False

    async def history(
        self, room_id: int, user_id: int, before: int | None, after: int | None, limit: int
    ) -> tuple[list[MessageRow], bool]:
        if not self._hub.is_member(room_id, user_id):
            raise ProtocolError(ErrorCode.NOT_MEMBER, "you are not a member of that room")
        return await self._store.page(
            room_id, before=before, after=after, limit=min(limit, self._history_page)
        )

    async def thread(
        self, room_id: int, user_id: int, seq: int, after: int | None, limit: int
    ) -> Thread:
        """A message and a page of its replies; asked of a reply, the thread it is in.

        Raises:
            ProtocolError: not_member, message_not_found.
        """
        if not self._hub.is_member(room_id, user_id):
            raise ProtocolError(ErrorCode.NOT_MEMBER, "you are not a member of that room")
        parent = await self._store.get(room_id, seq)
        if parent is not None and parent.reply_to is not None:
            parent = await self._store.get(room_id, parent.reply_to)
        if parent is None:
            raise ProtocolError(ErrorCode.MESSAGE_NOT_FOUND, "no such message in that room")
        replies, more = await self._store.replies(room_id, parent.seq, after, limit)
        return Thread(parent, replies, more)

    async def current(self, rows: list[MessageRow]) -> list[MessageRow]:
        """The same messages as they are now (search reads only the basic columns)."""
        return await self._store.current(rows)

    async def resume_changes(
        self, user_id: int, cursors: dict[int, int], held: dict[int, int]
    ) -> dict[int, list[MessageRow] | None]:
        """Per listed room the user is in: the messages up to ``held[room]`` (the seq
        the client holds) changed after its cursor, in change order; None when more
        than the resume cap changed (the client refetches what it holds)."""
        found: dict[int, list[MessageRow] | None] = {}
        for room_id, cursor in sorted(cursors.items()):
            if not self._hub.is_member(room_id, user_id) or room_id not in held:
                continue
            found[room_id] = await self._store.changed_since(
                room_id, cursor, held[room_id], self._resume_cap
            )
        return found

    async def resume(
        self, user_id: int, last_seqs: dict[int, int], latest: dict[int, int]
    ) -> Resume:
        """Messages after each room's last seq, up to the cap per room; rooms the user
        is no longer in, or that the client does not know, are skipped."""
        messages: list[MessageRow] = []
        infos: list[ResumeInfo] = []
        for room_id, last in sorted(last_seqs.items()):
            if not self._hub.is_member(room_id, user_id) or room_id not in latest:
                continue
            newest = latest[room_id]
            missing = max(0, newest - last)
            if missing > self._resume_cap:
                infos.append(ResumeInfo(room_id, last, newest, truncated=True))
                continue
            replayed = 0
            cursor = last
            while cursor < newest:
                page, _ = await self._store.page(room_id, after=cursor, limit=200)
                if not page:
                    break
                messages.extend(page)
                replayed += len(page)
                cursor = page[-1].seq
            infos.append(
                ResumeInfo(room_id, last, cursor if replayed else max(last, newest), replayed)
            )
        return Resume(messages, infos)
