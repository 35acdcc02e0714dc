"""Files in the real app against a real server: /upload shows progress and posts a
file card that another client receives; download_file writes the same bytes into
the downloads folder; a file over the server's limit is refused and nothing is
posted."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from tchat_client.core import Client, ProfileStore
from tchat_client.core.auth import sign_in
from tchat_client.tui.transfers_ui import download_file
from tchat_client.tui.widgets.status_lines import HintLine
from tests.conftest import PASSWORD, Running
from tests.server.util import FAST
from tests.tui.test_app_live import alice_app, main_screen, until
from tests.tui.test_notify_catch_up_live import run_command, toasts


async def test_upload_posts_a_file_card_and_download_writes_the_same_bytes(
    start_server: Callable[..., object], tmp_path: Path
) -> None:
    srv: Running = await start_server(max_file=64 * 1024, **FAST)  # type: ignore[misc]
    await srv.user("alice")
    await srv.user("bob")
    store = ProfileStore(tmp_path / "bob" / "config", tmp_path / "bob" / "data")
    bob = Client(await sign_in(store, srv.url, "bob", PASSWORD))
    await bob.start()
    report = tmp_path / "report.bin"
    report.write_bytes(os.urandom(40_000))
    big = tmp_path / "huge.bin"
    big.write_bytes(b"x" * 100_000)
    downloads = tmp_path / "downloads"
    try:
        async with alice_app(srv, tmp_path) as (app, pilot):
            app.downloads_dir = downloads
            screen = main_screen(app)
            hint = screen.query_one(HintLine)
            progress: list[str] = []
            original = hint.set_progress

            def spy(key: str, text: str | None) -> None:
                if text:
                    progress.append(text)
                original(key, text)

            hint.set_progress = spy  # type: ignore[method-assign]
            await run_command(screen, pilot, f"/upload {report} the quarterly numbers")

            def bobs_card() -> object:
                return next(
                    (m.file for r in bob.state.rooms for m in bob.state.messages(r) if m.file),
                    None,
                )

            await until(pilot, bobs_card, "the file card in bob's client")
            message = next(m for r in bob.state.rooms for m in bob.state.messages(r) if m.file)
            assert message.body == "the quarterly numbers" and message.author == "alice"
            assert message.file is not None and message.file.name == "report.bin"
            assert progress[0].startswith("Uploading report.bin 0%")
            assert any("100% · 39.1/39.1 KB" in p for p in progress), progress
            await until(pilot, lambda: hint.text == "", "the progress line to go")

            await download_file(screen, app.client, message.file)
            assert (downloads / "report.bin").read_bytes() == report.read_bytes()
            await until(
                pilot,
                lambda: any("Downloaded" in t and "report.bin" in t for t in toasts(app)),
                f"a toast with the path {toasts(app)}",
            )

            await run_command(screen, pilot, f"/upload {big}")
            await until(pilot, lambda: any("too large" in t for t in toasts(app)), "refusal")
            assert any("huge.bin is too large to send (at most 64.0 KB)" in t for t in toasts(app))
            await run_command(screen, pilot, f"/upload {tmp_path / 'missing.pdf'}")
            await until(pilot, lambda: any("No such file" in t for t in toasts(app)), "no file")
    finally:
        await bob.close()
    rows = await srv.services.db.fetch_all("SELECT name FROM files")
    assert [r[0] for r in rows] == ["report.bin"]
    posted = await srv.services.db.fetch_all(
        "SELECT count(*) FROM messages WHERE file_id IS NOT NULL"
    )
    assert posted[0][0] == 1


async def test_an_upload_over_the_quota_is_refused_clearly(
    start_server: Callable[..., object], tmp_path: Path
) -> None:
    srv: Running = await start_server(file_quota=50_000, **FAST)  # type: ignore[misc]
    await srv.user("alice")
    first, second = tmp_path / "first.bin", tmp_path / "second.bin"
    first.write_bytes(os.urandom(30_000))
    second.write_bytes(os.urandom(30_000))
    async with alice_app(srv, tmp_path) as (app, pilot):
        screen = main_screen(app)
        await run_command(screen, pilot, f"/upload {first}")
        await until(
            pilot,
            lambda: any(m.file is not None for m in screen.transcript.messages),
            "the first file posted",
        )
        await run_command(screen, pilot, f"/upload {second} one too many")
        await until(pilot, lambda: any("quota" in t for t in toasts(app)), "the quota refusal")
        assert any(t.startswith("Upload failed: second.bin would pass") for t in toasts(app))
        assert screen.query_one(HintLine).text == ""
    rows = await srv.services.db.fetch_all("SELECT name FROM files")
    assert [r[0] for r in rows] == ["first.bin"]
    bodies = await srv.services.db.fetch_all("SELECT body FROM messages WHERE file_id IS NOT NULL")
    assert len(bodies) == 1
