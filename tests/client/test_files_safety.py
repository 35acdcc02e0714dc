"""A download never writes outside its destination nor over a file already there,
whatever the server says: a hostile SHA-256 or name cannot steer the part file,
existing files are kept (a free name is taken, or the download is refused), and a
symlink planted at the part's name is not written through."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from shared.shapes import FileInfo
from tchat_client.core import Client, ProfileStore
from tchat_client.core.auth import sign_in
from tchat_client.core.errors import RequestFailed
from tchat_client.core.profile import Profile
from tchat_client.core.transfers import _prepare, safe_file_name
from tchat_client.exits import ExitCode
from tests.client.conftest import Cli
from tests.conftest import PASSWORD, Running

GENERAL = 1
GOOD_SHA = "ab" * 32


async def _client(tmp_path: Path, srv: Running, user: str) -> Client:
    home = tmp_path / f"home-{user}"
    profile: Profile = await sign_in(ProfileStore(home, home), srv.url, user, PASSWORD)
    client = Client(profile)
    await client.start()
    return client


def test_a_hostile_description_cannot_steer_the_part_file(tmp_path: Path) -> None:
    into = tmp_path / "into"
    into.mkdir()
    for digest in ("/../../../../tmp/evil-" + "0" * 42, GOOD_SHA.upper(), "", "ab" * 31):
        with pytest.raises(RequestFailed):
            _prepare(into, FileInfo(id=1, name="x.bin", size=5, sha256=digest))
    with pytest.raises(RequestFailed):
        _prepare(into, FileInfo(id=1, name="x.bin", size=-1, sha256=GOOD_SHA))

    for name in ("../../../etc/passwd", "/etc/passwd", "..\\..\\boot.ini", "\x1b]0;x\x07..", ".."):
        into_folder, part, held = _prepare(into, FileInfo(id=1, name=name, size=5, sha256=GOOD_SHA))
        assert into_folder and held == 0
        assert part.parent == into and part.name.startswith(".") and "/" not in part.name
    with pytest.raises(OSError, match="not enough free space"):  # a size no disk has
        _prepare(into, FileInfo(id=1, name="huge.iso", size=1 << 62, sha256=GOOD_SHA))
    assert list(into.iterdir()) == []  # nothing was created by preparing


def test_reserved_and_trailing_dot_names_are_made_harmless() -> None:
    assert safe_file_name("CON") == "_CON"
    assert safe_file_name("nul.txt") == "_nul.txt"
    assert safe_file_name("Com1.tar.gz") == "_Com1.tar.gz"
    assert safe_file_name("console.txt") == "console.txt"
    assert safe_file_name("report.") == "report"
    assert safe_file_name("a\x9b2J\u200f.txt") == "a2J.txt"


async def test_downloads_never_replace_a_file(
    srv: Running, cli: Callable[[str], Cli], tmp_path: Path
) -> None:
    await srv.user("alice")
    data = os.urandom(70_000)
    source = tmp_path / "notes.txt"
    source.write_bytes(data)
    into = tmp_path / "into"
    into.mkdir()
    (into / "notes.txt").write_bytes(b"mine")
    mine = tmp_path / "mine.txt"
    mine.write_bytes(b"also mine")
    client = await _client(tmp_path, srv, "alice")
    try:
        card = await client.files.upload(GENERAL, source)
        first = await client.files.download(card.id, into)
        second = await client.files.download(card.id, into)
        with pytest.raises(FileExistsError):
            await client.files.download(card.id, mine)
    finally:
        await client.close()
    assert (first.name, second.name) == ("notes (1).txt", "notes (2).txt")
    assert first.read_bytes() == data and second.read_bytes() == data
    assert (into / "notes.txt").read_bytes() == b"mine"
    assert mine.read_bytes() == b"also mine"
    assert [n for n in os.listdir(tmp_path) + os.listdir(into) if n.endswith(".part")] == []

    alice = cli("alice")
    await alice.login(srv.url, "alice")
    refused = await alice.run("download", str(card.id), str(mine))
    assert refused.code == ExitCode.ERROR and refused.out == "" and "exists" in refused.err
    assert mine.read_bytes() == b"also mine"


async def test_a_symlink_at_the_part_name_is_not_written_through(
    srv: Running, tmp_path: Path
) -> None:
    await srv.user("alice")
    data = os.urandom(50_000)
    source = tmp_path / "clip.ogg"
    source.write_bytes(data)
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    into = tmp_path / "into"
    into.mkdir()
    client = await _client(tmp_path, srv, "alice")
    try:
        card = await client.files.upload(GENERAL, source)
        (into / f".clip.ogg.{card.sha256[:16]}.part").symlink_to(victim)
        written = await client.files.download(card.id, into)
    finally:
        await client.close()
    assert victim.read_bytes() == b"precious"
    assert written == into / "clip.ogg" and written.read_bytes() == data
    assert os.listdir(into) == ["clip.ogg"]
