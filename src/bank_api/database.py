"""Async engine and session factory for PostgreSQL (asyncpg) and the embedded SQLite default."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, MutableMapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bank_api.config import Settings
from bank_api.pooling import FairQueuePool

SQLITE_BUSY_TIMEOUT_MS = 30_000


def migrations_dir() -> Path:
    """`alembic/` of a source checkout, or the copy packaged inside the wheel."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "migrations", package.parents[1] / "alembic"):
        if (candidate / "env.py").is_file():
            return candidate
    raise SystemExit("migrations not found: run from a source checkout or an installed wheel")


def head_revision() -> str | None:
    """The schema revision this code needs (the newest migration)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(migrations_dir())).get_current_head()


async def schema_revision(connection: AsyncConnection) -> str | None:
    """The revision the database is at; None when it has no schema at all."""
    from bank_api.db_errors import database_problem
    from bank_api.errors import DatabaseNotMigrated

    try:
        revision: str | None = await connection.scalar(
            text("SELECT version_num FROM alembic_version")
        )
    except DBAPIError as error:
        if isinstance(database_problem(error), DatabaseNotMigrated):
            return None
        raise
    return revision


def create_engine(settings: Settings) -> AsyncEngine:
    return _sqlite_engine(settings) if settings.is_sqlite else _postgres_engine(settings)


def _postgres_engine(settings: Settings, *, autocommit: bool = False) -> AsyncEngine:
    engine = create_async_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        poolclass=FairQueuePool,  # waiting requests served in the order they came
        hide_parameters=True,  # error messages never carry the values (hashes, tokens)
        connect_args=_connect_args(settings),
        **({"isolation_level": "AUTOCOMMIT"} if autocommit else {}),
    )

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        """A pooled connection whose server went away is replaced before use, for free.

        asyncpg notices a closed socket on its own (a restarted or stopped server closes it),
        so this costs no round trip, where `pool_pre_ping` sends three on every checkout
        (BEGIN, an empty query, ROLLBACK). A connection lost without a close is found by the
        first statement, answered 503 `database_unavailable`, and dropped from the pool."""
        if dbapi_connection.driver_connection.is_closed():
            raise DisconnectionError

    return engine


def _connect_args(settings: Settings) -> dict[str, Any]:
    """asyncpg's connection arguments. Direct to PostgreSQL: the statement timeout, time zone
    and application name as startup parameters, and prepared statements cached per connection.

    Behind a pooler in transaction mode (`BANK_API_DB_POOLER=transaction`) a client connection
    meets a different server connection in every transaction, so nothing may outlive one:
    prepared statements are not cached (asyncpg's cache and SQLAlchemy's both off) and each gets
    a name of its own, so two server connections never see the same name twice; and only the
    startup parameters PgBouncer passes on are sent (the statement timeout is the pooler's
    `connect_query` or the database role's setting). Advisory locks are transaction-scoped
    everywhere already (`pg_advisory_xact_lock`, `pg_try_advisory_xact_lock`)."""
    server_settings = {"timezone": "UTC", "application_name": "bank-api"}
    args: dict[str, Any] = {"timeout": settings.db_connect_timeout_seconds}
    if settings.db_pooler == "transaction":
        args |= {
            "statement_cache_size": 0,
            "prepared_statement_cache_size": 0,
            "prepared_statement_name_func": _statement_name,
        }
    else:
        server_settings["statement_timeout"] = str(settings.db_statement_timeout_ms)
    return args | {"server_settings": server_settings}


def _statement_name() -> str:
    return f"__bank_api_{uuid.uuid4().hex}__"


def _sqlite_engine(settings: Settings) -> AsyncEngine:
    """SQLite with WAL and every transaction opened as `BEGIN IMMEDIATE`.

    A deferred transaction that reads and then writes cannot wait for the write lock (SQLite
    answers "database is locked" at once to avoid a deadlock). Taking the write lock at BEGIN
    makes concurrent requests queue on `busy_timeout` instead, one writer at a time, which is
    the embedded database's honest capacity.
    """
    engine = create_async_engine(
        settings.database_url,
        hide_parameters=True,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        for pragma in (
            "PRAGMA journal_mode=WAL",
            f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
            "PRAGMA foreign_keys=ON",
            "PRAGMA synchronous=NORMAL",
        ):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


SessionMaker = async_sessionmaker[AsyncSession]


def create_sessionmaker(engine: AsyncEngine) -> SessionMaker:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def create_read_engine(engine: AsyncEngine, settings: Settings) -> AsyncEngine:
    """The engine for reads outside any transaction (no BEGIN, no ROLLBACK go to the server).

    Reaching PostgreSQL directly, a pool of its own whose connections are in autocommit for
    good. Derived from `engine` with `execution_options(isolation_level=...)` it would share
    its pool, and every checkout would switch the connection to autocommit and every return
    switch it back: 215,000 to 280,000 instructions a read request (docs/DECISIONS.md, "Reads on a
    pool of their own"). SQLite keeps the derived engine (one file, one embedded pool).

    Behind a pooler in transaction mode a read outside a transaction is no unit for the pooler:
    asyncpg prepares a statement and executes it in two exchanges, which may reach two different
    server connections (the second finds no such statement, SQLSTATE 26000). There, reads run
    in a transaction like everything else, on `engine` itself."""
    if settings.db_pooler == "transaction":
        return engine
    if settings.is_sqlite:
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    return _postgres_engine(settings, autocommit=True)


def engines_apart(engine: AsyncEngine, read_engine: AsyncEngine) -> tuple[AsyncEngine, ...]:
    """The engines with a pool of their own: `read_engine` may be `engine`, or share its pool
    (and then its events too)."""
    return (engine,) if read_engine.pool is engine.pool else (engine, read_engine)


async def dispose_engines(engine: AsyncEngine, read_engine: AsyncEngine) -> None:
    """Close every pool's connections."""
    for each in engines_apart(engine, read_engine):
        await each.dispose()


def create_read_sessionmaker(read_engine: AsyncEngine) -> SessionMaker:
    """Sessions for the read-only routes whose answer is one statement (or statements that
    need no common snapshot), on `create_read_engine`'s engine."""
    return async_sessionmaker(read_engine, expire_on_commit=False, autoflush=False)


Reader = Callable[[], AbstractAsyncContextManager[AsyncConnection]]


def create_reader(read_engine: AsyncEngine) -> Reader:
    """Connections for single reads outside any transaction (`create_read_engine`)."""

    @asynccontextmanager
    async def reader() -> AsyncIterator[AsyncConnection]:
        async with read_engine.connect() as connection:
            yield connection

    return reader


_REQUEST_SESSIONS = "bank_api.sessions"  # keys in the ASGI scope
_REQUEST_READER = "bank_api.reader"
_REQUEST_WRITES = "bank_api.writes"


def _request_session(scope: MutableMapping[str, Any], session: AsyncSession) -> AsyncSession:
    """`session`, closed by :func:`close_request_sessions` when the request's answer is about
    to be sent (`RequestContextMiddleware` calls it, however the request ended).

    Not a dependency that yields: FastAPI runs the exit of every such dependency in a task of
    its own, shielded from cancellation, which on this machine cost about a tenth of a small
    request's CPU (docs/DECISIONS.md, "Request cost")."""
    scope.setdefault(_REQUEST_SESSIONS, []).append(session)
    return session


async def request_session(scope: MutableMapping[str, Any], maker: SessionMaker) -> AsyncSession:
    """A session for the request's use case (it may write). The connection the request kept
    for reading goes back to the pool first, and none is kept after it (`request_reading`), so
    a request never holds two connections at once."""
    await release_reader(scope)
    scope[_REQUEST_WRITES] = True
    return _request_session(scope, maker())


def request_read_session(scope: MutableMapping[str, Any], maker: SessionMaker) -> AsyncSession:
    """A session for the request's reads (`maker` makes them outside any transaction), on the
    connection the request kept from reading its caller, if it did."""
    kept = scope.get(_REQUEST_READER)
    return _request_session(scope, maker() if kept is None else maker(bind=kept[0]))


@asynccontextmanager
async def request_reading(
    scope: MutableMapping[str, Any], reader: Reader
) -> AsyncIterator[AsyncConnection]:
    """A connection for a read outside any transaction (the caller's), kept after it for the
    request's read session (`request_read_session`): a read request then checks out one
    connection from the pool, not two. A request with a session for writes keeps none: the
    connection goes back to the pool after the read."""
    if scope.get(_REQUEST_WRITES):
        async with reader() as connection:
            yield connection
        return
    kept = scope.get(_REQUEST_READER)
    if kept is None:
        manager = reader()
        kept = scope[_REQUEST_READER] = (await manager.__aenter__(), manager)
    yield kept[0]


async def release_reader(scope: MutableMapping[str, Any]) -> None:
    """Give the connection the request kept for reading back to the pool, if it kept one."""
    kept = scope.pop(_REQUEST_READER, None)
    if kept is not None:
        await kept[1].__aexit__(None, None, None)


async def close_request_sessions(scope: MutableMapping[str, Any]) -> None:
    """Close the request's sessions: a transaction left open (no commit) is rolled back and
    its connection goes back to the pool, and so does the connection the request kept for
    reading. Each is closed even if closing another failed.

    Not shielded from cancellation as FastAPI shields its own exits: uvicorn does not cancel a
    request whose client went away (the request runs to its end); a request cancelled at
    shutdown may leave its connection to the pool's garbage collection as the process ends."""
    failed: Exception | None = None
    for session in scope.pop(_REQUEST_SESSIONS, ()):
        try:
            await session.close()
        except Exception as exc:  # the others are closed first, then it is raised
            failed = failed or exc
    try:
        await release_reader(scope)  # after the session that may have read on it
    except Exception as exc:
        failed = failed or exc
    if failed is not None:
        raise failed
