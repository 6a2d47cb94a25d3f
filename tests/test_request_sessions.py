"""Every session a request opens is closed before its answer is sent, however it ended: its
connection is back in the pool, and a transaction it left uncommitted is rolled back
(`database.request_session`, closed by `RequestContextMiddleware`)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from tests.support.api import Api

pytestmark = pytest.mark.real_commits  # the app's own engine and pool, no test transaction


def checked_out(app: FastAPI) -> int:
    count: int = app.state.engine.pool.checkedout()
    return count


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
