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

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from bank_api.errors import (
    AppError,
    DatabaseBusy,
    DatabaseNotMigrated,
    DatabaseUnavailable,
    TransactionConflict,
)

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


UNDEFINED_TABLE = "42P01"
# 08: connection exceptions; 57P01-57P03: the server is shutting down, crashed or starting;
# 53300: too many connections.
_UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})


def database_problem(error: BaseException) -> AppError | None:
    """The problem a database error is for the client (None: an error of ours, a 500).

    Lost or refused connections, a server shutting down or starting up: 503
    `database_unavailable`; a statement timeout: 503 `database_busy`; a missing table: 503
    `database_not_migrated`; a lost serialization race outside the retrying paths: 409."""
    state = sqlstate(error)
    original = getattr(error, "orig", None)
    if state in RETRYABLE_SQLSTATES:
        return TransactionConflict()
    if state == QUERY_CANCELED:
        return DatabaseBusy()
    if state == UNDEFINED_TABLE or "no such table" in str(original or ""):
        return DatabaseNotMigrated()
    if (
        (state is not None and (state.startswith("08") or state in _UNAVAILABLE_SQLSTATES))
        or isinstance(error, OperationalError | InterfaceError | PoolTimeout | OSError)
        or isinstance(original, OSError)
        or _lost_connection(original)
    ):
        return DatabaseUnavailable()
    return None


def _lost_connection(original: object) -> bool:
    """asyncpg's errors for a connection that is closed or was closed under it."""
    name = type(original).__name__
    return name in {"ConnectionDoesNotExistError", "InterfaceError", "InternalClientError"} or (
        "connection" in str(original).lower() and "closed" in str(original).lower()
    )


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
