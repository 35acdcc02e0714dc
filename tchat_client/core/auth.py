"""Signing in: the only place a password passes through, and it is never stored.

``sign_in`` opens a one-off connection with a ``login`` (or ``register``) frame
(``connection.authenticate``), keeps the token the welcome carries in the profile
(mode 0600) and seeds the cache with the room list, so that ``tchat send
--queue`` can resolve names offline.
"""

from __future__ import annotations

from shared import frames as wire
from tchat_client.core.cache import Cache
from tchat_client.core.connection import authenticate
from tchat_client.core.models import Room
from tchat_client.core.profile import Profile, ProfileStore, normalize_url

__all__ = ["sign_in"]


async def sign_in(
    store: ProfileStore,
    server: str,
    user: str,
    password: str,
    *,
    register: bool = False,
    invite: str | None = None,
    profile_name: str | None = None,
    client_name: str = "tchat",
) -> Profile:
    """Log in (or register), then save the profile, its token and a fresh cache."""
    url = normalize_url(server)
    frame: wire.Login | wire.Register
    if register:
        frame = wire.Register(
            protocol=wire.PROTOCOL_VERSION,
            username=user,
            password=password,
            invite=invite,
            client=client_name,
        )
    else:
        frame = wire.Login(
            protocol=wire.PROTOCOL_VERSION, username=user, password=password, client=client_name
        )
    welcome = await authenticate(url, frame)
    assert welcome.token is not None
    profile = store.save(url, welcome.user.name, profile_name)
    profile.save_token(welcome.token)
    cache = Cache(profile.cache_path)
    try:
        if cache.epoch != welcome.epoch or cache.user != welcome.user.name:
            cache.wipe()
        cache.set_identity(welcome.epoch, welcome.user.name)
        cache.replace_rooms(Room.from_info(info) for info in welcome.rooms)
    finally:
        cache.close()
    return profile
