"""The transcript's bookkeeping: entries in display order and their line offsets.

No scrolling and no widget here: ``EntryList`` keeps the messages (confirmed ones
by seq, then pending ones in the order they were written), finds them by seq and by
``client_msg_id``, keeps a running total of line counts, and lays entries out with
a painter it is given. An entry's height is exact when it was painted at the
current width, and an estimate otherwise.

A notice (a system line with no seq) is placed half-way after the seq shown before
it, so that messages stored later, and older pages prepended, fall on the right
side of it. A stored message that changed replaces its entry in place (``replace``).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from itertools import accumulate

from textual.strip import Strip

from tchat_client.tui.model import DeliveryState, ShownMessage
from tchat_client.tui.widgets.transcript_lines import Flags, estimate_height, flags_for

__all__ = ["Entry", "EntryList", "Painter"]

Painter = Callable[[ShownMessage, Flags, int], list[Strip]]
"""Paints a message with its flags at a width."""

_AFTER_ALL = 2**63


@dataclass(slots=True, eq=False)
class Entry:
    message: ShownMessage
    day: int
    """``date.toordinal()`` of the message in the transcript's time zone."""
    height: int = 0
    width: int = 0
    """The width ``strips`` were painted at (0: never); ``height`` is exact only then."""
    strips: list[Strip] = field(default_factory=list)
    order: float = 0.0
    """A notice's place: half past the seq of the message shown before it."""

    @property
    def seq(self) -> float:
        """The seq, a notice's place, or a number after all seqs for a pending
        message: the key entries are sorted by."""
        if self.message.notice:
            return self.order
        seq = self.message.seq
        return _AFTER_ALL if seq is None else seq


class EntryList:
    """Entries in display order with ``offsets[i]``, the first line of entry ``i``
    (the last item is the total)."""

    def __init__(self, paint: Painter, day_of: Callable[[float], int]) -> None:
        self.entries: list[Entry] = []
        self.offsets: list[int] = [0]
        self.width = 0
        self.unread_seq: int | None = None
        self.selected_seq: int | None = None
        self._paint = paint
        self._day_of = day_of
        self._by_seq: dict[int, Entry] = {}
        self._by_cmid: dict[str, Entry] = {}
        self._pending = 0

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def total(self) -> int:
        return self.offsets[-1]

    @property
    def first_seq(self) -> int | None:
        return next((e.message.seq for e in self.entries if e.message.seq is not None), None)

    def by_seq(self, seq: int) -> Entry | None:
        return self._by_seq.get(seq)

    def locate(self, line: int) -> int:
        """The index of the entry holding ``line`` (clamped to the last entry)."""
        return min(bisect_right(self.offsets, line) - 1, len(self.entries) - 1)

    def by_client_id(self, client_msg_id: str) -> Entry | None:
        return self._by_cmid.get(client_msg_id)

    def index_of(self, entry: Entry) -> int:
        confirmed = len(self.entries) - self._pending
        index = bisect_left(self.entries, entry.seq, hi=confirmed, key=_seq)
        if index < confirmed and self.entries[index] is entry:
            return index
        for index in range(len(self.entries) - 1, -1, -1):
            if self.entries[index] is entry:
                return index
        raise ValueError("entry not in the transcript")

    def marker_index(self) -> int | None:
        """The entry the unread marker is drawn above, if it is loaded."""
        if self.unread_seq is None:
            return None
        confirmed = len(self.entries) - self._pending
        index = bisect_left(self.entries, float(self.unread_seq), hi=confirmed, key=_seq)
        return index if index < confirmed else None

    # ------------------------------------------------------------------ layout

    def flags(self, index: int) -> Flags:
        entry = self.entries[index]
        previous = self.entries[index - 1] if index else None
        marker, seq = self.unread_seq, entry.message.seq
        unread = (
            marker is not None
            and seq is not None
            and seq >= marker
            and (previous is None or previous.seq < marker)
        )
        return flags_for(
            previous.message if previous else None,
            previous.day if previous else 0,
            entry.message,
            entry.day,
            unread,
            seq is not None and seq == self.selected_seq,
        )

    def estimate(self, index: int) -> None:
        entry = self.entries[index]
        entry.width = 0
        entry.strips = []
        entry.height = estimate_height(entry.message, self.flags(index), self.width or 80)

    def paint(self, index: int) -> bool:
        """Paint entry ``index`` at the current width; True if its height changed."""
        entry = self.entries[index]
        if entry.width == self.width:
            return False
        entry.strips = self._paint(entry.message, self.flags(index), self.width)
        entry.width = self.width
        old, entry.height = entry.height, len(entry.strips)
        return old != entry.height

    def restyle(self, index: int) -> None:
        """Lay entry ``index`` out again: paint it if it was painted, else estimate."""
        was_painted = self.width > 0 and self.entries[index].width == self.width
        self.estimate(index)
        if was_painted:
            self.paint(index)

    def invalidate_all(self) -> None:
        for index in range(len(self.entries)):
            self.estimate(index)
        self.rebuild_offsets()

    def rebuild_offsets(self) -> None:
        self.offsets = list(accumulate((entry.height for entry in self.entries), initial=0))

    # ------------------------------------------------------------------ changes

    def add(self, message: ShownMessage) -> bool:
        """Add a message; True when that was more than appending a line count (the
        offsets then need ``rebuild_offsets``).

        A message whose seq or ``client_msg_id`` is known is ignored, except that a
        stored message replaces the pending one with its ``client_msg_id`` (and
        keeps at least a "sent" state).
        """
        if message.notice:
            return self._add_notice(message)
        if message.seq is not None and message.seq in self._by_seq:
            return False
        moved = False
        old = self._by_cmid.get(message.client_msg_id or "")
        if old is not None:
            if message.pending or not old.message.pending:
                return False  # a repeat of what is shown already
            if message.state is None and old.message.author == message.author:
                message = replace(message, state=_at_least_sent(old.message.state))
            self._remove(self.index_of(old))
            moved = True
        at = self._position(message)
        if at == len(self.entries) and not moved:
            entry = self._new_entry(message)
            self.entries.append(entry)
            self.estimate(at)
            self.offsets.append(self.offsets[-1] + entry.height)
            return False
        self.entries.insert(at, self._new_entry(message))
        self.estimate(at)
        if at + 1 < len(self.entries):
            self.restyle(at + 1)
        return True

    def _add_notice(self, message: ShownMessage) -> bool:
        """A notice goes after the stored messages shown now (before pending ones)."""
        at = len(self.entries) - self._pending
        entry = Entry(message, self._day_of(message.ts))
        entry.order = (int(self.entries[at - 1].seq) if at else 0) + 0.5
        self.entries.insert(at, entry)
        self.estimate(at)
        if at + 1 < len(self.entries):
            self.restyle(at + 1)
        return True

    def replace(self, message: ShownMessage) -> list[int]:
        """Show the stored message with ``message``'s seq as it now is (keeping its
        delivery state), and the quotes of its replies; the indexes that changed."""
        entry = self._by_seq.get(message.seq) if message.seq is not None else None
        if entry is None:
            return []
        if message.state is None and entry.message.state is not None:
            message = replace(message, state=entry.message.state)
        entry.message = message
        changed = [self.index_of(entry)]
        for index, other in enumerate(self.entries):
            quote = other.message.reply
            if quote is not None and other.message.reply_to == message.seq:
                snippet = " ".join(message.body.split())[:120]
                new = replace(quote, snippet=snippet, deleted=message.deleted)
                if new != quote:
                    other.message = replace(other.message, reply=new)
                    changed.append(index)
        return changed

    def set_state(self, client_msg_id: str, state: DeliveryState) -> int | None:
        """Change a message's state; return its index when that changed anything."""
        entry = self._by_cmid.get(client_msg_id)
        if entry is None or entry.message.state == state:
            return None
        entry.message = replace(entry.message, state=state)
        return self.index_of(entry)

    def drop_oldest(self, count: int) -> int:
        """Forget the ``count`` oldest entries (never a pending one) to bound memory;
        how many went. Their strips go with them; a selection among them is
        dropped, and so is an unread marker drawn above one of them (the user read
        on past it). ``rebuild_offsets`` must follow."""
        count = min(count, len(self.entries) - self._pending)
        if count <= 0:
            return 0
        marker = self.marker_index()
        if marker is not None and marker < count:
            self.unread_seq = None
        dropped = self.entries[:count]
        del self.entries[:count]
        for entry in dropped:
            if entry.message.seq is not None:
                self._by_seq.pop(entry.message.seq, None)
            if entry.message.client_msg_id:
                self._by_cmid.pop(entry.message.client_msg_id, None)
            entry.strips = []  # in case something still holds the entry
        if self.selected_seq is not None and self.selected_seq not in self._by_seq:
            self.selected_seq = None
        if self.entries:
            self.restyle(0)  # now first: its day line and author header come back
        return count

    def clear(self) -> None:
        self.entries.clear()
        self.offsets = [0]
        self._by_seq.clear()
        self._by_cmid.clear()
        self._pending = 0

    def _new_entry(self, message: ShownMessage) -> Entry:
        entry = Entry(message, self._day_of(message.ts))
        if message.seq is not None:
            self._by_seq[message.seq] = entry
        else:
            self._pending += 1
        if message.client_msg_id:
            self._by_cmid[message.client_msg_id] = entry
        return entry

    def _position(self, message: ShownMessage) -> int:
        if message.seq is None:
            return len(self.entries)
        confirmed = len(self.entries) - self._pending
        if not confirmed or self.entries[confirmed - 1].seq < message.seq:
            return confirmed
        return bisect_left(self.entries, float(message.seq), hi=confirmed, key=_seq)

    def _remove(self, index: int) -> None:
        entry = self.entries.pop(index)
        if entry.message.pending:
            self._pending -= 1
        elif entry.message.seq is not None:
            self._by_seq.pop(entry.message.seq, None)
        if entry.message.client_msg_id:
            self._by_cmid.pop(entry.message.client_msg_id, None)
        if index < len(self.entries):
            self.restyle(index)


def _seq(entry: Entry) -> float:
    return entry.seq


def _at_least_sent(state: DeliveryState | None) -> DeliveryState:
    return "sent" if state in (None, "queued") else state
