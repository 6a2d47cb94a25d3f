"""Double spending under real concurrency, on PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import text

from bank_api.idempotency import request_hash
from tests.support.api import Api
from tests.support.http import assert_problem

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.real_commits,
    pytest.mark.usefixtures("backend"),
]
DEPOSITS = "/api/v1/investments/deposits"


async def test_twenty_withdrawals_of_the_whole_balance_exactly_one_succeeds(api: Api) -> None:
    investor = await api.user("investor")
    await api.client.post(
        "/api/v1/investments/deposits", json={"amount": "100.00"}, headers=investor.headers
    )
    responses = await asyncio.gather(
        *(
            api.client.post(
                "/api/v1/investments/withdrawals",
                json={"amount": "100.00"},
                headers=investor.headers,
            )
            for _ in range(20)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 19
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"insufficient_funds"}
    portfolio = await api.client.get("/api/v1/investments/portfolio", headers=investor.headers)
    assert portfolio.json()["available"] == "0.00"
    admin = await api.user("admin")
    verify = await api.client.get("/api/v1/admin/ledger/verify", headers=admin.headers)
    assert verify.json()["ok"] is True


async def test_concurrent_duplicates_of_one_key_have_one_effect(api: Api) -> None:
    investor = await api.user("investor")
    headers = {**investor.headers, "Idempotency-Key": "burst-1"}
    responses = await asyncio.gather(
        *(
            api.client.post(
                "/api/v1/investments/deposits", json={"amount": "10.00"}, headers=headers
            )
            for _ in range(10)
        )
    )
    created = [r for r in responses if r.status_code == 201]
    busy = [r for r in responses if r.status_code == 409]
    assert len(created) + len(busy) == 10
    assert {r.json()["code"] for r in busy} <= {"idempotency_key_in_use"}
    assert len({r.json()["id"] for r in created}) == 1  # replays carry the first response
    portfolio = await api.client.get("/api/v1/investments/portfolio", headers=investor.headers)
    assert portfolio.json()["available"] == "10.00"


@pytest.mark.parametrize("settings_overrides", [{"db_statement_timeout_ms": 300}])
async def test_a_statement_timeout_is_503_database_busy_and_changes_nothing(api: Api) -> None:
    """A deposit that waits on a row lock longer than the statement timeout is a retryable
    503 with Retry-After, not a 500, and leaves the balance as it was."""
    investor = await api.user("investor")
    async with api.app.state.sessionmaker() as holder:
        await holder.execute(
            text("SELECT 1 FROM investor_account WHERE investor_id = :id FOR UPDATE"),
            {"id": uuid.UUID(investor.id)},
        )
        response = await api.client.post(
            "/api/v1/investments/deposits",
            json={"amount": "100.00"},
            headers={**investor.headers, "Idempotency-Key": "busy-1"},
        )
        await holder.rollback()
    assert_problem(response, 503, "database_busy")
    assert response.headers["Retry-After"] == "1"
    portfolio = await api.client.get("/api/v1/investments/portfolio", headers=investor.headers)
    assert portfolio.json()["available"] == "0.00"
    retried = await api.client.post(
        "/api/v1/investments/deposits",
        json={"amount": "100.00"},
        headers={**investor.headers, "Idempotency-Key": "busy-1"},
    )
    assert retried.status_code == 201, retried.text


async def test_a_first_request_committing_unseen_makes_the_duplicate_409_and_changes_nothing(
    api: Api,
) -> None:
    """The key's lookup reads its statement's snapshot: a first request that commits after it
    goes unseen, and the record's primary key is then the guard. Here the first request's
    record is written from outside and committed while the duplicate waits to insert its own:
    the duplicate is rolled back whole (409 idempotency_key_in_use, no money moved), and the
    retry replays the stored answer."""
    investor = await api.user("investor")
    body = b'{"amount": "40.00"}'
    headers = {
        **investor.headers,
        "Idempotency-Key": "unseen-first",
        "content-type": "application/json",
    }
    first_answer = '{"stored": "by the first request"}'
    async with api.app.state.sessionmaker() as first:
        await first.execute(
            text(
                "INSERT INTO idempotency_record"
                " (user_id, key, request_hash, status_code, response_body, created_at)"
                " VALUES (:user, 'unseen-first', :hash, 201, :body, now())"
            ),
            {
                "user": uuid.UUID(investor.id),
                "hash": request_hash("POST", DEPOSITS, body),
                "body": first_answer,
            },
        )
        duplicate = asyncio.create_task(api.client.post(DEPOSITS, content=body, headers=headers))
        for _ in range(300):  # until the duplicate waits on the first's uncommitted record
            async with api.app.state.engine.connect() as waiting:
                count = await waiting.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname ="
                        " current_database() AND wait_event_type = 'Lock'"
                    )
                )
            if count or duplicate.done():
                break
            await asyncio.sleep(0.05)
        assert count, "the duplicate never reached the first request's record"
        await first.commit()
    answer = await duplicate
    assert_problem(answer, 409, "idempotency_key_in_use")
    portfolio = await api.client.get("/api/v1/investments/portfolio", headers=investor.headers)
    assert portfolio.json()["available"] == "0.00"
    lines = await api.client.get("/api/v1/investments/transactions", headers=investor.headers)
    assert lines.json()["total"] == 0
    retried = await api.client.post(DEPOSITS, content=body, headers=headers)
    assert retried.status_code == 201
    assert retried.headers["idempotent-replayed"] == "true"
    assert retried.text == first_answer
