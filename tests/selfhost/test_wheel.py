"""PACKAGING TEST (marker ``packaging``; deselect with ``-m "not packaging"``).

Builds the wheel from this tree and installs it into a fresh venv, offline: the
wheel is built with ``--no-build-isolation`` (the build backend is the one in the
test's environment) and installed with ``--no-index --no-deps``; its dependencies
come from the test environment's site-packages through a ``.pth`` file, so no
registry is needed. Then both console scripts answer ``--help``, the code runs
from the fresh venv (not this tree), and the migrations shipped in the wheel
create a database that ``tchat-server check`` finds sound.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from tests.conftest import PASSWORD
from tests.selfhost.conftest import CHEAP, ROOT

pytestmark = pytest.mark.packaging


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None, stdin: str = "") -> str:
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"{args}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_the_wheel_installs_offline_and_both_commands_answer(tmp_path: Path) -> None:
    pytest.importorskip("hatchling", reason="the build backend (test extra) is not installed")
    dist = tmp_path / "dist"
    run(
        sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
        "--wheel-dir", dist, ROOT, cwd=tmp_path,
    )  # fmt: skip
    (wheel,) = dist.glob("tchat-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "tchat_server/storage/migrations/0001_init.sql" in names
    assert "tchat_client/tui/tchat.tcss" in names
    assert not any(n.startswith("tests/") for n in names)
    entry_points = zipfile.ZipFile(wheel).read(
        next(n for n in names if n.endswith("entry_points.txt"))
    )
    assert b"tchat-server = tchat_server.cli:main" in entry_points

    fresh = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(fresh)
    python = fresh / "bin" / "python"
    run(
        sys.executable, "-m", "pip", "--python", python, "install", "--no-index", "--no-deps",
        "--no-cache-dir", wheel, cwd=tmp_path,
    )  # fmt: skip
    site = Path(
        run(
            python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=tmp_path
        ).strip()
    )
    # Dependencies from this environment; a path line in a .pth file adds the folder
    # without running that folder's own .pth files (so not this tree's editable install).
    (site / "zz_test_deps.pth").write_text(sysconfig.get_path("purelib") + "\n")

    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME"}}
    env = {k: v for k, v in env.items() if not k.startswith("TCHAT_")} | CHEAP
    server = fresh / "bin" / "tchat-server"
    client = fresh / "bin" / "tchat"
    assert "serve" in run(server, "--help", cwd=tmp_path, env=env)
    assert "usage: tchat" in run(client, "--help", cwd=tmp_path, env=env)
    where = run(
        python, "-c", "import tchat_server; print(tchat_server.__file__)", cwd=tmp_path, env=env
    )
    assert Path(where.strip()).is_relative_to(fresh), where

    data = tmp_path / "data"
    out = run(
        server, "--data-dir", data, "user", "add", "root", "--admin", "--password-stdin",
        cwd=tmp_path, env=env | {"TCHAT_LOG_LEVEL": "warning"}, stdin=PASSWORD,
    )  # fmt: skip
    assert out.strip() == "created admin user root"
    assert ": ok (1 users" in run(server, "--data-dir", data, "check", cwd=tmp_path, env=env)
