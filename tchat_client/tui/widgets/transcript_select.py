"""Picking a message in the transcript: the selection, moving it, and asking for an
action on it.

A mixin of ``Transcript`` (which declares the keys in its ``BINDINGS``): the
selected message is drawn highlighted (``Flags.selected``) and stays selected by
its seq while messages come and go. The transcript never acts itself: it posts
``Acted`` and ``Left`` and the screen routes them (``tui/message_actions.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.geometry import Size
from textual.message import Message

from tchat_client.tui.model import ShownMessage

if TYPE_CHECKING:
    from textual.scroll_view import ScrollView

    from tchat_client.tui.widgets.transcript_entries import EntryList

    _Base = ScrollView
else:
    _Base = object

__all__ = ["ACTIONS", "Acted", "Left", "SelectionMixin"]

ACTIONS = ("reply", "thread", "react", "edit", "delete", "unread", "open")


class Acted(Message, namespace="transcript"):
    """The user asked for ``action`` (one of ``ACTIONS``) on ``message``."""

    def __init__(self, transcript: SelectionMixin, action: str, message: ShownMessage) -> None:
        super().__init__()
        self.transcript = transcript
        self.action = action
        self.message = message


class Left(Message, namespace="transcript"):
    """The user left message selection (Escape, or down past the newest)."""

    def __init__(self, transcript: SelectionMixin) -> None:
        super().__init__()
        self.transcript = transcript


class SelectionMixin(_Base):
    """Selection for a Line API transcript that keeps its entries in ``_rows``."""

    Acted = Acted
    Left = Left

    if TYPE_CHECKING:
        _rows: EntryList

        def _relayout(self, indexes: list[int]) -> None: ...

    @property
    def selected(self) -> ShownMessage | None:
        """The message the user picked, as it now is (None: none)."""
        seq = self._rows.selected_seq
        entry = self._rows.by_seq(seq) if seq is not None else None
        return entry.message if entry is not None else None

    def select(self, seq: int | None) -> None:
        """Highlight the message with ``seq`` and scroll it into view (None: none)."""
        rows = self._rows
        old = rows.selected_seq
        new = seq if seq is not None and rows.by_seq(seq) is not None else None
        rows.selected_seq = new
        entries = [rows.by_seq(s) for s in {old, new} if s is not None]
        changed = [rows.index_of(entry) for entry in entries if entry is not None]
        if changed:
            self._relayout(changed)
        entry = rows.by_seq(new) if new is not None else None
        if entry is not None:
            self._reveal(rows.index_of(entry))

    def action_select(self, step: int) -> None:
        """Move the selection to the previous (-1) or next (1) message; from none,
        pick the newest; past the newest, leave."""
        seqs = [e.message.seq for e in self._rows.entries if e.message.actionable]
        if not seqs:
            return
        current = self._rows.selected_seq
        if current not in seqs:
            self.select(seqs[-1])
            return
        index = seqs.index(current) + step
        if index >= len(seqs):
            self.action_leave()
        else:
            self.select(seqs[max(index, 0)])

    def action_leave(self) -> None:
        self.select(None)
        self.post_message(Left(self))

    def action_act(self, action: str) -> None:
        message = self.selected
        if message is None:
            self.app.bell()
            return
        self.post_message(Acted(self, action, message))

    def select_at(self, y: int) -> None:
        """Select the message drawn on row ``y`` of the view (a click)."""
        rows = self._rows
        if not rows.entries:
            return
        gravity = max(self.scrollable_content_region.height - rows.total, 0)
        line = self.scroll_offset.y + y - gravity
        if 0 <= line < rows.total:
            message = rows.entries[rows.locate(line)].message
            if message.actionable:
                self.select(message.seq)

    def _reveal(self, index: int) -> None:
        """Scroll so that entry ``index`` is in view, moving as little as can be."""
        rows = self._rows
        if not rows.width:
            return
        rows.paint(index)
        rows.rebuild_offsets()
        self.virtual_size = Size(rows.width, rows.total)
        height = self.scrollable_content_region.height
        top = rows.offsets[index]
        bottom = top + rows.entries[index].height
        y = self.scroll_offset.y
        if top < y:
            self.scroll_to(y=top, animate=False, immediate=True, force=True)
        elif bottom > y + height:
            target = min(top, bottom - height)
            self.scroll_to(y=target, animate=False, immediate=True, force=True)
