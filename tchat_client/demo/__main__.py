"""``python -m tchat_client.demo``: the demo (``make demo``) or its pictures
(``--screenshots DIR``, ``make screenshots``)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from tchat_client.core import ProfileStore
from tchat_client.core.auth import sign_in
from tchat_client.demo.seed import DEMO_PASSWORD, ME
from tchat_client.demo.world import DemoWorld


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tchat-demo", description=__doc__)
    parser.add_argument(
        "--screenshots", type=Path, help="write the README's pictures here and exit"
    )
    args = parser.parse_args(argv)
    world = DemoWorld(bots=args.screenshots is None)
    world.start()
    try:
        os.environ["TCHAT_HOME"] = str(world.home)
        store = ProfileStore.from_env()
        profile = asyncio.run(sign_in(store, world.url, ME, DEMO_PASSWORD))
        if args.screenshots is not None:
            from tchat_client.demo.pictures import take_pictures

            asyncio.run(take_pictures(world, store, profile.name, args.screenshots))
            return 0
        from tchat_client.tui.app import TchatApp

        print(f"tchat demo: server on {world.url}, signed in as {ME}", file=sys.stderr)
        TchatApp(store, profile.name).run()
        return 0
    finally:
        world.close()


if __name__ == "__main__":
    sys.exit(main())
