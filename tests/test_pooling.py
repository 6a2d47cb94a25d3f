"""Requests waiting for a connection are served in the order they asked (`pooling.FairQueue`),
however the pool's connections come back: given back, timed out, or with the waiter gone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine

from bank_api.config import Settings
from bank_api.database import create_engine
from bank_api.pooling import FairQueue

pytestmark = pytest.mark.postgres_only  # SQLite's engine keeps SQLAlchemy's own pool


@asynccontextmanager
async def one_connection(backend: str, wait_seconds: float = 30) -> AsyncIterator[AsyncEngine]:
    """The service's engine with a pool of one connection and no overflow."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=backend,
        db_pool_size=1,
        db_max_overflow=0,
        db_pool_timeout_seconds=wait_seconds,
    )
    engine = create_engine(settings)
    try:
        yield engine
    finally:
        await engine.dispose()


def queue(engine: AsyncEngine) -> FairQueue:
    pool_queue = engine.sync_engine.pool._pool  # type: ignore[attr-defined]
    assert isinstance(pool_queue, FairQueue)
    return pool_queue


def asker(engine: AsyncEngine, served: list[str]) -> Callable[[str], Awaitable[None]]:
    """A request by `name` that, once it has a connection, records its name in `served`."""

    async def ask(name: str) -> None:
        async with engine.connect() as connection:
            served.append(name)
            await connection.execute(text("SELECT 1"))

    return ask


async def until(condition: Callable[[], bool]) -> None:
    """Let the other tasks run until `condition` holds (a bounded number of loop turns)."""
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the condition never held")


async def test_waiting_requests_get_the_connection_in_the_order_they_asked(backend: str) -> None:
    async with one_connection(backend) as engine:
        served: list[str] = []
        ask = asker(engine, served)
        held = await engine.connect()
        waiting = [asyncio.create_task(ask(name)) for name in ("b", "c", "d")]
        await until(lambda: queue(engine).waiting == 3)
        await held.close()
        # Asked at once, before "b" (woken for the connection given back) has run: it waits
        # behind the three, where SQLAlchemy's own pool gave it the connection first.
        async with engine.connect() as late:
            served.append("late")
            assert await late.scalar(text("SELECT 1")) == 1
        await asyncio.gather(*waiting)

        assert served == ["b", "c", "d", "late"]
        assert (engine.sync_engine.pool.checkedin(), queue(engine).waiting) == (1, 0)


async def test_a_request_that_waits_too_long_is_refused_and_leaves_no_trace(backend: str) -> None:
    async with one_connection(backend, wait_seconds=0.05) as engine:
        held = await engine.connect()
        with pytest.raises(PoolTimeout):
            await engine.connect()
        assert queue(engine).waiting == 0
        await held.close()
        async with engine.connect() as connection:
            assert await connection.scalar(text("SELECT 1")) == 1
        assert engine.sync_engine.pool.checkedin() == 1


async def test_a_waiter_that_goes_away_never_keeps_a_connection(backend: str) -> None:
    """Cancelled while waiting, or just after being handed the connection (before it ran):
    either way the connection goes to the next in line."""
    async with one_connection(backend) as engine:
        served: list[str] = []
        ask = asker(engine, served)
        held = await engine.connect()
        handed, gone, next_in_line = (asyncio.create_task(ask(n)) for n in ("b", "c", "d"))
        await until(lambda: queue(engine).waiting == 3)
        gone.cancel()
        await until(lambda: queue(engine).waiting == 2)
        await held.close()  # handed to "b", which has not run yet
        handed.cancel()
        await next_in_line
        for task in (handed, gone):
            with pytest.raises(asyncio.CancelledError):
                await task

        assert served == ["d"]
        assert (engine.sync_engine.pool.checkedin(), queue(engine).waiting) == (1, 0)
