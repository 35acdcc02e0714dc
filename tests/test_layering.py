"""Import boundaries: the layering the design card fixes, checked on the source.

- ``shared`` imports nothing of ours and nothing that does I/O.
- ``tchat_server/storage`` never imports transport (websockets, or the modules
  that hold sessions and sockets).
- Server services, the hub and sessions import no websockets; client state imports
  neither textual nor websockets; nothing outside ``tchat_client/tui`` imports
  textual.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, absolute names (relative ones resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.add(module)
    return found


def files(folder: str) -> list[Path]:
    found = sorted((ROOT / folder).rglob("*.py"))
    assert found, f"no Python files under {folder}"
    return found


def offenders(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    bad: list[str] = []
    for path in files(folder):
        for module in imports_of(path):
            if any(module == f or module.startswith(f + ".") for f in forbidden):
                bad.append(f"{path.relative_to(ROOT)} imports {module}")
    return bad


def test_shared_imports_nothing_of_ours_and_does_no_io() -> None:
    assert (
        offenders(
            "shared",
            (
                "tchat_server",
                "tchat_client",
                "websockets",
                "aiosqlite",
                "sqlite3",
                "socket",
                "asyncio",
                "textual",
            ),
        )
        == []
    )


def test_storage_never_imports_transport() -> None:
    assert (
        offenders(
            "tchat_server/storage",
            (
                "websockets",
                "tchat_server.transport",
                "tchat_server.session",
                "tchat_server.hub",
                "tchat_server.dispatch",
                "tchat_server.handshake",
                "tchat_server.app",
                "tchat_server.services",
            ),
        )
        == []
    )


@pytest.mark.parametrize(
    "folder",
    [
        "tchat_server/services",
        "tchat_server/hub.py",
        "tchat_server/session.py",
        "tchat_server/dispatch.py",
    ],
)
def test_server_rules_import_no_websockets(folder: str) -> None:
    path = ROOT / folder
    targets = [path] if path.is_file() else files(folder)
    bad = [
        f"{p.relative_to(ROOT)} imports {m}"
        for p in targets
        for m in imports_of(p)
        if m.split(".")[0] in {"websockets", "textual"}
    ]
    assert bad == []


def test_nothing_but_the_tui_imports_textual() -> None:
    bad: list[str] = []
    for folder in ("shared", "tchat_server", "tchat_client"):
        for path in files(folder):
            parts = path.relative_to(ROOT).parts
            if "tui" in parts or "demo" in parts:  # the TUI, and the demo that drives it
                continue
            bad.extend(
                f"{path.relative_to(ROOT)} imports {m}"
                for m in imports_of(path)
                if m.split(".")[0] in {"textual", "rich"}
            )
    assert bad == []


def test_client_state_imports_no_websockets() -> None:
    core = ROOT / "tchat_client" / "core"
    if not core.exists():
        pytest.skip("no client core yet")
    state_files = [p for p in core.rglob("*.py") if p.stem not in {"connection", "__init__"}]
    bad = [
        f"{p.relative_to(ROOT)} imports {m}"
        for p in state_files
        for m in imports_of(p)
        if m.split(".")[0] in {"websockets", "textual"}
    ]
    assert bad == []


def test_cli_modules_do_not_load_textual() -> None:
    """Scripts and cron jobs run ``tchat`` without paying for (or needing) textual."""
    code = (
        "import sys, tchat_client.cli, tchat_server.cli; "
        "loaded = [m for m in sys.modules if m.split('.')[0] == 'textual']; "
        "print(loaded); sys.exit(1 if loaded else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_import_scanner_sees_imports() -> None:
    """Guards the checks above against passing vacuously."""
    transport = imports_of(ROOT / "tchat_server" / "transport.py")
    assert "websockets.asyncio.server" in transport
    assert "shared.codec" in transport
