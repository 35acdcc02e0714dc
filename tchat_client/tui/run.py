"""Entry point for ``tchat`` with no subcommand: open the TUI on a profile."""

from __future__ import annotations

from tchat_client.core import ProfileStore

__all__ = ["run_tui"]


def run_tui(profile_name: str | None = None) -> int:
    from tchat_client.tui.app import TchatApp

    app = TchatApp(ProfileStore.from_env(), profile_name)
    app.run()
    return app.return_code or 0
