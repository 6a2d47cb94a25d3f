"""Test databases and clients.

Every test that asks for `backend` runs once on the embedded SQLite database and once on
PostgreSQL (`BANK_API_TEST_DATABASE_URL`, default the local server) when it is reachable.
With `BANK_API_TEST_REQUIRE_POSTGRES=1` (CI) an unreachable PostgreSQL is an error, not a skip.
Each backend's database is created fresh and migrated once with `alembic upgrade head`, which
tests the migrations too; tables are emptied after every test.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, select, text
from sqlalchemy.engine import make_url

from bank_api.cli import upgrade
from bank_api.config import Settings
from bank_api.main import create_app
from bank_api.models import Base
from tests.helpers import Api

PG_URL = os.environ.get(
    "BANK_API_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/bank_api_test"
)
REQUIRE_PG = os.environ.get("BANK_API_TEST_REQUIRE_POSTGRES", "") not in ("", "0", "false")
TEST_SECRET = "test-signing-key-" + "x" * 32


async def _pg_reachable(url: str) -> str | None:
    u = make_url(url)
    try:
        conn = await asyncpg.connect(
            host=u.host,
            port=u.port or 5432,
            user=u.username,
            password=u.password,
            database="postgres",
            timeout=3,
        )
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"{type(exc).__name__}: {exc}"
    await conn.close()
    return None


def pytest_configure(config: pytest.Config) -> None:
    problem = asyncio.run(_pg_reachable(PG_URL))
    if problem and REQUIRE_PG:
        raise pytest.UsageError(f"PostgreSQL is required but unreachable at {PG_URL}: {problem}")
    config.stash[_BACKENDS] = ["sqlite"] if problem else ["sqlite", "postgresql"]
    config.stash[_PG_PROBLEM] = problem


_BACKENDS = pytest.StashKey[list[str]]()
_PG_PROBLEM = pytest.StashKey[str | None]()


def pytest_report_header(config: pytest.Config) -> str:
    problem = config.stash[_PG_PROBLEM]
    return f"backends: {', '.join(config.stash[_BACKENDS])}" + (
        f" (PostgreSQL skipped: {problem})" if problem else ""
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        backends = metafunc.config.stash[_BACKENDS]
        if metafunc.definition.get_closest_marker("postgres_only"):
            backends = [b for b in backends if b == "postgresql"]
        if metafunc.definition.get_closest_marker("sqlite_only"):
            backends = [b for b in backends if b == "sqlite"]
        metafunc.parametrize("backend", backends, indirect=True, scope="session")


async def _recreate_pg_database(url: str) -> None:
    u = make_url(url)
    conn = await asyncpg.connect(
        host=u.host, port=u.port or 5432, user=u.username, password=u.password, database="postgres"
    )
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{u.database}"')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The migrated database URL for this backend."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'bank_api_test.db'}"
    else:
        url = PG_URL
        asyncio.run(_recreate_pg_database(url))
    upgrade(url)
    return url


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


# Reference data seeded by the migrations: restored to its migrated state after every test.
REFERENCE_TABLES = ("loan_product",)
_reference_rows: dict[str, dict[str, list[dict[str, Any]]]] = {}


async def _snapshot_reference_data(app: FastAPI, url: str) -> None:
    if url in _reference_rows:
        return
    async with app.state.engine.connect() as conn:
        _reference_rows[url] = {
            name: [
                dict(row._mapping) for row in await conn.execute(select(Base.metadata.tables[name]))
            ]
            for name in REFERENCE_TABLES
        }


async def _empty_tables(app: FastAPI, url: str) -> None:
    async with app.state.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                await conn.execute(delete(table))
        for name, rows in _reference_rows[url].items():
            await conn.execute(Base.metadata.tables[name].insert(), rows)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override in a test module to change the app's settings."""
    return {}


@pytest.fixture
async def app(backend: str, settings_overrides: dict[str, Any]) -> AsyncIterator[FastAPI]:
    application = create_app(settings_for(backend, **settings_overrides))
    async with application.router.lifespan_context(application):
        await _snapshot_reference_data(application, backend)
        try:
            yield application
        finally:
            await _empty_tables(application, backend)


HASH_MARKERS = ("$argon2", '"password_hash":', "$2b$", "pbkdf2")


async def _no_hash_material(response: httpx.Response) -> None:
    """Every response of every test is scanned: no password hash may ever leave the service."""
    body = (await response.aread()).decode("utf-8", "replace")
    for marker in HASH_MARKERS:
        assert marker not in body, f"{response.request.url} leaked {marker!r}"


def make_client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        event_hooks={"response": [_no_hash_material]},
    )


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(app) as c:
        yield c


@pytest.fixture
def api(client: httpx.AsyncClient, app: FastAPI) -> Api:
    return Api(client, app)


@pytest.fixture
def unique() -> Iterator[Callable[[str], str]]:
    def make(prefix: str) -> str:
        return f"{prefix}_{uuid.uuid4().hex[:10]}"

    return make
