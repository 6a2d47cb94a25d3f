"""`Idempotency-Key` for the money-moving POSTs (public contract: docs/CONTRACT.md).

Everything happens in the money transaction itself, so nothing about a key can outlive a
request that failed, however it failed (an error, a lost connection, a database restart):

1. `claim` takes a transaction-scoped lock on (caller, key) without waiting (PostgreSQL: a
   transaction advisory lock). Held by another request: 409 `idempotency_key_in_use`. SQLite
   runs one writing transaction at a time, so a duplicate there waits for the first instead.
2. With the lock, a completed record for the key is replayed (same request) or refused (422
   `idempotency_key_reused`: another request under the same key).
3. Otherwise the use case runs, and `complete` adds the record with the response just before
   the commit: the money movement and the record commit together or not at all. A failure
   rolls both back and the lock goes with the transaction, so the client may retry with the
   same key at once.
Records are kept at least 24 hours.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bank_api.common.types import utcnow
from bank_api.errors import IdempotencyKeyInUse, IdempotencyKeyReused
from bank_api.models import IdempotencyRecord
from bank_api.retry import retrying

KEY_PATTERN = r"^[\x20-\x7e]{1,255}$"
REPLAY_HEADER = "Idempotent-Replayed"


@dataclass(frozen=True)
class Replay:
    status_code: int
    body: Any


@dataclass
class Reservation:
    user_id: uuid.UUID
    key: str
    request_hash: str
    replay: Replay | None = None


def request_hash(method: str, path: str, body: bytes) -> str:
    """Same method, path and JSON body (ignoring key order and spacing) -> same hash. A body
    that is not JSON, or nested too deeply to decode, is hashed as it was sent."""
    try:
        canonical = json.dumps(json.loads(body or b"null"), sort_keys=True, separators=(",", ":"))
    except (ValueError, RecursionError):
        canonical = body.decode("utf-8", "replace")
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


async def claim(session: AsyncSession, reservation: Reservation) -> None:
    """Lock the key for this transaction and look for its record (sets `replay`)."""
    if session.get_bind().dialect.name == "postgresql":
        name = f"idempotency:{reservation.user_id}:{reservation.key}"
        locked = await session.scalar(
            select(func.pg_try_advisory_xact_lock(func.hashtextextended(name, 0)))
        )
        if not locked:
            raise IdempotencyKeyInUse
    record = await session.get(IdempotencyRecord, (reservation.user_id, reservation.key))
    if record is None:
        return
    if record.request_hash != reservation.request_hash:
        raise IdempotencyKeyReused
    body = json.loads(record.response_body or "null")
    reservation.replay = Replay(record.status_code or 200, body)


async def complete(
    session: AsyncSession, reservation: Reservation, status_code: int, body: Any
) -> None:
    """Record the key with its response, inside the caller's (money-moving) transaction."""
    session.add(
        IdempotencyRecord(
            user_id=reservation.user_id,
            key=reservation.key,
            request_hash=reservation.request_hash,
            status_code=status_code,
            response_body=json.dumps(body, separators=(",", ":")),
            created_at=utcnow(),
        )
    )


async def idempotency_key(
    request: Request,
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key", pattern=KEY_PATTERN, description="1-255 printable characters"
        ),
    ] = None,
) -> tuple[str, str] | None:
    """(key, request hash) when the client sent an `Idempotency-Key`."""
    if key is None:
        return None
    return key, request_hash(request.method, request.url.path, await request.body())


IdempotencyKey = Annotated[tuple[str, str] | None, Depends(idempotency_key)]


@dataclass
class Idempotent:
    """Runs one money-moving use case at most once per (caller, `Idempotency-Key`), retrying
    it on a serialization failure or deadlock."""

    uow: Any
    key: tuple[str, str] | None

    async def run(
        self,
        user_id: uuid.UUID,
        render: Any,
        work: Any,
        status_code: int = 201,
        observe: Any = None,
    ) -> JSONResponse:
        """`render(result)` turns the use case's result into the JSON body; the same body is
        returned now and stored for replays. `observe(result)` runs once per fresh result
        (never for a replay), for business metrics."""
        if self.key is None:
            result = await retrying(self.uow.rollback, work)
            return self._fresh(render, result, status_code, observe)
        reservation = Reservation(user_id, *self.key)
        self.uow.reservation, self.uow.render = reservation, render
        self.uow.status_code = status_code

        async def attempt() -> Any:
            reservation.replay = None
            await claim(self.uow.session, reservation)
            if reservation.replay is not None:
                await self.uow.rollback()
                return reservation.replay
            return await work()

        result = await retrying(self.uow.rollback, attempt)
        if isinstance(result, Replay):
            return JSONResponse(
                result.body, status_code=result.status_code, headers={REPLAY_HEADER: "true"}
            )
        return self._fresh(render, result, status_code, observe)

    @staticmethod
    def _fresh(render: Any, result: Any, status_code: int, observe: Any) -> JSONResponse:
        if observe is not None:
            observe(result)
        return JSONResponse(render(result), status_code=status_code)
