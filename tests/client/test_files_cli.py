"""Files from the client's side, against a real server: ``client.files`` uploads and
downloads that survive a cut connection (through the TCP proxy) and resume where
they stopped, and ``tchat upload`` / ``tchat download`` as real subprocesses."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from shared.errors import ErrorCode
from shared.frames import CreateRoom, RoomJoined
from tchat_client.core import Client
from tchat_client.core.errors import RequestFailed
from tchat_client.core.transfers import safe_file_name
from tchat_client.exits import ExitCode
from tests.client.conftest import Cli, signed_in
from tests.client.proxy import Proxy
from tests.conftest import Running

Start = Callable[..., Awaitable[Running]]
MiB = 1024 * 1024
GENERAL = 1


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class CutOnce:
    """A progress callback that cuts the proxy once ``at`` bytes are done, and
    records every (done, total) it is told."""

    def __init__(self, proxy: Proxy, at: int) -> None:
        self.proxy = proxy
        self.at = at
        self.seen: list[int] = []
        self.cut_index: int | None = None

    def __call__(self, done: int, total: int) -> None:
        self.seen.append(done)
        if self.cut_index is None and done >= self.at:
            self.cut_index = len(self.seen)
            self.proxy.cut()


async def test_upload_resumes_after_a_cut_and_download_too(
    start_server: Start, proxy_to: Callable[[Running], Awaitable[Proxy]], tmp_path: Path
) -> None:
    srv = await start_server(max_file=3 * MiB)
    await srv.user("alice")
    await srv.user("bob")
    proxy = await proxy_to(srv)
    data = os.urandom(3 * MiB)
    source = tmp_path / "big.bin"
    source.write_bytes(data)

    client = Client(await signed_in(tmp_path, proxy.url, "alice"))
    await client.start()
    try:
        up = CutOnce(proxy, 1 * MiB)
        card = await client.files.upload(GENERAL, source, on_progress=up)
    finally:
        await client.close()
    assert up.cut_index is not None
    after = up.seen[up.cut_index :]
    # Announced again after the cut, the upload went on from the bytes the server held.
    assert after and min(after) >= up.at > 0
    assert up.seen[-1] == len(data)
    assert card.size == len(data) and card.sha256 == _sha(data) and card.name == "big.bin"
    stored = srv.server.config.files_dir / card.sha256[:2] / card.sha256[2:]
    assert stored.read_bytes() == data
    assert proxy.accepted >= 3  # the login, the first connection, the reconnection

    bob = Client(await signed_in(tmp_path, proxy.url, "bob"))
    await bob.start()
    into = tmp_path / "downloads"
    into.mkdir()
    (into / "big.bin").write_bytes(b"an older file of the same name")
    try:
        down = CutOnce(proxy, 1 * MiB)
        written = await bob.files.download(card.id, into, on_progress=down)
    finally:
        await bob.close()
    assert down.cut_index is not None
    assert written == into / "big (1).bin"
    assert written.read_bytes() == data
    assert (into / "big.bin").read_bytes() == b"an older file of the same name"
    assert [p.name for p in into.iterdir() if p.name.endswith(".part")] == []


def test_safe_file_name() -> None:
    assert safe_file_name("../../.bashrc") == "bashrc"
    assert safe_file_name("a:b*c?.txt") == "a_b_c_.txt"
    assert safe_file_name("\x1b[2Jx\u202e.txt") == "[2Jx.txt"
    assert safe_file_name("...") == "file"
    assert len(safe_file_name("é" * 300 + ".txt").encode()) <= 200
    assert safe_file_name("é" * 300 + ".txt").endswith(".txt")


async def test_cli_upload_then_download(
    srv: Running, cli: Callable[[str], Cli], tmp_path: Path
) -> None:
    for name in ("alice", "bob", "carol"):
        await srv.user(name)
    alice, bob, carol = cli("alice"), cli("bob"), cli("carol")
    for who, name in ((alice, "alice"), (bob, "bob"), (carol, "carol")):
        await who.login(srv.url, name)
    data = os.urandom(200_000)
    source = tmp_path / "notes.txt"
    source.write_bytes(data)

    posted = await alice.ok("upload", "#general", str(source), "--json", "--message", "see this")
    answer = json.loads(posted.out)
    assert answer["name"] == "notes.txt" and answer["size"] == len(data)
    assert answer["sha256"] == _sha(data) and answer["room_name"] == "#general"
    file_id = answer["file_id"]
    assert isinstance(file_id, int)
    history = await bob.ok("history", "#general", "--json")
    assert any(json.loads(line)["body"] == "see this" for line in history.lines)
    found = await bob.ok("search", "has:file", "--json")
    assert [json.loads(line)["id"] for line in found.lines] == [answer["id"]]

    dest = tmp_path / "bob-files"
    dest.mkdir()
    got = await bob.ok("download", str(file_id), str(dest))
    assert got.out.strip() == str(dest / "notes.txt")
    assert (dest / "notes.txt").read_bytes() == data

    plain = await alice.ok("upload", "general", str(source))
    assert plain.out.strip().isdigit() and int(plain.out) != file_id

    # A file of a private group: carol, not in it, gets "unknown" and no file.
    bob_wire = await srv.connect("bob")
    await bob_wire.send(CreateRoom(name="vault", kind="group", rid="g"))
    await bob_wire.find(RoomJoined, where=lambda j: j.room.name == "vault")
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"top secret")
    hidden = json.loads((await bob.ok("upload", "vault", str(secret), "--json")).out)
    carol_dir = tmp_path / "carol-files"
    carol_dir.mkdir()
    refused = await carol.run("download", str(hidden["file_id"]), str(carol_dir))
    assert refused.code == ExitCode.UNKNOWN and refused.out == ""
    assert list(carol_dir.iterdir()) == []


async def test_cli_upload_refusals(srv: Running, cli: Callable[[str], Cli], tmp_path: Path) -> None:
    await srv.user("alice")
    await srv.user("bob")
    alice = cli("alice")
    await alice.login(srv.url, "alice")
    source = tmp_path / "x.bin"
    source.write_bytes(b"x")
    no_dm = await alice.run("upload", "@bob", str(source))
    assert no_dm.code == ExitCode.UNKNOWN and "@bob" in no_dm.err
    missing = await alice.run("upload", "#general", str(tmp_path / "nope"))
    assert missing.code == ExitCode.ERROR and "no file" in missing.err
    assert await srv.services.message_store.count() == 0


async def test_a_partial_download_resumes_from_its_part_file(srv: Running, tmp_path: Path) -> None:
    await srv.user("alice")
    data = os.urandom(300_000)
    source = tmp_path / "clip.ogg"
    source.write_bytes(data)
    client = Client(await signed_in(tmp_path, srv.url, "alice"))
    await client.start()
    try:
        card = await client.files.upload(GENERAL, source)
        into = tmp_path / "into"
        into.mkdir()
        part = into / f".clip.ogg.{card.sha256[:16]}.part"
        part.write_bytes(data[:100_000])
        seen: list[int] = []
        written = await client.files.download(
            card.id, into, on_progress=lambda done, total: seen.append(done)
        )
        assert seen[0] == 100_000 and seen[-1] == len(data)
        assert written == into / "clip.ogg" and written.read_bytes() == data
        assert not part.exists()

        # A part whose bytes are wrong fails the check, is removed, and nothing is written.
        part.write_bytes(b"\0" * 100_000)
        with pytest.raises(RequestFailed) as refused:
            await client.files.download(card.id, into / "again.ogg")
        assert refused.value.code == ErrorCode.FILE_CORRUPT
        assert not part.exists() and not (into / "again.ogg").exists()
        assert (await client.files.download(card.id, into / "again.ogg")).read_bytes() == data
    finally:
        await client.close()


async def test_an_upload_waits_out_the_byte_budget(start_server: Start, tmp_path: Path) -> None:
    srv = await start_server(file_rate=64 * 1024)
    await srv.user("alice")
    data = os.urandom(220_000)
    source = tmp_path / "slow.bin"
    source.write_bytes(data)
    client = Client(await signed_in(tmp_path, srv.url, "alice"))
    await client.start()
    try:
        card = await client.files.upload(GENERAL, source)
    finally:
        await client.close()
    assert card.sha256 == _sha(data)
    refused = srv.services.metrics.registry.get_sample_value(
        "tchat_rate_limited_total", {"limit": "frames"}
    )
    assert refused and refused > 0  # it was held back, and went on by itself
    stored = srv.server.config.files_dir / card.sha256[:2] / card.sha256[2:]
    assert stored.read_bytes() == data


async def test_cli_upload_too_large_and_download_into_nowhere(
    start_server: Start, cli: Callable[[str], Cli], tmp_path: Path
) -> None:
    srv = await start_server(max_file=1000)
    await srv.user("alice")
    alice = cli("alice")
    await alice.login(srv.url, "alice")
    source = tmp_path / "big.bin"
    source.write_bytes(b"x" * 1001)
    refused = await alice.run("upload", "#general", str(source), "--json")
    assert refused.code == ExitCode.ERROR and refused.out == ""
    assert "at most 1000 bytes" in refused.err
    nowhere = await alice.run("download", "1", str(tmp_path / "no" / "such" / "dir"))
    assert nowhere.code == ExitCode.ERROR and "no folder" in nowhere.err
    assert await srv.services.message_store.count() == 0
    assert not srv.server.config.files_dir.exists()


async def test_a_file_name_of_undecodable_bytes_uploads(srv: Running, tmp_path: Path) -> None:
    await srv.user("alice")
    source = Path(os.fsdecode(bytes(tmp_path) + b"/caf\xe9.bin"))
    await asyncio.to_thread(source.write_bytes, b"bytes")
    client = Client(await signed_in(tmp_path, srv.url, "alice"))
    await client.start()
    try:
        card = await client.files.upload(GENERAL, source)
    finally:
        await client.close()
    assert card.name == "caf?.bin" and card.size == 5


async def test_cli_download_into_a_new_folder_named_with_a_slash(
    srv: Running, cli: Callable[[str], Cli], tmp_path: Path
) -> None:
    """``download 1 new/`` makes the folder and writes the file in it (a trailing
    slash names a folder, as for cp): it never writes a file called ``new``."""
    await srv.user("alice")
    alice = cli("alice")
    await alice.login(srv.url, "alice")
    source = tmp_path / "notes.txt"
    source.write_bytes(b"some notes")
    file_id = json.loads((await alice.ok("upload", "#general", str(source), "--json")).out)[
        "file_id"
    ]
    folder = tmp_path / "new" / "folder"
    got = await alice.ok("download", str(file_id), f"{folder}/")
    assert got.out.strip() == str(folder / "notes.txt")
    assert folder.is_dir() and (folder / "notes.txt").read_bytes() == b"some notes"
