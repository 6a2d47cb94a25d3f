"""Async engine and session factory for PostgreSQL (asyncpg) and the embedded SQLite default."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
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


def _postgres_engine(settings: Settings) -> AsyncEngine:
    engine = create_async_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        hide_parameters=True,  # error messages never carry the values (hashes, tokens)
        connect_args={
            "timeout": settings.db_connect_timeout_seconds,
            "server_settings": {
                "statement_timeout": str(settings.db_statement_timeout_ms),
                "timezone": "UTC",
                "application_name": "bank-api",
            },
        },
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


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def create_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for the read-only routes whose answer is one statement (or statements that
    need no common snapshot): autocommit, so no BEGIN and no ROLLBACK go to the server."""
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    return async_sessionmaker(autocommit, expire_on_commit=False, autoflush=False)


Reader = Callable[[], AbstractAsyncContextManager[AsyncConnection]]


def create_reader(engine: AsyncEngine) -> Reader:
    """Connections for single reads outside any transaction (no BEGIN, no ROLLBACK)."""
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")

    @asynccontextmanager
    async def reader() -> AsyncIterator[AsyncConnection]:
        async with autocommit.connect() as connection:
            yield connection

    return reader
