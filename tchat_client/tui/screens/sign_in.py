"""Sign in or register: server URL, user, password, invite code; errors inline.

On success the profile (server, user, token — never the password) is saved and
becomes the default, and the screen dismisses with its name.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Checkbox, Input, Label, Static

from tchat_client.core import ClientError, ProfileStore
from tchat_client.core.auth import sign_in

__all__ = ["SignInScreen"]


class SignInScreen(Screen[str]):
    BINDINGS = [Binding("ctrl+q", "app.quit", "Quit", id="signin.quit")]

    DEFAULT_CSS = """
    SignInScreen {
        align: center middle;
    }
    SignInScreen > Vertical {
        width: 60;
        max-width: 100%;
        height: auto;
        border: round $primary;
        background: $surface;
        padding: 1 2;
    }
    SignInScreen .title {
        text-style: bold;
        color: $text-primary;
        width: 100%;
        content-align: center middle;
        margin-bottom: 1;
    }
    SignInScreen Label {
        margin-top: 1;
        color: $text-muted;
    }
    SignInScreen #error {
        color: $text-error;
        margin-top: 1;
        height: auto;
    }
    SignInScreen Horizontal {
        height: auto;
        margin-top: 1;
        align: right middle;
    }
    SignInScreen #invite-row {
        display: none;
    }
    SignInScreen.-register #invite-row {
        display: block;
    }
    """

    def __init__(
        self, store: ProfileStore, server: str = "ws://127.0.0.1:8765", user: str = ""
    ) -> None:
        super().__init__()
        self._store = store
        self._server = server
        self._user = user

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("tchat — sign in", classes="title")
            yield Label("Server")
            yield Input(self._server, id="server", placeholder="ws://host:8765")
            yield Label("User name")
            yield Input(self._user, id="user", placeholder="alice")
            yield Label("Password")
            yield Input(id="password", password=True, placeholder="at least 8 characters")
            yield Checkbox("Create a new account", id="register")
            with Vertical(id="invite-row"):
                yield Label("Invite code (if the server asks for one)")
                yield Input(id="invite")
            yield Static("", id="error")
            with Horizontal():
                yield Button("Sign in", id="submit", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#user" if self._server else "#server", Input).focus()
        if self._user:
            self.query_one("#password", Input).focus()

    @on(Checkbox.Changed, "#register")
    def _toggle(self, event: Checkbox.Changed) -> None:
        self.set_class(event.value, "-register")
        self.query_one("#submit", Button).label = "Create account" if event.value else "Sign in"

    @on(Input.Submitted)
    @on(Button.Pressed, "#submit")
    def _submit(self) -> None:
        self._attempt()

    @work(exclusive=True, exit_on_error=False)
    async def _attempt(self) -> None:
        error = self.query_one("#error", Static)
        server = self.query_one("#server", Input).value.strip()
        user = self.query_one("#user", Input).value.strip()
        password = self.query_one("#password", Input).value
        register = self.query_one("#register", Checkbox).value
        invite = self.query_one("#invite", Input).value.strip() or None
        if not server or not user or not password:
            error.update("Server, user name and password are all needed.")
            return
        error.update("Signing in…")
        button = self.query_one("#submit", Button)
        button.disabled = True
        try:
            profile = await sign_in(
                self._store, server, user, password, register=register, invite=invite
            )
        except ClientError as exc:
            error.update(str(exc))
            self.query_one("#password", Input).value = ""
            self.query_one("#password", Input).focus()
            return
        finally:
            button.disabled = False
        self.dismiss(profile.name)
