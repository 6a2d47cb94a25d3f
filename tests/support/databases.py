"""The test databases: which backends run, how each is created, and how a test is isolated.

Every test that asks for `backend` runs once on the embedded SQLite database and once on
PostgreSQL (`BANK_API_TEST_DATABASE_URL`, default the local server) when it is reachable.
Each backend's database is created fresh and migrated once with `alembic upgrade head`, which
tests the migrations too.

Isolation: by default a test's app runs inside one outer transaction on one connection that
is rolled back afterwards; every session the app opens joins it through a savepoint, so a
use case's `commit()` releases a savepoint and nothing reaches the database. Tests marked
`real_commits` (concurrent requests, locks held by other connections, statement timeouts)
get a normal pool and real commits, and the tables are emptied afterwards.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
from fastapi import FastAPI
from sqlalchemy import delete, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker

from bank_api.config import Settings
from bank_api.models import Base

PG_URL = os.environ.get(
    "BANK_API_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/bank_api_test"
)
REQUIRE_PG = os.environ.get("BANK_API_TEST_REQUIRE_POSTGRES", "") not in ("", "0", "false")
TEST_SECRET = "test-signing-key-" + "x" * 32


def worker_url(url: str) -> str:
    """Each pytest-xdist worker gets its own PostgreSQL database (`<name>_gw0`, ...)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    u = make_url(url)
    return u.set(database=f"{u.database}_{worker}").render_as_string(hide_password=False)


def _connect_args(url: str) -> dict[str, Any]:
    u = make_url(url)
    return {
        "host": u.host,
        "port": u.port or 5432,
        "user": u.username,
        "password": u.password,
        "database": "postgres",
    }


async def pg_problem(url: str) -> str | None:
    """Why PostgreSQL at `url` cannot be used, or None when it answers."""
    try:
        conn = await asyncpg.connect(**_connect_args(url), timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"{type(exc).__name__}: {exc}"
    await conn.close()
    return None


async def recreate_pg_database(url: str) -> None:
    name = make_url(url).database
    conn = await asyncpg.connect(**_connect_args(url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def scratch_database(backend: str, tmp_path: Path, name: str) -> str:
    """A URL of a new, empty database `name` beside the test's own (a file for SQLite; on
    PostgreSQL `<test database>_<name>`, dropped and re-created)."""
    if backend.startswith("sqlite"):
        return f"sqlite+aiosqlite:///{tmp_path / f'{name}.db'}"
    url = make_url(backend)
    scratch = url.set(database=f"{url.database}_{name}").render_as_string(hide_password=False)
    await recreate_pg_database(scratch)
    return scratch


def settings_for(database_url: str, **overrides: Any) -> Settings:
    """Fast argon2 parameters; everything else as in production unless overridden."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "environment": "test",
        "jwt_secret": TEST_SECRET,
        "argon2_time_cost": 1,
        "argon2_memory_kib": 1024,
        "argon2_parallelism": 1,
        "hash_concurrency": 4,
        "gc_freeze": False,  # each test builds an app; freezing would keep every test's garbage
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


# Reference data seeded by the migrations: restored to its migrated state after a committing test.
REFERENCE_TABLES = ("loan_product",)
_reference_rows: dict[str, dict[str, list[dict[str, Any]]]] = {}


async def snapshot_reference_data(app: FastAPI, url: str) -> None:
    if url in _reference_rows:
        return
    async with app.state.engine.connect() as conn:
        _reference_rows[url] = {
            name: [
                dict(row._mapping) for row in await conn.execute(select(Base.metadata.tables[name]))
            ]
            for name in REFERENCE_TABLES
        }


async def empty_tables(app: FastAPI, url: str) -> None:
    async with app.state.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                await conn.execute(delete(table))
        for name, rows in _reference_rows[url].items():
            await conn.execute(Base.metadata.tables[name].insert(), rows)


@asynccontextmanager
async def rolled_back(app: FastAPI) -> AsyncIterator[None]:
    """Run the app on one connection inside a transaction that is rolled back at the end."""
    original = app.state.sessionmaker, app.state.read_sessionmaker, app.state.reader
    async with app.state.engine.connect() as connection:
        outer = await connection.begin()
        app.state.sessionmaker = async_sessionmaker(
            bind=connection,
            expire_on_commit=False,
            autoflush=False,
            join_transaction_mode="create_savepoint",
        )
        app.state.read_sessionmaker = app.state.sessionmaker

        @asynccontextmanager
        async def reader() -> AsyncIterator[AsyncConnection]:
            yield connection  # reads inside the test's transaction see its rows

        app.state.reader = reader
        try:
            yield
        finally:
            app.state.sessionmaker, app.state.read_sessionmaker, app.state.reader = original
            await outer.rollback()


@asynccontextmanager
async def isolated_app(
    url: str, settings: Settings, *, real_commits: bool
) -> AsyncIterator[FastAPI]:
    """A started app on `url`, isolated from the next test as the module docstring says."""
    from bank_api.main import create_app

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await snapshot_reference_data(app, url)
        if real_commits:
            try:
                yield app
            finally:
                await empty_tables(app, url)
        else:
            async with rolled_back(app):
                yield app
