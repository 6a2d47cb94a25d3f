"""The login throttle across processes: `bank-api serve --workers 2` on PostgreSQL, tens of
guesses for one username at once over real sockets. The count lives in the database, so the
two workers share it, and no more than the limit of guesses is checked against the hash."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.support.databases import recreate_pg_database
from tests.support.factories import PASSWORD, user_payload
from tests.support.live import serving

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def two_workers(backend: str, tmp_path: Path) -> Iterator[str]:
    url = make_url(backend)
    live = url.set(database=f"{url.database}_live").render_as_string(hide_password=False)
    asyncio.run(recreate_pg_database(live))
    settings = {
        "login_max_failures": "5",
        "login_max_failures_per_client": "1000",
        "db_pool_size": "20",
        # production hashing: each guess takes long enough for the others to arrive meanwhile
        "argon2_time_cost": "3",
        "argon2_memory_kib": "65536",
        # a busy machine must not turn a checked guess into 503 hashing_busy: this test is about
        # the throttle, so the hashing queue may wait as long as it takes
        "hash_wait_ms": "60000",
    }
    with serving(tmp_path, live, workers=2, **settings) as (base, _):
        yield base


async def test_forty_simultaneous_guesses_on_two_workers_check_at_most_five(
    two_workers: str,
) -> None:
    limits = httpx.Limits(max_connections=40, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=two_workers, timeout=60, limits=limits) as client:
        payload = user_payload("customer")
        assert (await client.post("/api/v1/auth/register", json=payload)).status_code == 201
        responses = await asyncio.gather(
            *(
                client.post(
                    "/api/v1/auth/token",
                    data={"username": payload["username"], "password": f"wrong {i}"},
                )
                for i in range(40)
            )
        )
        statuses = [r.status_code for r in responses]
        assert statuses.count(401) <= 5, statuses
        assert statuses.count(429) == 40 - statuses.count(401)
        assert {r.json()["code"] for r in responses if r.status_code == 429} == {
            "too_many_attempts"
        }
        right = await client.post(
            "/api/v1/auth/token", data={"username": payload["username"], "password": PASSWORD}
        )
        assert right.status_code == 429  # the window is full for everyone, on every worker
