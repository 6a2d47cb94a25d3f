"""Every session a request opens is closed before its answer is sent, however it ended: its
connection is back in the pool, and a transaction it left uncommitted is rolled back
(`database.request_session`, closed by `RequestContextMiddleware`)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from bank_api.database import (
    close_request_sessions,
    request_read_session,
    request_reading,
    request_session,
)
from tests.support.api import Api
from tests.support.http import app_engines, listening

pytestmark = pytest.mark.real_commits  # the app's own engine and pool, no test transaction


def checked_out(app: FastAPI) -> int:
    """Connections out of the app's pools (the use cases' and the reads' own)."""
    return sum(engine.pool.checkedout() for engine in app_engines(app))


async def test_each_request_gives_its_connections_back(api: Api, app: FastAPI) -> None:
    investor = await api.user("investor")
    customer = await api.user("customer")
    assert checked_out(app) == 0

    answers: list[httpx.Response] = [
        # a read on an autocommit session, a write that commits, one that is refused inside
        # its transaction (nothing may stay of it), one refused before any session is opened
        await api.client.get("/api/v1/loans", headers=customer.headers),
        await api.client.post(
            "/api/v1/investments/deposits", json={"amount": "10.00"}, headers=investor.headers
        ),
        await api.client.post(
            "/api/v1/investments/withdrawals", json={"amount": "50.00"}, headers=investor.headers
        ),
        await api.client.post(
            "/api/v1/investments/deposits", json={"amount": "-1"}, headers=investor.headers
        ),
        await api.client.get("/api/v1/investments/portfolio", headers=customer.headers),
    ]

    assert [answer.status_code for answer in answers] == [200, 201, 409, 422, 403]
    assert answers[2].json()["code"] == "insufficient_funds"
    assert checked_out(app) == 0
    portfolio = await api.client.get("/api/v1/investments/portfolio", headers=investor.headers)
    assert portfolio.json()["available"] == "10.00"
    assert checked_out(app) == 0


async def test_a_read_request_reads_on_the_one_connection_it_read_its_caller_with(
    api: Api, app: FastAPI
) -> None:
    """The caller's read keeps its connection for the route's read session: one checkout from
    the pool per read request, not two."""
    investor = await api.user("investor")
    customer = await api.user("customer")
    with _checkouts(app) as seen:
        reads = [
            await api.client.get("/api/v1/investments/portfolio", headers=investor.headers),
            await api.client.get("/api/v1/loans", headers=customer.headers),
        ]
    assert [read.status_code for read in reads] == [200, 200]
    assert seen == [1, 1]  # checked out at each checkout: never a second one beside it
    assert checked_out(app) == 0


async def test_a_write_request_never_holds_two_connections(api: Api, app: FastAPI) -> None:
    """A use case's session checks out its own connection (it writes, in a transaction), and
    the connection its caller was read with is back in the pool first."""
    investor = await api.user("investor")
    with _checkouts(app) as seen:
        deposit = await api.client.post(
            "/api/v1/investments/deposits", json={"amount": "10.00"}, headers=investor.headers
        )
    assert deposit.status_code == 201
    assert seen == [1, 1]  # the caller's read, then the deposit's transaction
    assert checked_out(app) == 0


async def test_a_caller_read_after_a_write_session_keeps_no_connection(app: FastAPI) -> None:
    """Whatever order a route's dependencies come in: once the request has a session that may
    write, a read outside it gives its connection back at once."""
    scope: dict[str, object] = {}
    session = await request_session(scope, app.state.sessionmaker)
    async with request_reading(scope, app.state.reader) as connection:
        assert (await connection.execute(text("SELECT 1"))).scalar_one() == 1
        assert checked_out(app) == 1
    assert checked_out(app) == 0
    assert request_read_session(scope, app.state.read_sessionmaker).bind is not connection
    await session.execute(text("SELECT 1"))
    await close_request_sessions(scope)
    assert checked_out(app) == 0


@contextlib.contextmanager
def _checkouts(app: FastAPI) -> Iterator[list[int]]:
    """How many connections were checked out of the app's pools at each checkout."""
    seen: list[int] = []

    def checkout(*_: object) -> None:
        seen.append(checked_out(app))

    with listening(app, "checkout", checkout):  # a pool's event, heard through its engine
        yield seen
