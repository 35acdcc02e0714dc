"""``tchat``: the client command line (the full CLI arrives with the client core)."""

from __future__ import annotations

import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    print("tchat: the client is not built yet", file=sys.stderr)
    return 2
