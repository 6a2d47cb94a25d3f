"""Fixtures: the backends, a started app isolated per test, its client and the Api helper.

How databases are made and tests isolated is described in `tests/support/databases.py`.
With `BANK_API_TEST_REQUIRE_POSTGRES=1` (CI) an unreachable PostgreSQL is an error, not a skip.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from bank_api.cli import upgrade
from bank_api.uow import UnitOfWork
from tests.support.api import Api
from tests.support.databases import (
    PG_URL,
    REQUIRE_PG,
    isolated_app,
    pg_problem,
    recreate_pg_database,
    settings_for,
    worker_url,
)
from tests.support.http import make_client

_BACKENDS = pytest.StashKey[list[str]]()
_PG_PROBLEM = pytest.StashKey[str | None]()


# The model-based test's budget in the default run; `--model-steps 10000` is the soak.
DEFAULT_MODEL_STEPS = 150


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--model-steps",
        type=int,
        default=DEFAULT_MODEL_STEPS,
        help="steps of the model-based test per backend (default %(default)s; soak: 10000)",
    )


@pytest.fixture(scope="session")
def model_steps(request: pytest.FixtureRequest) -> int:
    steps: int = request.config.getoption("--model-steps")
    return steps


def pytest_configure(config: pytest.Config) -> None:
    problem = asyncio.run(pg_problem(PG_URL))
    if problem and REQUIRE_PG:
        raise pytest.UsageError(f"PostgreSQL is required but unreachable at {PG_URL}: {problem}")
    config.stash[_BACKENDS] = ["sqlite"] if problem else ["sqlite", "postgresql"]
    config.stash[_PG_PROBLEM] = problem


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


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The migrated database URL for this backend."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'bank_api_test.db'}"
    else:
        url = worker_url(PG_URL)
        asyncio.run(recreate_pg_database(url))
    upgrade(url)
    return url


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override in a test module (or parametrize) to change the app's settings."""
    return {}


@pytest.fixture
async def app(
    backend: str, settings_overrides: dict[str, Any], request: pytest.FixtureRequest
) -> AsyncIterator[FastAPI]:
    real_commits = request.node.get_closest_marker("real_commits") is not None
    settings = settings_for(backend, **settings_overrides)
    async with isolated_app(backend, settings, real_commits=real_commits) as application:
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(app) as c:
        yield c


@pytest.fixture
def api(client: httpx.AsyncClient, app: FastAPI) -> Api:
    return Api(client, app)


@pytest.fixture
async def uow(app: FastAPI) -> AsyncIterator[UnitOfWork]:
    """A unit of work on the test's database, for service-level tests."""
    async with app.state.sessionmaker() as session, UnitOfWork(session) as unit:
        yield unit


@pytest.fixture
def unique() -> Iterator[Callable[[str], str]]:
    def make(prefix: str) -> str:
        return f"{prefix}_{uuid.uuid4().hex[:10]}"

    return make
