"""What a database error means for the client: the SQLSTATE behind a driver error, and the
problem response it is (`database_problem`).

Money writes run at READ COMMITTED and lock what they change in one fixed order, so lost
races are not expected; a serialization failure or deadlock that happens anyway (40001,
40P01) is answered 409 `transaction_conflict`: nothing was committed and the client may
resend the request (with the same `Idempotency-Key`).
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from bank_api.errors import (
    AppError,
    DatabaseBusy,
    DatabaseNotMigrated,
    DatabaseUnavailable,
    TransactionConflict,
)

LOST_RACE_SQLSTATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock


QUERY_CANCELED = "57014"  # e.g. the statement timeout ran out


def sqlstate(error: BaseException) -> str | None:
    """The PostgreSQL SQLSTATE behind a driver error, if there is one."""
    if not isinstance(error, DBAPIError):
        return None
    original = error.orig
    code = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    return str(code) if code else None


UNDEFINED_TABLE = "42P01"
# 08: connection exceptions; 57P01-57P03: the server is shutting down, crashed or starting;
# 53300: too many connections.
_UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})


def database_problem(error: BaseException) -> AppError | None:
    """The problem a database error is for the client (None: an error of ours, a 500).

    Lost or refused connections, a server shutting down or starting up: 503
    `database_unavailable`; a statement timeout: 503 `database_busy`; a missing table: 503
    `database_not_migrated`; a lost serialization race or a deadlock: 409."""
    state = sqlstate(error)
    original = getattr(error, "orig", None)
    if state in LOST_RACE_SQLSTATES:
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
