"""Accounts: registration, password login, session tokens, invites, revocation.

Logins are throttled per account and per address *before* any hash is computed;
an unknown user costs the same hash as a wrong password. Tokens are 256 random
bits handed to the client once; the database keeps only their SHA-256. They
expire when idle or old (``services/tokens.py``), and an admin can list and revoke
them (``tchat-server user sessions`` / ``user revoke``).
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import time
import unicodedata
from dataclasses import dataclass

from shared.errors import ErrorCode, ProtocolError
from tchat_server.config import RegistrationPolicy, ServerConfig
from tchat_server.services.limits import KeyedLocks, SlidingWindow
from tchat_server.services.names import normalize_username, skeleton
from tchat_server.services.passwords import Hasher
from tchat_server.services.tokens import TokenLifetimes
from tchat_server.storage.db import StorageUnavailable
from tchat_server.storage.rooms import RoomStore
from tchat_server.storage.users import TokenRow, TokenTimes, UserRow, UserStore, hash_secret

__all__ = ["DEFAULT_CHANNEL", "MIN_PASSWORD", "AccountService", "Authenticated"]

log = logging.getLogger("tchat.server")

MIN_PASSWORD = 8
MAX_PASSWORD = 1024
DEFAULT_CHANNEL = "general"


@dataclass(frozen=True, slots=True)
class Authenticated:
    user: UserRow
    token_hash: bytes
    token: str | None = None
    """The new token, when one was issued (login, register)."""


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ProtocolError(
            ErrorCode.PASSWORD_INVALID, f"a password has at least {MIN_PASSWORD} characters"
        )
    if len(password) > MAX_PASSWORD:
        raise ProtocolError(
            ErrorCode.PASSWORD_INVALID, f"a password has at most {MAX_PASSWORD} characters"
        )


class AccountService:
    def __init__(
        self,
        users: UserStore,
        rooms: RoomStore,
        hasher: Hasher,
        config: ServerConfig,
    ) -> None:
        self._users = users
        self._rooms = rooms
        self._hasher = hasher
        self._policy: RegistrationPolicy = config.registration
        self._by_account = SlidingWindow(config.login_attempts_per_account, config.login_window)
        self._by_address = SlidingWindow(config.login_attempts_per_address, config.login_window)
        self._turns = KeyedLocks()
        self.tokens = TokenLifetimes(
            users, idle_days=config.token_idle_days, max_days=config.token_max_days
        )

    # ------------------------------------------------------------ sign-in

    async def register(
        self, username: str, password: str, invite: str | None, client: str = "", address: str = ""
    ) -> Authenticated:
        """Create an account through the wire (subject to the registration policy).

        Each attempt counts against the address like a failed login, before any
        hash: an open server cannot be made to hash passwords without limit.
        """
        if self._policy == "closed":
            raise ProtocolError(ErrorCode.REGISTRATION_CLOSED, "registration is closed")
        wait = self._by_address.retry_after(address)
        if wait > 0:
            raise ProtocolError(
                ErrorCode.THROTTLED,
                "too many attempts from here; try again later",
                retry_after=wait,
            )
        self._by_address.record(address)
        invite_hash: bytes | None = None
        if self._policy == "invite" or invite:
            if not invite:
                raise ProtocolError(ErrorCode.INVITE_INVALID, "an invite code is required")
            invite_hash = hash_secret(invite)
            status = await self._users.check_invite(invite_hash)
            if status != "ok":
                reason = {"unknown": "unknown", "expired": "expired", "used_up": "used up"}
                raise ProtocolError(
                    ErrorCode.INVITE_INVALID, f"invite code is {reason.get(status, status)}"
                )
        user = await self.create_user(username, password, invite_hash=invite_hash)
        return await self._issue(user, client)

    async def login(
        self, username: str, password: str, address: str, client: str = ""
    ) -> Authenticated:
        account_key = _nfkc(username).casefold()  # every spelling of one account
        # Attempts on one account take turns, so each sees the outcome of the one
        # before: guesses sent at once cannot all pass the throttle before any fails.
        async with self._turns.hold(account_key):
            return await self._login(account_key, username, password, address, client)

    async def _login(
        self, account_key: str, username: str, password: str, address: str, client: str
    ) -> Authenticated:
        wait = max(self._by_account.retry_after(account_key), self._by_address.retry_after(address))
        if wait > 0:
            raise ProtocolError(
                ErrorCode.THROTTLED, "too many login attempts; try again later", retry_after=wait
            )
        # The attempt counts from now, not once its hash fails: attempts from one
        # address in flight at the same time (on many accounts) would all pass.
        self._by_account.record(account_key)
        self._by_address.record(address)
        if len(password) > MAX_PASSWORD:
            raise ProtocolError(ErrorCode.AUTH_FAILED, "wrong user name or password")
        user = await self._users.get_by_name(_nfkc(username))
        if user is None:
            await self._hasher.burn(password)
            ok, rehash = False, False
        else:
            ok, rehash = await self._hasher.verify(user.password_hash, password)
        if not ok or user is None:
            raise ProtocolError(ErrorCode.AUTH_FAILED, "wrong user name or password")
        if user.disabled:
            raise ProtocolError(ErrorCode.ACCOUNT_DISABLED, "this account is disabled")
        self._by_account.reset(account_key)
        self._by_address.forget_one(address)  # only failures count against an address
        if rehash:
            await self._users.set_password_hash(user.id, await self._hasher.hash(password))
        return await self._issue(user, client)

    async def authenticate(self, token: str) -> Authenticated:
        """The user a session token speaks for; notes the use (written later, at
        most hourly). An expired token is revoked and refused like an unknown one."""
        token_hash = hash_secret(token)
        found = await self._users.token_owner(token_hash)
        if found is not None:
            user, times = found
            why = self.tokens.expired(times, token_hash)
            if why is None:
                self.tokens.used(token_hash, times.last_used_at)
                return Authenticated(user, token_hash)
            await self._expire(token_hash, user, why)
        raise ProtocolError(ErrorCode.TOKEN_INVALID, "session token is unknown or revoked")

    async def _expire(self, token_hash: bytes, user: UserRow, why: str) -> None:
        self.tokens.forget(token_hash)
        # Refused all the same when the disk is full; revoked on a later try.
        with contextlib.suppress(StorageUnavailable):
            await self._users.revoke_token(token_hash)
        log.info(
            "refused an expired session token of %s (%s)",
            user.name,
            why,
            extra={"event": "token_expired", "user": user.name, "reason": why},
        )

    async def logout(self, token_hash: bytes) -> None:
        await self._users.revoke_token(token_hash)
        self.tokens.forget(token_hash)

    async def logout_everywhere(self, user_id: int) -> None:
        await self._users.revoke_all_tokens(user_id)

    async def _issue(self, user: UserRow, client: str) -> Authenticated:
        token = secrets.token_urlsafe(32)  # 256 bits
        token_hash = hash_secret(token)
        await self._users.add_token(user.id, token_hash, client)
        self.tokens.issued(token_hash)
        return Authenticated(user, token_hash, token)

    async def close(self) -> None:
        """Write the token uses still in memory."""
        await self.tokens.close()

    # ------------------------------------------------------ administration

    async def create_user(
        self,
        username: str,
        password: str,
        *,
        admin: bool = False,
        invite_hash: bytes | None = None,
    ) -> UserRow:
        """Create an account (CLI or wire) and join it to #general.

        Raises:
            ProtocolError: username_invalid, username_taken, password_invalid,
                invite_invalid.
        """
        name = normalize_username(username)
        _check_password(password)
        shape = skeleton(name)
        if await self._users.skeleton_taken(shape):
            raise ProtocolError(
                ErrorCode.USERNAME_TAKEN, "that user name (or one that looks like it) is taken"
            )
        general = await self._rooms.get_by_name(DEFAULT_CHANNEL)
        joins = (general.id,) if general is not None else ()
        password_hash = await self._hasher.hash(password)
        user = await self._users.add(
            name, shape, password_hash, is_admin=admin, invite_hash=invite_hash, join_room_ids=joins
        )
        if user is None:
            if invite_hash is not None and await self._users.check_invite(invite_hash) != "ok":
                raise ProtocolError(ErrorCode.INVITE_INVALID, "invite code is used up")
            raise ProtocolError(
                ErrorCode.USERNAME_TAKEN, "that user name (or one that looks like it) is taken"
            )
        return user

    async def set_password(self, username: str, password: str) -> None:
        _check_password(password)
        user = await self._require(username)
        await self._users.set_password_hash(user.id, await self._hasher.hash(password))

    async def disable(self, username: str) -> UserRow:
        """Disable an account and revoke its tokens (live sockets close on the next
        revocation sweep)."""
        user = await self._require(username)
        await self._users.set_disabled(user.id, True)
        return user

    async def sessions(self, username: str) -> tuple[UserRow, list[tuple[TokenRow, str]]]:
        """A user's session tokens, newest first, each with its state: ``active``,
        ``expired`` or ``revoked`` (never a hash)."""
        user = await self._require(username)
        listed: list[tuple[TokenRow, str]] = []
        for row in await self._users.list_tokens(user.id):
            if row.revoked_at is not None:
                state = "revoked"
            elif self.tokens.expired(TokenTimes(row.created_at, row.last_used_at)):
                state = "expired"
            else:
                state = "active"
            listed.append((row, state))
        return user, listed

    async def revoke_sessions(self, username: str, client: str | None = None) -> int:
        """Revoke a user's tokens (only those signed in from ``client`` when given);
        their live sockets close on the next revocation sweep. How many."""
        user = await self._require(username)
        return await self._users.revoke_tokens(user.id, client)

    async def create_invite(
        self, uses: int = 1, expires_in: float | None = None, created_by: int | None = None
    ) -> str:
        """A new invite code (shown once; stored as a hash)."""
        code = secrets.token_urlsafe(12)
        expires_at = time.time() + expires_in if expires_in is not None else None
        await self._users.add_invite(hash_secret(code), uses, expires_at, created_by)
        return code

    async def _require(self, username: str) -> UserRow:
        user = await self._users.get_by_name(_nfkc(username))
        if user is None:
            raise ProtocolError(ErrorCode.USER_NOT_FOUND, f"no user named {username!r}")
        return user


def _nfkc(name: str) -> str:
    return unicodedata.normalize("NFKC", name)
