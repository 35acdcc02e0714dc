"""The transcript of a room: a Line API ``ScrollView`` that scales to any history.

Messages live in an ``EntryList``: per message its rendered ``Strip``s for one width
and its height, plus a running total of heights, so ``render_line(y)`` finds the
message and the line in it by bisection. Messages never shown at the current width
carry an *estimated* height: 10,000 messages are laid out without painting 10,000
messages. Before each paint, ``_settle`` paints what is in view (and one screen
above it) for real and, where that changed heights, moves the scroll offset so that
what was already on screen stays on the same rows. Prepending older history and
re-wrapping after a resize keep the view in place the same way.

At the bottom, the transcript follows new messages; scrolled up, it stays put.
Short transcripts sit at the bottom, next to where the composer will be.

Memory stays bounded however long a room stays open: while the view follows,
past ``MAX_SHOWN`` entries the oldest go in one batch (down to ``TRIM_TO``), and
scrolling to the top pages them in again (``NeedsOlder``). Scrolled up, nothing
goes until the view is back at the bottom.

With the focus, the transcript lets the user pick a message (up/down, highlighted)
and asks for an action on it (``Acted``: reply, edit, react...); the screen decides
what the action does.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import date, datetime, tzinfo
from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tchat_client.tui.model import DeliveryState, ShownMessage
from tchat_client.tui.widgets.transcript_entries import Entry, EntryList
from tchat_client.tui.widgets.transcript_lines import (
    COMPONENTS,
    Flags,
    Look,
    build_look,
    day_label,
    render_entry,
)
from tchat_client.tui.widgets.transcript_select import SelectionMixin

__all__ = ["Transcript"]

_Anchor = tuple[Entry, int, int]
"""An entry on screen, its row (negative: it starts above the view), its height."""


class Transcript(SelectionMixin, ScrollView, can_focus=True):
    """A room's messages, oldest at the top, pending ones of the user's last."""

    DEFAULT_CSS = """
    Transcript {
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-size-vertical: 1;
        scrollbar-gutter: stable;
        padding: 0 0 0 1;
        & > .transcript--time { color: $text-muted; }
        & > .transcript--author { text-style: bold; }
        & > .transcript--day { color: $text-muted; }
        & > .transcript--unread { color: $text-error; }
        & > .transcript--mention-line { background: $warning 10%; }
        & > .transcript--state-queued { color: $text-muted; }
        & > .transcript--state-sent { color: $text-muted; }
        & > .transcript--state-delivered { color: $text-muted; }
        & > .transcript--state-read { color: $text-primary; }
        & > .transcript--state-failed { color: $text-error; text-style: bold; }
        & > .transcript--code { color: $text-accent; background: $boost; }
        & > .transcript--code-block { background: $background; }
        & > .transcript--link { color: $text-primary; text-style: underline; }
        & > .transcript--url { color: $text-muted; }
        & > .transcript--mention { color: $text-accent; text-style: bold; }
        & > .transcript--mention-me {
            color: $text-warning; background: $warning 20%; text-style: bold;
        }
        & > .transcript--quote { text-style: italic; }
        & > .transcript--quote-bar { color: $text-muted; }
        & > .transcript--marker { color: $text-muted; }
        & > .transcript--selected { background: $primary 22%; }
        & > .transcript--dim { color: $text-muted; }
        & > .transcript--tombstone { color: $text-muted; text-style: italic; }
        & > .transcript--chip { background: $panel-lighten-1; color: $foreground; }
        & > .transcript--chip-mine {
            background: $primary 45%; color: $foreground; text-style: bold;
        }
        & > .transcript--file { color: $text-accent; text-style: bold; }
        & > .transcript--thread { color: $text-primary; text-style: bold; }
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = set(COMPONENTS)

    MAX_SHOWN: ClassVar[int] = 3000
    """Most entries held while following new messages (a screen's worth is painted)."""
    TRIM_TO: ClassVar[int] = 2500
    """What a trim keeps: trimming in batches, not on every append."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "up",
            "select(-1)",
            "Pick a message (↑ in an empty composer)",
            show=False,
            id="transcript.up",
        ),
        Binding("down", "select(1)", "Pick the next message", show=False, id="transcript.down"),
        Binding(
            "escape", "leave", "Stop picking: back to writing", show=False, id="transcript.leave"
        ),
        Binding("r", "act('reply')", "Reply", id="transcript.reply"),
        Binding("t,enter", "act('thread')", "Thread", id="transcript.thread"),
        Binding("a,plus", "act('react')", "React", id="transcript.react"),
        Binding("e", "act('edit')", "Edit", id="transcript.edit"),
        Binding("d,delete", "act('delete')", "Delete", id="transcript.delete"),
        Binding("u", "act('unread')", "Mark unread from here", show=False, id="transcript.unread"),
        Binding("o", "act('open')", "Download file", show=False, id="transcript.open"),
    ]

    class NeedsOlder(Message):
        """The top of the transcript is in view and older history may exist: page
        in messages before ``before_seq`` and ``prepend`` them."""

        def __init__(self, transcript: Transcript, before_seq: int | None) -> None:
            super().__init__()
            self.transcript = transcript
            self.before_seq = before_seq

        @property
        def control(self) -> Transcript:
            return self.transcript

    def __init__(
        self,
        *,
        me: str | None = None,
        now: Callable[[], float] = time.time,
        tz: tzinfo | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """Args:
        me: The current user: own messages get a delivery glyph, mentions stand out.
        now: The clock (epoch seconds) that decides what "Today" is.
        tz: The time zone for times and days (``None``: the local one).
        """
        super().__init__(name=name, id=id, classes=classes)
        self._me = me
        self._stick = True
        """Whether the view follows new messages (it was at the bottom)."""
        self._now = now
        self._tz = tz
        self._rows = EntryList(self._paint, self._day_of)
        self._today = 0
        self._look: Look | None = None
        self._older_requested = False
        self._stale_below: int | None = None
        """A trim while older history was asked for: the page that answers it ends
        below this seq, and would leave a gap above it."""
        self._dropped = False
        """Entries were dropped since the last ``prepend``: older history exists,
        whatever ``has_older`` was set to before the drop."""
        self.has_older = True
        """Whether history older than the first message may exist (``NeedsOlder``)."""

    # ------------------------------------------------------------------ public API

    @property
    def me(self) -> str | None:
        return self._me

    @me.setter
    def me(self, name: str | None) -> None:
        self._me = name
        self._relayout_all()

    @property
    def messages(self) -> list[ShownMessage]:
        """The messages shown, oldest first, pending ones last."""
        return [entry.message for entry in self._rows.entries]

    @property
    def unread_seq(self) -> int | None:
        return self._rows.unread_seq

    def append(self, message: ShownMessage) -> None:
        """Add a message: a new one, a pending one of the user's (no seq), or the
        stored version of a pending one (same ``client_msg_id``), which replaces it
        and keeps at least a "sent" state. Known seqs are ignored."""
        self.extend((message,))

    def extend(self, messages: Iterable[ShownMessage]) -> None:
        """Add many messages at once (in any order); the fast way to load a page.
        While following, past ``MAX_SHOWN`` entries the oldest go."""
        self._add(messages, bound=True)

    def _add(self, messages: Iterable[ShownMessage], *, bound: bool) -> None:
        following = self._following()
        anchor = self._view_anchor()
        moved = False
        for message in messages:
            moved |= self._rows.add(message)
        if bound and following:
            moved |= self._drop_oldest()
        if moved:
            self._restore(following, anchor)
        else:
            self.virtual_size = Size(self._rows.width, self._rows.total)
            if following:
                self._scroll_quietly(self.max_scroll_y)
            self.refresh()
        # Paint now what will show, so that the coming frame is the only one.
        self._settle()

    def prepend(self, messages: Iterable[ShownMessage], *, more: bool = True) -> None:
        """Add older history above what is shown, keeping the view where it is.

        Args:
            messages: Messages older than the first one shown, in any order.
            more: Whether even older ones may exist.
        """
        stale, self._stale_below = self._stale_below, None
        if stale is not None:
            # The answer to a request made before a trim: what it brings lies below
            # what the trim dropped, and would leave a gap. Keep only what joins on.
            given = list(messages)
            messages = [m for m in given if m.seq is None or m.seq >= stale]
            more = more or len(messages) < len(given)
        self.has_older = more
        self._older_requested = self._dropped = False
        self._add(messages, bound=False)

    def set_state(self, client_msg_id: str, state: DeliveryState) -> None:
        """Change the delivery glyph of one of the user's own messages."""
        index = self._rows.set_state(client_msg_id, state)
        if index is not None:
            self._relayout([index])

    def set_unread_marker(self, seq: int | None) -> None:
        """Draw the "new" line above the first message with ``seq`` or later (which
        may arrive later), or remove it (``None``)."""
        old = self._rows.marker_index()
        self._rows.unread_seq = seq
        new = self._rows.marker_index()
        self._relayout([index for index in {old, new} if index is not None])

    def jump_to_unread(self) -> bool:
        """Scroll the unread marker near the top; False when it is not loaded."""
        index = self._rows.marker_index()
        if index is None or not self._rows.width:
            return False
        for near in range(max(index - 3, 0), min(index + 2, len(self._rows))):
            self._rows.paint(near)
        self._rows.rebuild_offsets()
        self.virtual_size = Size(self._rows.width, self._rows.total)
        y = max(self._rows.offsets[index] - 1, 0)
        self.scroll_to(y=y, animate=False, immediate=True, force=True)
        return True

    def scroll_to_seq(self, seq: int) -> bool:
        """Scroll the message with ``seq`` near the top (a search result, a link);
        False when it is not loaded."""
        entries = self._rows.entries
        index = next((i for i, e in enumerate(entries) if e.message.seq == seq), None)
        if index is None or not self._rows.width:
            return False
        for near in range(max(index - 3, 0), min(index + 3, len(self._rows))):
            self._rows.paint(near)
        self._rows.rebuild_offsets()
        self.virtual_size = Size(self._rows.width, self._rows.total)
        y = max(self._rows.offsets[index] - 2, 0)
        self.scroll_to(y=y, animate=False, immediate=True, force=True)
        return True

    def replace(self, message: ShownMessage) -> bool:
        """Show a stored message as it now is (edited, deleted, reacted to, replied
        to), and the quotes of its replies, keeping the view where it is. False when
        its seq is not shown."""
        changed = self._rows.replace(message)
        if changed:
            self._relayout(changed)
        return bool(changed)

    def add_notice(self, text: str, ts: float) -> None:
        """A dim system line after the messages shown now (a moderation notice)."""
        self.append(ShownMessage.make_notice(0, text, ts))

    def clear(self) -> None:
        """Forget every message, the selection, the unread marker and ``has_older``."""
        self._rows.clear()
        self._rows.unread_seq = None
        self._rows.selected_seq = None
        self._older_requested = False
        self._stale_below = None
        self._dropped = False
        self.has_older = True
        self.virtual_size = Size(self._rows.width, 0)
        self.refresh()

    # ------------------------------------------------------------------ Line API

    def notify_style_update(self) -> None:
        super().notify_style_update()
        if self._look is not None and self.is_mounted:
            look = self._build_look()
            if look != self._look:  # a new theme, not just :hover or :focus
                self._look = look
                self._relayout_all()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if new_value == self.scroll_target_y:
            self._stick = new_value >= self.max_scroll_y
            self.refresh()  # a scroll ended: the next paint extends the margin
            if self._stick and len(self._rows) > self.MAX_SHOWN:
                self.call_later(self._trim)  # back at the bottom: trim what grew

    def render_lines(self, crop: Region) -> list[Strip]:
        self._settle()
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        rows = self._rows
        region = self.scrollable_content_region
        gravity = max(region.height - rows.total, 0)
        line = self.scroll_offset.y + y - gravity
        if not 0 <= line < rows.total:
            return Strip.blank(region.width, self.rich_style)
        index = rows.locate(line)
        rows.paint(index)  # already done by _settle, unless the view moved since
        strips = rows.entries[index].strips
        row = line - rows.offsets[index]
        return strips[row] if row < len(strips) else Strip.blank(region.width, self.rich_style)

    # ------------------------------------------------------------------ layout

    def _settle(self) -> None:
        """Paint what is in view (and a screen above) and keep it on its rows."""
        rows = self._rows
        region = self.scrollable_content_region
        width, height = region.width, region.height
        if width <= 0 or height <= 0:
            return
        today = self._day_of(self._now())
        if width != rows.width or today != self._today:
            following, anchor = self._following(), self._view_anchor()
            rows.width, self._today = width, today
            rows.invalidate_all()
            self._restore(following, anchor, keep="top")
        if not rows.entries:
            return
        following = self._following()
        top = self.scroll_offset.y
        if following:
            index, row = len(rows), height
        else:
            # Anchor on the first entry in view that is painted already.
            index = rows.locate(top)
            for candidate in range(index, len(rows)):
                if rows.offsets[candidate] >= top + height:
                    break
                if rows.entries[candidate].width == width:
                    index = candidate
                    break
            row = rows.offsets[index] - top
        changed = False
        below, lines = index, row
        while below < len(rows) and lines < height:
            changed |= rows.paint(below)
            lines += rows.entries[below].height
            below += 1
        # One screen above the view too, so that scrolling up finds it painted; but
        # not while a scroll animates: the animation would undo the scroll offset
        # correction that painting above the view needs.
        animating = self.app.animator.is_being_animated(self, "scroll_y")
        margin = 0 if animating else height
        above, lines = index - 1, row
        while above >= 0 and lines > -margin:
            changed |= rows.paint(above)
            lines -= rows.entries[above].height
            above -= 1
        if changed:
            rows.rebuild_offsets()
            self.virtual_size = Size(width, rows.total)
            if following:
                self._scroll_quietly(self.max_scroll_y)
            elif not animating:
                last_line = rows.offsets[index] + rows.entries[index].height - 1
                self._scroll_quietly(min(rows.offsets[index] - row, last_line))
        self._maybe_need_older()

    def _drop_oldest(self) -> bool:
        """Past ``MAX_SHOWN`` entries, drop the oldest down to ``TRIM_TO``; True
        when some went (the offsets then need rebuilding). The caller follows."""
        rows = self._rows
        if len(rows) <= self.MAX_SHOWN:
            return False
        first = rows.first_seq
        if not rows.drop_oldest(len(rows) - self.TRIM_TO):
            return False
        if self._older_requested and self._stale_below is None:
            self._stale_below = first
        self._older_requested = False  # the next top is a new one: ask for it
        self._dropped = True
        return True

    def _trim(self) -> None:
        """Back at the bottom after reading history: drop what grew meanwhile."""
        if self._following() and self._drop_oldest():
            self._restore(True, None)
            self._settle()

    def rearm_older(self) -> None:
        """The screen finished (or gave up) loading older messages: ask again if the
        top is still in view, so paging never stalls on a request it ignored."""
        self._older_requested = False
        self._maybe_need_older()

    def _maybe_need_older(self) -> None:
        more = self.has_older or self._dropped
        if self.scroll_offset.y > 0 or not more or self._older_requested:
            return
        if self._rows.entries:
            self._older_requested = True
            # Not from here: a message made while the screen paints counts as sent by
            # the screen, and would stop bubbling there.
            self.call_later(self._post_needs_older)

    def _post_needs_older(self) -> None:
        self.post_message(self.NeedsOlder(self, self._rows.first_seq))

    def _relayout(self, indexes: list[int]) -> None:
        """Lay out entries whose look changed again, keeping the view in place."""
        following = self._following()
        anchor = self._view_anchor()
        for index in indexes:
            self._rows.restyle(index)
        self._restore(following, anchor)

    def _relayout_all(self) -> None:
        following = self._following()
        anchor = self._view_anchor()
        self._rows.invalidate_all()
        self._restore(following, anchor, keep="top")

    def _paint(self, message: ShownMessage, flags: Flags, width: int) -> list[Strip]:
        when = datetime.fromtimestamp(message.ts, self._tz)
        return render_entry(
            message,
            flags,
            width=width,
            day_text=day_label(when.date(), date.fromordinal(self._today or when.toordinal())),
            time_text=f"{when:%H:%M}",
            me=self._me,
            look=self._get_look(),
            console=self.app.console,
        )

    def _day_of(self, ts: float) -> int:
        return datetime.fromtimestamp(ts, self._tz).toordinal()

    # ------------------------------------------------------------------ scrolling

    def _following(self) -> bool:
        """At the bottom, or was when the last scroll ended: a resize (a banner or
        the typing line appearing) must not unstick a view that follows."""
        return self._stick or self.is_vertical_scroll_end

    def _view_anchor(self) -> _Anchor | None:
        """The entry at the top of the view."""
        if not self._rows.entries:
            return None
        top = self.scroll_offset.y
        index = self._rows.locate(top)
        entry = self._rows.entries[index]
        return entry, self._rows.offsets[index] - top, entry.height

    def _restore(self, following: bool, anchor: _Anchor | None, keep: str = "bottom") -> None:
        """After entries changed: recount lines and scroll so that the anchor entry
        stays on the same rows, by its last line (lines drawn above a message come
        and go) or, after a re-wrap, by its first."""
        rows = self._rows
        rows.rebuild_offsets()
        self.virtual_size = Size(rows.width, rows.total)
        if following:
            self._scroll_quietly(self.max_scroll_y)
        elif anchor is not None:
            entry, row, height = anchor
            try:
                index = rows.index_of(entry)
            except ValueError:
                pass
            else:
                grown = entry.height - height if keep == "bottom" else 0
                self._scroll_quietly(rows.offsets[index] - row + grown)
        self.refresh()

    def on_click(self, event: events.Click) -> None:
        """A click picks the message under the pointer (keys then act on it)."""
        self.select_at(event.y)

    def on_resize(self) -> None:
        """Keep a following view at the bottom when the widget's height changes."""
        if self._stick:
            self.call_after_refresh(self._stay_at_end)

    def _stay_at_end(self) -> None:
        if self._stick:
            self._scroll_quietly(self.max_scroll_y)
            self.refresh()

    def _scroll_quietly(self, y: int) -> None:
        """Move the view without it counting as the user scrolling."""
        y = max(0, min(y, self.max_scroll_y))
        self.scroll_target_y = y
        self.scroll_y = y

    # ------------------------------------------------------------------ theme

    def _get_look(self) -> Look:
        if self._look is None:
            self._look = self._build_look()
        return self._look

    def _build_look(self) -> Look:
        theme = self.app.current_theme
        return build_look(
            lambda name, partial: self.get_component_rich_style(name, partial=partial),
            base=self.rich_style,
            dark=theme.dark if theme is not None else True,
        )
