"""The Textual app: wires the client core to the screens. It owns the client's
lifetime and turns each change event into a message on Textual's own loop."""

from __future__ import annotations

import json
from pathlib import Path

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen

from tchat_client.core import Client, ProfileStore
from tchat_client.core import events as ev
from tchat_client.core.profile import Profile

__all__ = ["TchatApp"]


class ClientChanged(Message):
    """A change event from the client core, delivered on the app's message queue."""

    def __init__(self, event: ev.ChangeEvent) -> None:
        super().__init__()
        self.event = event


class TchatApp(App[None]):
    CSS_PATH = "tchat.tcss"
    TITLE = "tchat"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True)]

    def __init__(
        self,
        store: ProfileStore,
        profile_name: str | None = None,
        *,
        client: Client | None = None,
        bell_on_mention: bool = True,
        connect: bool = True,
        downloads_dir: Path | None = None,
    ) -> None:
        """``connect=False`` shows the profile's cache and outbox without going
        online (stable pictures and snapshot tests). ``downloads_dir``: where
        downloaded files go (default: the platform's download folder)."""
        super().__init__()
        self.store = store
        self.profile_name = profile_name
        self.client: Client | None = client
        self.bell_on_mention = bell_on_mention
        self._connect = connect
        self.downloads_dir = downloads_dir
        self._unsubscribe: list[object] = []

    # ------------------------------------------------------------ lifetime

    def on_mount(self) -> None:
        if self.client is not None:
            self._open(self.client.profile)
            return
        profile = self._profile()
        if profile is not None and profile.token():
            self._open(profile)
        else:
            self._sign_in(profile)

    def _profile(self) -> Profile | None:
        try:
            return self.store.get(self.profile_name)
        except Exception:
            return None

    def _sign_in(self, profile: Profile | None) -> None:
        from tchat_client.tui.screens.sign_in import SignInScreen

        def signed_in(name: str | None) -> None:
            if name is not None:
                self.profile_name = name
                self._open(self.store.get(name))

        server = profile.server if profile else "ws://127.0.0.1:8765"
        self.push_screen(
            SignInScreen(self.store, server, profile.user if profile else ""), signed_in
        )

    def _open(self, profile: Profile) -> None:
        from tchat_client.tui.screens.main import MainScreen

        self._load_settings(profile)
        if self.client is None:
            self.client = Client(profile)
        client = self.client
        client.load()

        def forward(event: ev.ChangeEvent) -> None:
            self.post_message(ClientChanged(event))

        client.subscribe(forward)
        self.push_screen(MainScreen(client))
        if self._connect:
            self.run_worker(client.start(wait=False), group="client", exit_on_error=False)

    async def on_unmount(self) -> None:
        if self.client is not None:
            await self.client.close()

    def on_client_changed(self, message: ClientChanged) -> None:
        from tchat_client.tui.screens.main import MainScreen

        event = message.event
        if isinstance(event, ev.ConnectionChanged) and event.status == "failed":
            self.notify(event.detail or "Signed out", title="Connection closed", severity="error")
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                screen.apply(event)

    # ----------------------------------------------------------- settings

    def _settings_path(self, profile: Profile) -> Path:
        return profile.cache_path.parent / "tui.json"

    def _load_settings(self, profile: Profile) -> None:
        try:
            settings = json.loads(self._settings_path(profile).read_text())
        except (OSError, ValueError):
            return
        theme = settings.get("theme")
        if isinstance(theme, str) and theme in self.available_themes:
            self.theme = theme
        self.bell_on_mention = bool(settings.get("bell", self.bell_on_mention))

    def watch_theme(self, theme: str) -> None:
        """Remember the theme in the profile."""
        if self.client is None:
            return
        path = self._settings_path(self.client.profile)
        try:
            settings = json.loads(path.read_text()) if path.exists() else {}
            settings["theme"] = theme
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(settings))
        except (OSError, ValueError):
            pass

    # ----------------------------------------------------- command palette

    def get_system_commands(self, screen: Screen[object]):  # type: ignore[no-untyped-def]
        """Every action on the screen's bindings, plus the app's own commands."""
        yield from super().get_system_commands(screen)
        seen: set[str] = set()
        for active in screen.active_bindings.values():
            binding = active.binding
            if (
                not binding.description
                or binding.description in seen
                or binding.action.startswith("app.")
            ):
                continue
            seen.add(binding.description)
            action = binding.action

            def run(action: str = action) -> None:
                self.run_worker(screen.run_action(action), exit_on_error=False)

            yield SystemCommand(binding.description, binding.tooltip or binding.description, run)
        yield SystemCommand(
            "Toggle terminal bell on alerts",
            "Ring the bell with each alert (as each room's /notify level says)",
            self._toggle_bell,
        )
        from tchat_client.tui.screens.commands import palette_commands
        from tchat_client.tui.screens.main import MainScreen

        if isinstance(screen, MainScreen):
            for title, help_text, callback in palette_commands(screen):
                yield SystemCommand(title, help_text, callback)

    def _toggle_bell(self) -> None:
        self.bell_on_mention = not self.bell_on_mention
        self.notify(f"Bell on alerts {'on' if self.bell_on_mention else 'off'}")
