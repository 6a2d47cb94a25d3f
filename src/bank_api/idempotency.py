"""`Idempotency-Key` for the money-moving POSTs (SPEC §3).

1. `reserve` (its own short transaction): record (caller, key, request hash) as in flight, or
   find the existing record: completed with the same request -> replay its response; another
   request under the same key -> 422 `idempotency_key_reused`; still in flight -> 409
   `idempotency_key_in_use` (a reservation older than `STALE_AFTER` is taken over: its request
   died before committing anything).
2. The money movement and the completion of the record (status and response body) commit in
   one transaction (`UnitOfWork.commit(replay=...)`), so a key can never have moved money
   without being completed, or the other way round.
3. If the work fails, `release` deletes the reservation so the client may retry.
Records are kept at least 24 hours.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bank_api.common.types import utcnow
from bank_api.errors import IdempotencyKeyInUse, IdempotencyKeyReused
from bank_api.models import IdempotencyRecord
from bank_api.retry import retrying

STALE_AFTER = timedelta(minutes=5)
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


async def reserve(
    sessionmaker: async_sessionmaker[AsyncSession], user_id: uuid.UUID, key: str, digest: str
) -> Reservation:
    reservation = Reservation(user_id, key, digest)
    for _ in range(2):
        async with sessionmaker() as session:
            record = await session.get(IdempotencyRecord, (user_id, key), with_for_update=True)
            if record is None:
                session.add(
                    IdempotencyRecord(
                        user_id=user_id, key=key, request_hash=digest, created_at=utcnow()
                    )
                )
                try:
                    await session.commit()
                except IntegrityError:
                    continue  # a concurrent request reserved it first: look again
                return reservation
            if record.request_hash != digest:
                raise IdempotencyKeyReused
            if record.status_code is not None:
                reservation.replay = Replay(
                    record.status_code, json.loads(record.response_body or "null")
                )
                return reservation
            if utcnow() - record.created_at < STALE_AFTER:
                raise IdempotencyKeyInUse
            record.created_at = utcnow()  # abandoned by a request that died: take it over
            await session.commit()
            return reservation
    raise IdempotencyKeyInUse


async def release(sessionmaker: async_sessionmaker[AsyncSession], reservation: Reservation) -> None:
    async with sessionmaker() as session:
        await session.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.user_id == reservation.user_id,
                IdempotencyRecord.key == reservation.key,
                IdempotencyRecord.status_code.is_(None),
            )
        )
        await session.commit()


async def complete(
    session: AsyncSession, reservation: Reservation, status_code: int, body: Any
) -> None:
    """Mark the key done with its response, inside the caller's (money-moving) transaction."""
    record = (
        await session.execute(
            select(IdempotencyRecord).where(
                IdempotencyRecord.user_id == reservation.user_id,
                IdempotencyRecord.key == reservation.key,
            )
        )
    ).scalar_one()
    record.status_code = status_code
    record.response_body = json.dumps(body, separators=(",", ":"))


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
    sessionmaker: async_sessionmaker[AsyncSession]
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
        # The reservation is its own transaction: end the request's (read-only so far) one
        # first, or on SQLite, where every transaction holds the write lock, the two would
        # wait on each other.
        await self.uow.rollback()
        reservation = await reserve(self.sessionmaker, user_id, *self.key)
        if reservation.replay is not None:
            return JSONResponse(
                reservation.replay.body,
                status_code=reservation.replay.status_code,
                headers={REPLAY_HEADER: "true"},
            )
        self.uow.reservation, self.uow.render = reservation, render
        self.uow.status_code = status_code
        try:
            result = await retrying(self.uow.rollback, work)
        except BaseException:
            await self.uow.rollback()
            await release(self.sessionmaker, reservation)
            raise
        return self._fresh(render, result, status_code, observe)

    @staticmethod
    def _fresh(render: Any, result: Any, status_code: int, observe: Any) -> JSONResponse:
        if observe is not None:
            observe(result)
        return JSONResponse(render(result), status_code=status_code)
