"""Retry a transaction that lost a serialization race or a deadlock.

PostgreSQL answers 40001 (serialization_failure) or 40P01 (deadlock_detected) when concurrent
transactions cannot all commit; the loser can simply run again from the start. This keeps the
service correct under SERIALIZABLE isolation and on PostgreSQL-compatible distributed engines.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError

from bank_api.errors import TransactionConflict

T = TypeVar("T")
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})
ATTEMPTS = 5


QUERY_CANCELED = "57014"  # e.g. the statement timeout ran out


def sqlstate(error: BaseException) -> str | None:
    """The PostgreSQL SQLSTATE behind a driver error, if there is one."""
    if not isinstance(error, DBAPIError):
        return None
    original = error.orig
    code = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    return str(code) if code else None


def is_retryable(error: BaseException) -> bool:
    return sqlstate(error) in RETRYABLE_SQLSTATES


async def retrying(
    rollback: Callable[[], Awaitable[Any]],
    work: Callable[[], Awaitable[T]],
    attempts: int = ATTEMPTS,
) -> T:
    """`work()`, run again (after `rollback()` and a short jittered pause) while it fails with
    a retryable error; TransactionConflict when the attempts run out."""
    for attempt in range(attempts):
        try:
            return await work()
        except DBAPIError as error:
            if not is_retryable(error):
                raise
            await rollback()
            await asyncio.sleep(random.uniform(0, 0.005 * 2**attempt))  # noqa: S311
    raise TransactionConflict
