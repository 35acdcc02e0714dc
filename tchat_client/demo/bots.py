"""Demo bots: real protocol clients that post now and then and type, so the demo
looks alive (a typing line, new messages arriving, unread badges moving)."""

from __future__ import annotations

import asyncio
import random
import uuid

from websockets.asyncio.client import ClientConnection, connect

from shared.codec import decode_server, encode
from shared.frames import PROTOCOL_VERSION, Login, Send, SetPresence, Typing, Welcome
from tchat_client.demo.seed import DEMO_PASSWORD

__all__ = ["run_bots"]

CHATTER = [
    ("bob", "general", "coffee anyone? :coffee:"),
    ("carol", "dev", "CI is green again :green_heart:"),
    ("deploy-bot", "ops", ":white_check_mark: deploy `api@{sha}` finished in {secs} s"),
    ("alice", "general", "reminder: retro at 16:00"),
    ("dave", "random", "TIL `python -X importtime` exists"),
]


async def _bot(url: str, name: str, stop: asyncio.Event, lines: list[tuple[str, str]]) -> None:
    async with connect(url, compression=None) as ws:
        await ws.send(
            encode(Login(protocol=PROTOCOL_VERSION, username=name, password=DEMO_PASSWORD))
        )
        welcome = decode_server(await ws.recv())
        assert isinstance(welcome, Welcome)
        rooms = {room.name: room.id for room in welcome.rooms}

        async def drain() -> None:
            async for _ in ws:
                pass

        reader = asyncio.create_task(drain())
        try:
            while not stop.is_set():
                try:
                    await asyncio.wait_for(stop.wait(), random.uniform(6, 14))
                    break
                except TimeoutError:
                    pass
                room_name, text = random.choice(lines)
                room = rooms.get(room_name)
                if room is None:
                    continue
                for _ in range(2):
                    await ws.send(encode(Typing(room=room)))
                    try:
                        await asyncio.wait_for(stop.wait(), 2.5)
                        return
                    except TimeoutError:
                        pass
                body = text.format(sha=uuid.uuid4().hex[:6], secs=random.randint(20, 90))
                await ws.send(encode(Send(client_msg_id=str(uuid.uuid4()), body=body, room=room)))
        finally:
            reader.cancel()


async def run_bots(url: str, stop: asyncio.Event) -> None:
    by_author: dict[str, list[tuple[str, str]]] = {}
    for author, room, text in CHATTER:
        by_author.setdefault(author, []).append((room, text))
    await asyncio.gather(
        *(_bot(url, name, stop, lines) for name, lines in by_author.items()), return_exceptions=True
    )


async def _idle(url: str, name: str, stop: asyncio.Event, away: str | None) -> None:
    async with connect(url, compression=None) as ws:
        await ws.send(
            encode(Login(protocol=PROTOCOL_VERSION, username=name, password=DEMO_PASSWORD))
        )
        await ws.recv()
        if away is not None:
            await ws.send(encode(SetPresence(status="away", text=away)))
        reader = asyncio.create_task(_drain(ws))
        try:
            await stop.wait()
        finally:
            reader.cancel()


async def _drain(ws: ClientConnection) -> None:
    async for _ in ws:
        pass


async def run_idle(url: str, stop: asyncio.Event) -> None:
    """People online but quiet (for stable pictures): bob and carol online, alice away."""
    await asyncio.gather(
        _idle(url, "alice", stop, "in a meeting"),
        _idle(url, "bob", stop, None),
        _idle(url, "carol", stop, None),
        return_exceptions=True,
    )
