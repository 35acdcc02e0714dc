"""argon2id hashing off the event loop, with bounded concurrency.

A verify with the default parameters holds a thread for ~185 ms, so it runs in
``asyncio.to_thread`` behind a semaphore: at most ``concurrency`` hashes at once,
the event loop stays free for everyone else.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from tchat_server.config import Argon2Params

__all__ = ["Hasher"]


class Hasher:
    def __init__(self, params: Argon2Params, concurrency: int = 2) -> None:
        self._hasher = PasswordHasher(
            time_cost=params.time_cost,
            memory_cost=params.memory_kib,
            parallelism=params.parallelism,
            type=Type.ID,
        )
        self._slots = asyncio.Semaphore(concurrency)
        self._dummy: str | None = None

    async def hash(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> tuple[bool, bool]:
        """(matches, needs_rehash): rehash when the stored hash used other parameters."""
        async with self._slots:
            return await asyncio.to_thread(self._verify, password_hash, password)

    async def burn(self, password: str) -> None:
        """Spend the time of a verify against a dummy hash, so that an unknown user
        costs what a wrong password does (no user enumeration by timing)."""
        if self._dummy is None:
            self._dummy = await self.hash("tchat-dummy-password")
        await self.verify(self._dummy, password)

    def _verify(self, password_hash: str, password: str) -> tuple[bool, bool]:
        try:
            self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False, False
        return True, self._hasher.check_needs_rehash(password_hash)
