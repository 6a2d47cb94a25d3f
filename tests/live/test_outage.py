"""A database outage in the middle of traffic, on a PostgreSQL cluster the test starts and
stops itself (never the shared one), behind `bank-api serve --workers 2`.

While the database is down every answer is 503 with Retry-After (never a 500) and /readyz is
503; once it is back the service recovers without a restart; every request that failed can be
retried at once with its Idempotency-Key; and every acknowledged deposit is in the ledger
exactly once, which verifies.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.support.factories import PASSWORD, user_payload
from tests.support.live import serving
from tests.support.money import money
from tests.support.pgcluster import throwaway_cluster

pytestmark = pytest.mark.postgres_only  # needs the PostgreSQL server binaries

CLIENTS = 8
DEPOSITS = "/api/v1/investments/deposits"


class Traffic:
    """Clients depositing in a loop, each request with a fresh Idempotency-Key."""

    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self.client = client
        self.headers = headers
        self.stop = asyncio.Event()
        self.acknowledged: dict[str, int] = {}
        self.failed: dict[str, int] = {}
        self.statuses: Counter[int] = Counter()
        self.problems: list[str] = []

    async def run(self, who: int) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            key, cents = f"outage-{who}-{n}", 100 + who * 7 + n
            amount = money(cents)
            try:
                response = await self.client.post(
                    DEPOSITS,
                    json={"amount": amount},
                    headers={**self.headers, "Idempotency-Key": key},
                )
            except httpx.TransportError as exc:  # the server itself must never drop us
                self.problems.append(f"{key}: {type(exc).__name__}")
                continue
            self.statuses[response.status_code] += 1
            if response.status_code == 201:
                self.acknowledged[key] = cents
            elif response.status_code == 503:
                self.failed[key] = cents
                body = response.json()
                if body["code"] not in ("database_unavailable", "database_busy"):
                    self.problems.append(f"{key}: 503 {body['code']}")
                if "retry-after" not in response.headers:
                    self.problems.append(f"{key}: 503 without Retry-After")
            else:
                self.problems.append(f"{key}: {response.status_code} {response.text[:200]}")
            await asyncio.sleep(0.005)


async def _wait_for(client: httpx.AsyncClient, status: int, within: float) -> httpx.Response:
    deadline = time.monotonic() + within
    while True:
        response = await client.get("/readyz")
        if response.status_code == status or time.monotonic() > deadline:
            return response
        await asyncio.sleep(0.1)


async def _until(condition: Callable[[], bool], within: float = 120) -> bool:
    """Wait until `condition()` holds (True), or give up after `within` seconds (False)."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def _ledger_verify(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bank_api.cli", "ledger", "verify"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


async def test_an_outage_mid_traffic_is_503_recovers_and_loses_nothing(tmp_path: Path) -> None:
    with throwaway_cluster() as cluster:
        admin = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{cluster.port}/postgres")
        await admin.execute('CREATE DATABASE "outage"')
        await admin.close()
        url = f"postgresql+asyncpg://postgres@127.0.0.1:{cluster.port}/outage"
        settings = {
            "db_connect_timeout_seconds": "2",
            "db_pool_timeout_seconds": "5",
            "db_pool_size": "10",
        }
        with serving(tmp_path, url, workers=2, **settings) as (base, env):
            async with httpx.AsyncClient(base_url=base, timeout=60) as client:
                payload = user_payload("investor")
                assert (await client.post("/api/v1/auth/register", json=payload)).status_code == 201
                token = await client.post(
                    "/api/v1/auth/token",
                    data={"username": payload["username"], "password": PASSWORD},
                )
                headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
                traffic = Traffic(client, headers)
                loops = [asyncio.create_task(traffic.run(i)) for i in range(CLIENTS)]

                # Each phase waits for what it needs to see, however slow the machine is.
                assert await _until(lambda: traffic.statuses[201] >= 20)
                await asyncio.to_thread(cluster.stop, "fast")
                down = await _wait_for(client, 503, within=60)
                assert down.status_code == 503
                assert down.json()["code"] == "database_unavailable"
                # traffic keeps arriving while it is down
                assert await _until(lambda: len(traffic.failed) >= 10)
                await asyncio.to_thread(cluster.start)
                up = await _wait_for(client, 200, within=120)
                assert up.status_code == 200, up.text  # recovered without a restart
                recovered = traffic.statuses[201]
                assert await _until(lambda: traffic.statuses[201] >= recovered + 20)
                traffic.stop.set()
                await asyncio.gather(*loops)

                assert traffic.problems == []
                assert set(traffic.statuses) <= {201, 503}, traffic.statuses

                # every failed request is retryable at once with its own key
                for key, cents in traffic.failed.items():
                    retried = await client.post(
                        DEPOSITS,
                        json={"amount": money(cents)},
                        headers={**headers, "Idempotency-Key": key},
                    )
                    assert retried.status_code == 201, (key, retried.text)
                    traffic.acknowledged[key] = cents

                portfolio = (
                    await client.get("/api/v1/investments/portfolio", headers=headers)
                ).json()
                total = sum(traffic.acknowledged.values())
                assert portfolio["available"] == money(total)

            conn = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{cluster.port}/outage")
            try:
                keys = {r["key"] for r in await conn.fetch("SELECT key FROM idempotency_record")}
                deposits = await conn.fetchval(
                    "SELECT count(*) FROM journal_entry WHERE kind = 'deposit'"
                )
            finally:
                await conn.close()
            assert keys == set(traffic.acknowledged)  # each acknowledged request exactly once
            assert deposits == len(traffic.acknowledged)
            verified = _ledger_verify(env)
            assert verified.returncode == 0, verified.stdout
            assert verified.stdout.strip().splitlines()[-1] == "ledger ok"
