"""The main screen: rooms on the left, the conversation in the middle, people on the
right. It routes the client core's change events to the widgets that show them and
turns what the user does into client calls; it renders nothing itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static

from tchat_client.core import Client, ClientError
from tchat_client.core import events as ev
from tchat_client.core.models import Member, Message, Room
from tchat_client.sanitize import visible, visible_line
from tchat_client.tui import alerts
from tchat_client.tui.catch_up import AwaySummary, CatchUp
from tchat_client.tui.directory import completion_names
from tchat_client.tui.message_actions import MessageActions, MessageKeys, store_delivered
from tchat_client.tui.model import ShownMessage
from tchat_client.tui.moderation_ui import ModerationView
from tchat_client.tui.screens.commands import SlashRunner
from tchat_client.tui.screens.main_keys import MAIN_BINDINGS
from tchat_client.tui.screens.main_navigation import Navigation
from tchat_client.tui.slash import SlashError
from tchat_client.tui.widgets.completion_menu import CompletionMenu
from tchat_client.tui.widgets.composer import Composer
from tchat_client.tui.widgets.members import MemberList
from tchat_client.tui.widgets.room_header import RoomHeader
from tchat_client.tui.widgets.room_list import (
    PRESENCE_DOTS,
    PRESENCE_STYLES,
    RoomList,
    sort_rooms,
)
from tchat_client.tui.widgets.status_lines import HintLine, OfflineBanner, TypingLine
from tchat_client.tui.widgets.transcript import Transcript

__all__ = ["MainScreen", "shown"]


def shown(message: Message) -> ShownMessage:
    """The transcript's view of a client message."""
    return ShownMessage.from_message(message)


class MainScreen(Navigation, MessageKeys, Screen[None]):
    BINDINGS = MAIN_BINDINGS

    def __init__(self, client: Client) -> None:
        super().__init__()
        self.client = client
        self.active: int | None = None
        self._runner = SlashRunner(self)
        self.slash_runner = self._runner
        self._marker: int | None = None
        self._loading_older = False
        self.catch_up = CatchUp(self)
        self.moderation = ModerationView(self)
        self.actions = MessageActions(
            self,  # type: ignore[arg-type]
            client,
            lambda: self.transcript,
            lambda: self.composer,
            lambda: self.active,
            self.open_thread,
        )

    # --------------------------------------------------------------- layout

    def compose(self) -> ComposeResult:
        with Horizontal(id="body"):
            with Vertical(id="sidebar"):
                yield Static(id="me")
                yield RoomList(id="rooms")
            with Vertical(id="conversation"):
                yield RoomHeader(id="room-header")
                yield OfflineBanner(id="banner")
                yield AwaySummary(id="away")
                yield Transcript(me=self.client.state.me or None, id="transcript")
                yield TypingLine(id="typing")
                yield HintLine(id="hint")
                yield CompletionMenu(id="completion")
                yield Composer(
                    id="composer",
                    placeholder="Write a message…  (/help for commands)",
                    names=self._completion_names,
                )
            yield MemberList(id="members")
        yield Footer()

    @property
    def transcript(self) -> Transcript:
        return self.query_one(Transcript)

    @property
    def composer(self) -> Composer:
        return self.query_one(Composer)

    @property
    def room_list(self) -> RoomList:
        return self.query_one(RoomList)

    def on_mount(self) -> None:
        state = self.client.state
        self.on_resize()
        self.query_one(MemberList).display = False
        self.query_one(OfflineBanner).show(state.connection.status, state.connection.retry_in)
        self.set_interval(20, self._show_header)  # a timed mute ends without an event
        rooms = sort_rooms(state.rooms.values())
        general = next((r for r in rooms if r.name == "general" and r.kind == "channel"), None)
        first = general or (rooms[0] if rooms else None)
        if first is not None:
            self.open_room(first.id)
        else:
            self._refresh_rooms()
            self.query_one(RoomHeader).show(None)
        self.composer.focus()

    # ------------------------------------------------------------ the room

    @property
    def room(self) -> Room | None:
        return self.client.state.rooms.get(self.active) if self.active is not None else None

    def open_room(self, room_id: int) -> None:
        """Show a room: its cached messages at once, then older pages on demand."""
        state = self.client.state
        room = state.rooms.get(room_id)
        if room is None:
            return
        if room_id != self.active:
            # The "new" marker stays where it was when the room was opened, even
            # after the room is marked read or reloaded; it moves on the next visit.
            self._marker = room.last_read_seq + 1 if room.unread else None
        self.active = room_id
        self.catch_up.opened(room_id)
        self.actions.room_opened(room_id)
        transcript = self.transcript
        transcript.me = state.me or None
        transcript.clear()
        held = state.messages(room_id)
        self.moderation.fill(room_id, [shown(m) for m in [*held, *state.outgoing_in(room_id)]])
        transcript.set_unread_marker(self._marker)
        transcript.has_older = bool(held) and (held[0].seq or 0) > 1
        if room.latest_seq and len(held) < 50:
            self._load_older(room_id, held[0].seq if held else None)
        self.query_one(TypingLine).show(state.typing(room_id))
        self._show_header()
        self._refresh_rooms()
        self._mark_read()
        if self.query_one(MemberList).display:
            self._load_members(room_id)

    def _show_header(self) -> None:
        room = self.room
        presence = None
        if room is not None and room.kind == "dm":
            who = self.client.state.presence.get(room.dm_user or room.name)
            presence = who.status if who else "offline"
        self.query_one(RoomHeader).show(room, presence)
        self.query_one(HintLine).set_hint(self.moderation.hint())

    def _refresh_rooms(self) -> None:
        state = self.client.state
        presence = {name: p.status for name, p in state.presence.items()}
        self.room_list.show(state.rooms.values(), presence, self.active)
        self.moderation.remember(state.rooms.values())
        mine = state.presence.get(state.me)
        status = mine.status if mine and state.connection.status == "connected" else "offline"
        card = Text()
        card.append("tchat", style="bold")
        card.append("  ")
        card.append(PRESENCE_DOTS.get(status, "○"), style=PRESENCE_STYLES.get(status, ""))
        card.append(" ")
        card.append(visible_line(state.me or "?"))
        if mine and mine.text:
            card.append(f"\n{visible_line(mine.text)[:24]}", style="dim italic")
        self.query_one("#me", Static).update(card)

    def _mark_read(self) -> None:
        room = self.room
        if (
            room is not None
            and room.latest_seq > room.last_read_seq
            and self.app.app_focus
            and self.catch_up.may_mark_read(room.id)
        ):
            self.client.mark_read(room.id, room.latest_seq)

    @work(group="history", exclusive=True, exit_on_error=False)
    async def _load_older(self, room_id: int, before: int | None) -> None:
        self._loading_older = True
        try:
            await self.client.history(room_id, before=before, limit=100)
        except ClientError as exc:
            self.notify(f"Could not load history: {exc}", severity="warning")
        finally:
            self._loading_older = False
            if room_id == self.active:
                self.transcript.rearm_older()

    @work(group="members", exclusive=True, exit_on_error=False)
    async def _load_members(self, room_id: int) -> None:
        try:
            members = await self.client.members(room_id)
        except ClientError:
            return
        if room_id == self.active:
            self._show_members(members)

    # ---------------------------------------------------- client events

    def apply(self, event: ev.ChangeEvent) -> None:
        """One change from the client core, routed to what shows it. Before the
        screen is mounted there is nothing to update: ``on_mount`` reads the state;
        while the app closes, its widgets are already gone."""
        if not self.is_mounted or self.app._closing or self._closing:
            return
        if isinstance(event, ev.MessageAdded):
            self._message_added(event.message)
        elif isinstance(event, ev.MessageStateChanged):
            if event.room_id == self.active or event.room_id is None:
                store_delivered(self.transcript, self.client, event)
                self.transcript.set_state(event.client_msg_id, event.state)
            self.moderation.send_state(event)
            self._update_queued()
        elif isinstance(event, ev.HistoryLoaded):
            self._history_loaded(event)
        elif isinstance(event, ev.RoomChanged | ev.RoomRemoved | ev.PresenceChanged):
            self._room_changed(event)
        elif isinstance(event, ev.TypingChanged):
            if event.room_id == self.active:
                self.query_one(TypingLine).show(event.users)
        elif isinstance(event, ev.MembersChanged):
            if event.room_id == self.active:
                self._show_members()
        elif isinstance(event, ev.MembershipChanged | ev.TopicChanged):
            if event.room_id == self.active:
                self._show_header()
                if self.query_one(MemberList).display:
                    self._load_members(event.room_id)
        elif isinstance(event, ev.ConnectionChanged):
            self.query_one(OfflineBanner).show(event.status, event.retry_in, event.detail)
            self.catch_up.connection(event.status)
            self._update_queued()
            self._refresh_rooms()
        elif isinstance(event, ev.StateReset | ev.RoomReset):
            if self.active is not None:
                self.open_room(self.active)
        elif isinstance(event, ev.MessageChanged):
            if event.message.room == self.active:
                self.transcript.replace(shown(event.message))
        elif isinstance(event, ev.ModerationNotice):
            self.moderation.notice(event)
        elif isinstance(event, ev.Notice):
            self.notify(visible(event.message), title=event.code, severity="warning", markup=False)

    def _message_added(self, message: Message) -> None:
        if message.room == self.active:
            self.transcript.append(shown(message))
            self._mark_read()
            return
        room = self.client.state.rooms.get(message.room or 0)
        if room is not None:
            live = self.client.state.connection.status == "connected"
            alerts.maybe_alert(self, room, message, self.client.state.me, self.active, live=live)

    def _history_loaded(self, event: ev.HistoryLoaded) -> None:
        if event.room_id != self.active or not event.messages:
            return
        transcript = self.transcript
        known = [m.seq for m in transcript.messages if m.seq is not None]
        first = min(known) if known else None
        older = [
            m for m in event.messages if m.seq is not None and (first is None or m.seq < first)
        ]
        newer = [m for m in event.messages if m not in older]
        if older and first is not None:
            transcript.prepend([shown(m) for m in older], more=event.more)
        else:
            transcript.extend(shown(m) for m in older)
        if newer:
            transcript.extend(shown(m) for m in newer)
        seqs = [m.seq for m in transcript.messages if m.seq is not None]
        transcript.has_older = bool(seqs) and min(seqs) > 1

    def _room_changed(self, event: ev.RoomChanged | ev.RoomRemoved | ev.PresenceChanged) -> None:
        if isinstance(event, ev.RoomRemoved) and event.room_id == self.active:
            rooms = sort_rooms(self.client.state.rooms.values())
            self.active = None
            if rooms:
                self.open_room(rooms[0].id)
                return
        if isinstance(event, ev.RoomChanged) and self._runner.wants(event.room):
            self.open_room(event.room.id)
            return
        self._refresh_rooms()
        self._show_header()
        self.catch_up.room_changed()
        if isinstance(event, ev.PresenceChanged) and self.query_one(MemberList).display:
            self._show_members()

    def _show_members(self, members: Iterable[Member] | None = None) -> None:
        """The member list with everyone's latest presence (events update it live)."""
        state = self.client.state
        if members is None:
            members = state.members.get(self.active or 0, {}).values()
        live = []
        for member in members:
            presence = state.presence.get(member.user)
            if presence is not None:
                member = replace(member, status=presence.status, text=presence.text)
            live.append(member)
        self.query_one(MemberList).show(live, state.me)

    def _update_queued(self) -> None:
        queued = sum(1 for m in self.client.state.outgoing.values() if m.state == "queued")
        self.query_one(OfflineBanner).set_queued(queued)

    # ------------------------------------------------------- user actions

    @on(RoomList.Picked)
    def _picked(self, event: RoomList.Picked) -> None:
        self.open_room(event.room_id)
        self.composer.focus()

    @on(Transcript.NeedsOlder)
    def _needs_older(self, event: Transcript.NeedsOlder) -> None:
        if self.active is not None and not self._loading_older:
            self._load_older(self.active, event.before_seq)

    def _completion_names(self) -> tuple[list[str], list[str]]:
        return completion_names(self.client.state)

    @on(Composer.Completing)
    def _completing(self, event: Composer.Completing) -> None:
        self.query_one(CompletionMenu).show(event.candidates, event.index)

    @on(Composer.Typed)
    def _typed(self) -> None:
        if self.active is not None:
            self.client.typing(self.active)

    @on(Composer.Submitted)
    def _submitted(self, event: Composer.Submitted) -> None:
        if self.actions.submitted(event.text):
            return
        try:
            handled = self._runner.run(event.text)
        except SlashError as exc:
            self.notify(str(exc), severity="error")
            return
        event.composer.remember(event.text)
        event.composer.clear()
        if handled:
            return
        if self.active is None:
            self.notify("Pick a room first (ctrl+k)", severity="warning")
            return
        self.send(self.active, self._runner.message_text(event.text))

    def send(self, room_id: int, text: str) -> None:
        try:
            self.client.send(room_id, text, reply_to=self.actions.reply_target(room_id))
        except ClientError as exc:
            self.notify(str(exc), severity="error")
            return
        self.actions.sent()

    def open_thread(self, room_id: int, seq: int) -> None:
        from tchat_client.tui.screens.thread import ThreadScreen

        self.app.push_screen(ThreadScreen(self.client, room_id, seq))

    def on_resize(self) -> None:
        """Narrow terminals (80x24) get a slimmer room list."""
        narrow = self.app.size.width < 100
        self.query_one("#sidebar").styles.width = 20 if narrow else 26

    def on_app_focus(self) -> None:
        self._mark_read()

    def action_focus_composer(self) -> None:
        if self.actions.cancel():
            return
        self.catch_up.panel.hide()
        self.composer.focus()
        self._mark_read()

    def action_scroll_transcript(self, direction: int) -> None:
        if direction < 0:
            self.transcript.scroll_page_up()
        else:
            self.transcript.scroll_page_down()

    def action_room(self, step: int) -> None:
        ids = self.room_list.room_ids
        if not ids:
            return
        index = ids.index(self.active) if self.active in ids else -1
        self.open_room(ids[(index + step) % len(ids)])

    def action_next_unread(self) -> None:
        ids = self.room_list.room_ids
        rooms = self.client.state.rooms
        start = ids.index(self.active) if self.active in ids else -1
        for offset in range(1, len(ids) + 1):
            room = rooms.get(ids[(start + offset) % len(ids)])
            if room is not None and room.id != self.active and (room.unread or room.mentions):
                self.open_room(room.id)
                return
        self.notify("No unread rooms")

    def action_jump_unread(self) -> None:
        self.catch_up.jump_to_first_unread()

    def action_catch_up(self) -> None:
        self.catch_up.open_next()

    @on(AwaySummary.Open)
    def _away_open(self, event: AwaySummary.Open) -> None:
        self.catch_up.open(event.room_id)

    def show_progress(self, key: str, text: str | None) -> None:
        """A transfer's progress line over the composer (None: it ended)."""
        self.query_one(HintLine).set_progress(key, text)

    def action_toggle_members(self) -> None:
        members = self.query_one(MemberList)
        members.display = not members.display
        if members.display and self.active is not None:
            self._load_members(self.active)

    def action_help(self) -> None:
        from tchat_client.tui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen(self))  # type: ignore[arg-type]
