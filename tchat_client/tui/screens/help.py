"""Help (F1): the keys, generated from the bindings in force, and the slash commands."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from tchat_client.tui.slash import COMMANDS

__all__ = ["HelpScreen", "key_table"]

ABOUT = """\
↑ in an empty composer picks a message to act on (keys above; Esc: back to writing).
A room outside the screen alerts you (a toast; the bell too, from ctrl+p) as its
level says: /notify all (every message; DMs start so), mentions (@you, @here,
@room) or none. /notify mute also hides its unread count (🔕; mentions still show).
alt+u or /unread jumps to the first unread message; /markunread leaves the room
unread. After a reconnection "Since you were away" lists what came in: alt+a
opens the next room from it. /upload PATH [caption] sends a file (Tab completes
the path); select a message with a file and press o to download it.
Moderation (/kick /ban /mute /slow /lock /role) is checked by the server: a refusal
says why, and each action shows as a line in the room."""


def key_table(screen: Screen[object]) -> Table:
    """The keys tchat itself binds, read from the bindings of the app, the screen and
    its widgets (their own classes' ``BINDINGS``, not the editor's built-ins)."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    seen: set[str] = set()
    for binding in own_bindings(screen):
        if not binding.description or binding.description in seen:
            continue
        seen.add(binding.description)
        keys = " / ".join(
            screen.app.get_key_display(Binding(k.strip(), "")) for k in binding.key.split(",")
        )
        table.add_row(keys, binding.description)
    return table


def own_bindings(screen: Screen[object]) -> list[Binding]:
    """Bindings declared by tchat's own classes on the screen, its widgets and the app."""
    nodes = [screen, *screen.query("*"), screen.app]
    found: list[Binding] = []
    for node in nodes:
        if not type(node).__module__.startswith("tchat_client"):
            continue
        for binding in vars(type(node)).get("BINDINGS", []):
            if isinstance(binding, Binding):
                found.append(binding)
    return found


def command_table() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for name, (args, what) in COMMANDS.items():
        table.add_row(Text(f"/{name} {args}".rstrip()), what)
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close help", id="help.close")]

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > VerticalScroll {
        width: 80;
        max-width: 95%;
        height: auto;
        max-height: 90%;
        border: round $primary;
        background: $surface;
        padding: 1 2;
    }
    HelpScreen .help-title {
        text-style: bold;
        color: $text-primary;
        margin: 0 0 1 0;
    }
    HelpScreen .help-section {
        margin: 1 0 0 0;
        text-style: bold;
    }
    """

    def __init__(self, under: Screen[object]) -> None:
        super().__init__()
        self._under = under

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("tchat — keys and commands", classes="help-title")
            yield Static("Keys", classes="help-section")
            yield Static(key_table(self._under))
            yield Static("Commands (type them in the composer)", classes="help-section")
            yield Static(command_table())
            yield Static("Alerts, catching up, files", classes="help-section")
            yield Static(Text(ABOUT))
            yield Static(
                Text(
                    "\nMessages are Markdown: **bold**, _italic_, ~~strike~~, `code`, ```fenced```,"
                    " > quotes, lists; :shortcodes: become emoji. Esc closes this.",
                    style="dim",
                )
            )

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
