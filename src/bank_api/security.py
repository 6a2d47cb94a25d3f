"""Every piece of token and password code lives here.

Tokens: JWT signed with HS256 only. The algorithm is fixed here and never read from the token,
so `alg: none` or an RS256/HS256 confusion cannot be accepted. A token carries the version of
the credentials it was issued for (`cv`: the user's `tokens_valid_after`, read together with
the password hash that was verified); a password change or a disable moves that instant, so
every token issued for the old credentials is refused, including one whose login was still
hashing when the change committed.

Refresh tokens (front ends' sessions) are opaque random strings, stored only as their SHA-256:
:func:`new_refresh_token` makes one, :func:`refresh_token_hash` is how it is looked up.

Passwords: argon2id through passlib's `CryptContext` (libpass). Hashing and verification run in
a dedicated pool of `hash_concurrency` threads at lowered CPU priority, so a burst of logins
never stalls the event loop: argon2 waits for spare CPU, requests do not wait for argon2.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
import os
import secrets
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from jose import JWTError, jwt
from passlib.context import CryptContext

from bank_api.config import Settings
from bank_api.errors import HashingBusy, NotAuthenticated

ALGORITHM = "HS256"
MAX_TIMESTAMP = 253_402_300_799  # 9999-12-31T23:59:59Z
_REQUIRED_CLAIMS = ("sub", "role", "iat", "exp", "jti", "cv")
_NUMERIC_CLAIMS = ("iat", "exp", "nbf")


def _finite_number(value: object) -> bool:
    """A JSON number a clock can hold: not a boolean, not NaN or ±Infinity (`1e400` reads as
    infinity), within the years a datetime can represent."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and abs(value) < MAX_TIMESTAMP


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int


@dataclass(frozen=True)
class TokenClaims:
    user_id: uuid.UUID
    role: str
    credentials_version: int


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def credentials_version(valid_after: datetime) -> int:
    """The credentials' version as exact microseconds since the epoch."""
    return (valid_after - _EPOCH) // timedelta(microseconds=1)


def revoked(claims: TokenClaims, valid_after: datetime) -> bool:
    """Issued for other credentials than the user's current ones."""
    return claims.credentials_version != credentials_version(valid_after)


VERIFIED_TOKENS_KEPT = 4096
REFRESH_TOKEN_BYTES = 32


def refresh_token_hash(token: str) -> str:
    """How a refresh token is stored and found: its SHA-256 in hex (the token is 256 random
    bits, so a plain hash is enough; nothing a client sends is stored as it came)."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_refresh_token() -> tuple[str, str]:
    """A new opaque refresh token and its stored hash."""
    token = secrets.token_urlsafe(REFRESH_TOKEN_BYTES)
    return token, refresh_token_hash(token)


class TokenService:
    def __init__(self, settings: Settings) -> None:
        self._key = settings.signing_key
        self._lifetime = settings.access_token_minutes * 60
        # Tokens whose signature and claims were verified, with their expiry: a client sends
        # the same token on every request, and checking the signature again proves nothing new.
        # Bounded, oldest first out; expiry is checked on every use. Revocation does not depend
        # on it (the caller's credentials are read from the database on every request).
        self._verified: dict[str, tuple[TokenClaims, float]] = {}

    def issue(self, user_id: uuid.UUID, role: str, valid_after: datetime) -> IssuedToken:
        """A token for the credentials that have been valid since `valid_after`."""
        now = int(time.time())
        claims = {
            "sub": str(user_id),
            "role": role,
            "iat": now,
            "exp": now + self._lifetime,
            "jti": uuid.uuid4().hex,
            "cv": credentials_version(valid_after),
        }
        return IssuedToken(jwt.encode(claims, self._key, algorithm=ALGORITHM), self._lifetime)

    def decode(self, token: str) -> TokenClaims:
        """Verified claims, or NotAuthenticated for anything wrong with the token."""
        known = self._verified.get(token)
        if known is None:
            known = self._verify(token)
            if len(self._verified) >= VERIFIED_TOKENS_KEPT:
                del self._verified[next(iter(self._verified))]
            self._verified[token] = known
        claims, expires = known
        if expires < time.time():  # as the JWT library judges `exp` (no leeway)
            self._verified.pop(token, None)
            raise NotAuthenticated
        return claims

    def _verify(self, token: str) -> tuple[TokenClaims, float]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                options={"require_" + name: True for name in ("sub", "iat", "exp", "jti")},
            )
            if any(name not in claims for name in _REQUIRED_CLAIMS):
                raise NotAuthenticated
            if not all(_finite_number(claims.get(name, 0)) for name in _NUMERIC_CLAIMS):
                raise NotAuthenticated
            version = claims["cv"]
            if isinstance(version, bool) or not isinstance(version, int):
                raise NotAuthenticated
            user = TokenClaims(uuid.UUID(str(claims["sub"])), str(claims["role"]), version)
            return user, float(claims["exp"])
        except (JWTError, ValueError, TypeError, AttributeError, OverflowError, RecursionError):
            raise NotAuthenticated from None


HASH_THREAD_NICENESS = 10


def _lower_thread_priority() -> None:
    """Linux applies `nice` per thread; elsewhere this is a no-op."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASH_THREAD_NICENESS)


class PasswordHasher:
    """argon2id hashing off the event loop, at most `hash_concurrency` at once."""

    def __init__(self, settings: Settings) -> None:
        self._context = CryptContext(
            schemes=["argon2"],
            argon2__type="ID",
            argon2__rounds=settings.argon2_time_cost,
            argon2__memory_cost=settings.argon2_memory_kib,
            argon2__parallelism=settings.argon2_parallelism,
        )
        # A slot per hashing thread, waited for at most `hash_wait_ms`: past that the caller
        # is told to come back (HashingBusy) rather than queue behind a burst for seconds.
        self._slots = asyncio.Semaphore(settings.hash_concurrency)
        self._wait = settings.hash_wait_ms / 1000
        self._executor = ThreadPoolExecutor(
            max_workers=settings.hash_concurrency,
            thread_name_prefix="argon2",
            initializer=_lower_thread_priority,
        )
        self._dummy_hash: str | None = None

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _run(self, fn: Any, *args: str) -> Any:
        try:
            await asyncio.wait_for(self._slots.acquire(), self._wait)
        except TimeoutError:
            raise HashingBusy from None
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        finally:
            self._slots.release()

    async def hash(self, password: str) -> str:
        result: str = await self._run(self._context.hash, password)
        return result

    async def verify(self, password: str, password_hash: str | None) -> tuple[bool, str | None]:
        """(matches, new hash if the stored one uses outdated parameters).

        With no stored hash (unknown user) a dummy hash is verified instead, so the answer
        takes as long as for a real user with a wrong password.
        """
        if password_hash is None:
            await self._run(self._context.verify, password, await self._dummy())
            return False, None
        matches, new_hash = await self._run(
            self._context.verify_and_update, password, password_hash
        )
        return bool(matches), new_hash

    async def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash(uuid.uuid4().hex)
        return self._dummy_hash
