"""`Idempotency-Key` for the money-moving POSTs (public contract: docs/CONTRACT.md).

A guard around one route, in the money transaction itself, so nothing about a key can outlive
a request that failed, however it failed (an error, a lost connection, a database restart):

1. `replay()` runs first, one statement: it takes a transaction-scoped lock on (caller, key)
   without waiting (PostgreSQL: a transaction advisory lock; held by another request: 409
   `idempotency_key_in_use`; SQLite runs one writing transaction at a time, so a duplicate
   there waits for the first instead) and looks for the key's record: the same request gets
   the stored response back (`Idempotent-Replayed: true`), another request under the same key
   422 `idempotency_key_reused`.
2. Otherwise the route runs its use case and builds its response, and `commit(body)` adds the
   record with exactly that response and commits: the money movement and the record commit
   together or not at all. A failure rolls both back and the lock goes with the transaction,
   so the client may retry with the same key at once.

The record's primary key (caller, key) is the guard that cannot fail; the lock only turns a
duplicate in flight into an early 409 instead of a second run of the use case. The lookup
reads the snapshot its statement started with, so a first request that commits between that
snapshot and the lock being granted is not seen: the second then runs its use case, and its
record meets the first's on the key, which rolls it back whole and answers 409
`idempotency_key_in_use` (a retry gets the stored response).

Records are kept at least 24 hours: `bank-api idempotency purge` (:func:`purge`) deletes older
ones, never younger than that.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any, cast

from fastapi import Depends, Header, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import String, bindparam, delete, func, insert, literal_column, select, tuple_
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bank_api.common.bulk import is_postgres
from bank_api.common.types import utcnow
from bank_api.dependencies import UoWDep, caller_of
from bank_api.errors import IdempotencyKeyInUse, IdempotencyKeyReused
from bank_api.models import IdempotencyRecord
from bank_api.models.base import table_of
from bank_api.uow import UnitOfWork

KEY_PATTERN = r"^[\x20-\x7e]{1,255}$"
RETENTION = timedelta(hours=24)
"""The least time a record is kept (the contract's promise): a purge never goes below it."""
REPLAY_HEADER = "Idempotent-Replayed"
JSON = "application/json"
RECORDS = table_of(IdempotencyRecord)  # Core statements: no ORM machinery for these rows
# Built once (their cache keys too): every money write sends them.
_OWN_KEY = (RECORDS.c.user_id == bindparam("user_id")) & (RECORDS.c.key == bindparam("key"))
_STORED = select(RECORDS.c.request_hash, RECORDS.c.status_code, RECORDS.c.response_body).where(
    _OWN_KEY
)
# PostgreSQL: the claim and the lookup in one round trip (one row, with or without a record).
_CLAIMED = func.pg_try_advisory_xact_lock(
    func.hashtextextended(bindparam("name", type_=String()), 0)
)
_CLAIM_AND_STORED = select(
    _CLAIMED, RECORDS.c.request_hash, RECORDS.c.status_code, RECORDS.c.response_body
).select_from(select(literal_column("1")).subquery("one").outerjoin(RECORDS, _OWN_KEY))
_RECORD = insert(RECORDS)


def request_hash(method: str, path: str, body: bytes) -> str:
    """Same method, path and JSON body (ignoring key order and spacing) -> same hash. A body
    that is not JSON, or nested too deeply to decode, is hashed as it was sent."""
    try:
        canonical = json.dumps(json.loads(body or b"null"), sort_keys=True, separators=(",", ":"))
    except (ValueError, RecursionError):
        canonical = body.decode("utf-8", "replace")
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


class Idempotency:
    """The guard of one request: `replay()` before the use case, `commit(body)` after it."""

    def __init__(
        self, uow: UnitOfWork, caller: uuid.UUID, key: str | None, fingerprint: str
    ) -> None:
        self.uow = uow
        self.caller = caller
        self.key = key
        self.fingerprint = fingerprint

    async def replay(self) -> Response | None:
        """Claim the key for this transaction; the stored response if it was already used."""
        if self.key is None:
            return None
        session = self.uow.session
        own = {"user_id": self.caller, "key": self.key}
        if is_postgres(session):
            name = f"idempotency:{self.caller}:{self.key}"
            claimed, *stored = (
                await session.execute(_CLAIM_AND_STORED, own | {"name": name})
            ).one()
            if not claimed:
                raise IdempotencyKeyInUse
        else:
            stored = list((await session.execute(_STORED, own)).first() or (None, None, None))
        fingerprint, status_code, body = stored
        if fingerprint is None:
            return None
        if fingerprint != self.fingerprint:
            raise IdempotencyKeyReused
        return Response(
            body or "null",
            status_code=status_code or 200,
            media_type=JSON,
            headers={REPLAY_HEADER: "true"},
        )

    async def commit(self, body: BaseModel, status_code: int = 201) -> Response:
        """Store the response with the key (when there is one), commit, and answer it."""
        content = body.model_dump_json()
        if self.key is not None:
            record = {
                "user_id": self.caller,
                "key": self.key,
                "request_hash": self.fingerprint,
                "status_code": status_code,
                "response_body": content,
                "created_at": utcnow(),
            }
            try:
                await self.uow.session.execute(_RECORD, record)
            except IntegrityError as error:  # the key's first request committed meanwhile
                raise IdempotencyKeyInUse from error
        await self.uow.commit()
        return Response(content, status_code=status_code, media_type=JSON)


async def idempotency(
    request: Request,
    uow: UoWDep,
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key", pattern=KEY_PATTERN, description="1-255 printable characters"
        ),
    ] = None,
) -> Idempotency:
    fingerprint = (
        "" if key is None else request_hash(request.method, request.url.path, await request.body())
    )
    return Idempotency(uow, (await caller_of(request)).id, key, fingerprint)


IdempotencyDep = Annotated[Idempotency, Depends(idempotency)]


async def purge(
    sessions: async_sessionmaker[AsyncSession],
    older_than: timedelta = RETENTION,
    *,
    batch: int = 5_000,
    now: datetime | None = None,
) -> int:
    """Delete the records created more than `older_than` ago (never less than
    :data:`RETENTION`), `batch` at a time, each batch its own short transaction so money writes
    are never held up; how many were deleted. A key purged this way may be used again, as a new
    request: that is what "kept at least 24 hours" allows."""
    if older_than < RETENTION:
        raise ValueError(f"idempotency records are kept at least {RETENTION}")
    before = (now or utcnow()) - older_than
    oldest = (
        select(RECORDS.c.user_id, RECORDS.c.key)
        .where(RECORDS.c.created_at < before)
        .order_by(RECORDS.c.created_at)
        .limit(batch)
    )
    doomed = delete(RECORDS).where(tuple_(RECORDS.c.user_id, RECORDS.c.key).in_(oldest))
    deleted = 0
    while True:
        async with sessions() as session, session.begin():
            result = cast(CursorResult[Any], await session.execute(doomed))
            count = int(result.rowcount)
        deleted += count
        if count < batch:
            return deleted
