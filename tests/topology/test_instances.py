"""Two `bank-api serve` instances behind HAProxy (round robin) over PgBouncer in transaction
mode (tools/topology.py): what must be shared is shared, and nothing breaks across instances."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.support.databases import PG_URL, worker_url
from tests.support.factories import PASSWORD, user_payload

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import topology

pytestmark = pytest.mark.postgres_only

SETTINGS = {
    "environment": "test",
    "jwt_secret": "topology-test-secret-" + "t" * 32,
    "argon2_time_cost": "1",
    "argon2_memory_kib": "1024",
    "login_max_failures": "3",
    "login_max_failures_per_client": "1000",
    "allow_business_date_override": "true",
    "min_ticket": "25.00",
    # set by PgBouncer (connect_query), not by the service: long enough for any honest
    # statement of these tests on a busy machine, short enough for the timeout test
    "db_statement_timeout_ms": "10000",
}


@pytest.fixture(scope="module")
def topo(backend: str) -> Iterator[topology.Topology]:
    # Per pytest-xdist worker: the module's tests may be shared out to two workers, and each
    # starts its own topology, which drops and re-creates its database.
    database = f"{worker_url(PG_URL).rsplit('/', 1)[1]}_topology"
    # PgBouncer runs as `postgres` when started by root: its folder must be reachable by it
    folder = Path(tempfile.mkdtemp(prefix="bank-api-topology-"))
    folder.chmod(0o777)
    try:
        with topology.running(folder, instances=2, database=database, **SETTINGS) as running:
            yield running
    finally:
        if not os.environ.get("KEEP_TOPOLOGY"):
            shutil.rmtree(folder, ignore_errors=True)


class Client:
    """Users made and logged in through the load balancer; calls to the balancer or to one
    instance."""

    def __init__(self, topo: topology.Topology) -> None:
        self.topo = topo

    def url(self, instance: int | None) -> str:
        return self.topo.url if instance is None else self.topo.instance_url(instance)

    async def user(self, role: str) -> tuple[dict[str, Any], dict[str, str]]:
        payload = user_payload(role)
        async with httpx.AsyncClient(base_url=self.topo.url, timeout=30) as client:
            created = (await client.post("/api/v1/auth/register", json=payload)).json()
            token = await client.post(
                "/api/v1/auth/token",
                data={"username": payload["username"], "password": payload["password"]},
            )
        return created | {"username": payload["username"]}, {
            "Authorization": f"Bearer {token.json()['access_token']}"
        }

    async def admin(self) -> dict[str, str]:
        async with httpx.AsyncClient(base_url=self.topo.url, timeout=30) as client:
            token = await client.post(
                "/api/v1/auth/token", data={"username": "topology_admin", "password": PASSWORD}
            )
        return {"Authorization": f"Bearer {token.json()['access_token']}"}

    async def call(
        self, method: str, path: str, *, instance: int | None = None, **kwargs: Any
    ) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.url(instance), timeout=30) as client:
            return await client.request(method, path, **kwargs)


@pytest.fixture(scope="module")
def api(topo: topology.Topology) -> Client:
    env = topology.instance_env(topo, {f"BANK_API_{k.upper()}": v for k, v in SETTINGS.items()})
    subprocess.run(
        [
            sys.executable,
            "-m",
            "bank_api.cli",
            "create-admin",
            "--username",
            "topology_admin",
            "--email",
            "topology@example.com",
            "--password",
            PASSWORD,
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    return Client(topo)


async def test_the_balancer_spreads_requests_over_both_instances(api: Client) -> None:
    for instance in (0, 1):
        assert (await api.call("GET", "/readyz", instance=instance)).status_code == 200
    answers = [await api.call("GET", "/healthz") for _ in range(6)]
    assert {r.status_code for r in answers} == {200}


async def test_the_login_throttle_counts_across_instances(api: Client) -> None:
    user, _ = await api.user("customer")
    wrong = {"username": user["username"], "password": "not-the-password"}
    statuses = [
        (await api.call("POST", "/api/v1/auth/token", instance=n % 2, data=wrong)).status_code
        for n in range(4)
    ]
    assert statuses == [401, 401, 401, 429]


async def test_an_idempotency_key_replays_on_the_other_instance(api: Client) -> None:
    _, investor = await api.user("investor")
    headers = {**investor, "Idempotency-Key": "topology-1"}
    body = {"amount": "25.00"}
    first = await api.call(
        "POST", "/api/v1/investments/deposits", instance=0, json=body, headers=headers
    )
    again = await api.call(
        "POST", "/api/v1/investments/deposits", instance=1, json=body, headers=headers
    )
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    # the same key sent to both at once: one effect, whatever each answers
    racing = {**investor, "Idempotency-Key": "topology-2"}
    answers = await asyncio.gather(
        *(
            api.call("POST", "/api/v1/investments/deposits", instance=n, json=body, headers=racing)
            for n in (0, 1)
        )
    )
    for answer in answers:
        assert answer.status_code in (201, 409), answer.text
        if answer.status_code == 409:
            assert answer.json()["code"] == "idempotency_key_in_use"
    portfolio = await api.call("GET", "/api/v1/investments/portfolio", headers=investor)
    assert portfolio.json()["available"] == "50.00"


async def test_the_business_date_and_a_revocation_hold_on_every_instance(api: Client) -> None:
    admin = await api.admin()
    day = date(2031, 3, 31)
    put = await api.call(
        "PUT",
        "/api/v1/admin/business-date",
        instance=0,
        json={"date": day.isoformat()},
        headers=admin,
    )
    assert put.status_code == 200, put.text
    _, customer = await api.user("customer")
    quote = await api.call(
        "GET",
        "/api/v1/loans/quote",
        instance=1,
        params={"loan_type": "personal_loan", "amount": "1000.00", "term_months": 6},
        headers=customer,
    )
    assert quote.json()["installments"][0]["due_date"] == "2031-04-30"
    user, headers = await api.user("investor")
    assert (
        await api.call("GET", "/api/v1/users/me", instance=1, headers=headers)
    ).status_code == 200
    disabled = await api.call(
        "POST", f"/api/v1/admin/users/{user['id']}/disable", instance=0, headers=admin
    )
    assert disabled.status_code == 200
    for instance in (0, 1):
        refused = await api.call("GET", "/api/v1/users/me", instance=instance, headers=headers)
        assert refused.status_code == 401


async def test_racing_withdrawals_over_the_instances_only_one_wins(api: Client) -> None:
    _, investor = await api.user("investor")
    deposit = await api.call(
        "POST", "/api/v1/investments/deposits", json={"amount": "100.00"}, headers=investor
    )
    assert deposit.status_code == 201
    answers = await asyncio.gather(
        *(
            api.call(
                "POST",
                "/api/v1/investments/withdrawals",
                instance=n % 2,
                json={"amount": "100.00"},
                headers=investor,
            )
            for n in range(20)
        )
    )
    assert sorted(r.status_code for r in answers) == [201] + [409] * 19
    portfolio = await api.call("GET", "/api/v1/investments/portfolio", headers=investor)
    assert portfolio.json()["available"] == "0.00"


async def test_concurrent_approvals_over_the_instances_never_over_allocate(api: Client) -> None:
    admin = await api.admin()
    for _ in range(3):
        _, investor = await api.user("investor")
        await api.call(
            "POST", "/api/v1/investments/deposits", json={"amount": "1000.00"}, headers=investor
        )
    _, customer = await api.user("customer")
    loans = []
    for _ in range(6):
        applied = await api.call(
            "POST",
            "/api/v1/loans",
            json={"loan_type": "personal_loan", "amount": "1000.00", "term_months": 6},
            headers=customer,
        )
        loans.append(applied.json()["id"])
    answers = await asyncio.gather(
        *(
            api.call("POST", f"/api/v1/loans/{loan}/approve", instance=n % 2, headers=admin)
            for n, loan in enumerate(loans)
        )
    )
    for answer in answers:
        assert answer.status_code in (200, 409), answer.text
    verify = await api.call("GET", "/api/v1/admin/ledger/verify", headers=admin)
    assert verify.json()["ok"], verify.json()
    pool = (await api.call("GET", "/api/v1/admin/pool", headers=admin)).json()
    assert pool["investors_available"] >= "0.00"


async def test_a_duplicate_in_flight_on_the_other_instance_is_409(
    api: Client, topo: topology.Topology
) -> None:
    """The first deposit is held in flight (its balance row locked from outside); the same key
    sent to the other instance meanwhile is 409 idempotency_key_in_use; released, the first
    completes and the key replays it."""
    user, investor = await api.user("investor")
    headers = {**investor, "Idempotency-Key": "topology-in-flight"}
    body = {"amount": "30.00"}
    async with locked_balance(topo, user["id"]) as holder:
        first = asyncio.create_task(
            api.call("POST", "/api/v1/investments/deposits", instance=0, json=body, headers=headers)
        )
        for _ in range(300):  # until the first waits for the row, its key claimed
            waiting = await holder.fetchval(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if waiting:
                break
            await asyncio.sleep(0.1)
        assert waiting, "the first deposit never reached the locked row"
        duplicate = await api.call(
            "POST", "/api/v1/investments/deposits", instance=1, json=body, headers=headers
        )
        assert (duplicate.status_code, duplicate.json()["code"]) == (409, "idempotency_key_in_use")
    done = await first
    assert done.status_code == 201, done.text
    replay = await api.call(
        "POST", "/api/v1/investments/deposits", instance=1, json=body, headers=headers
    )
    assert replay.headers["idempotent-replayed"] == "true"
    portfolio = await api.call("GET", "/api/v1/investments/portfolio", headers=investor)
    assert portfolio.json()["available"] == "30.00"


@asynccontextmanager
async def locked_balance(topo: topology.Topology, investor_id: str) -> AsyncIterator[Any]:
    """An investor's balance row locked from outside (straight to PostgreSQL) until the block
    ends: a money write on it waits in the database."""
    database = topo.database_url.replace("postgresql+asyncpg", "postgresql").replace(
        f":{topo.bouncer_port}/", ":5432/"
    )
    holder = await asyncpg.connect(database)
    try:
        async with holder.transaction():
            await holder.execute(
                "SELECT 1 FROM investor_account WHERE investor_id = $1 FOR UPDATE",
                uuid.UUID(investor_id),
            )
            yield holder
    finally:
        await holder.close()


async def test_the_statement_timeout_holds_behind_the_pooler(
    api: Client, topo: topology.Topology
) -> None:
    """The service sends no statement timeout through a pooler (PgBouncer refuses startup
    parameters); PgBouncer's connect_query sets it on every server connection: a deposit
    waiting on a row lock is cancelled after BANK_API_DB_STATEMENT_TIMEOUT_MS, 503
    database_busy, and nothing is booked."""
    user, investor = await api.user("investor")
    async with locked_balance(topo, user["id"]):
        answer = await api.call(
            "POST", "/api/v1/investments/deposits", json={"amount": "5.00"}, headers=investor
        )
    assert (answer.status_code, answer.json()["code"]) == (503, "database_busy"), answer.text
    assert answer.headers["retry-after"] == "1"
    portfolio = await api.call("GET", "/api/v1/investments/portfolio", headers=investor)
    assert portfolio.json()["available"] == "0.00"


# Last: it kills an instance.
async def test_an_instance_killed_mid_traffic_loses_no_acknowledged_write(
    api: Client, topo: topology.Topology
) -> None:
    """SIGKILL, not a graceful stop: requests in flight on that instance lose their
    connection. HAProxy sends to the other instance what the dead one closed without an answer
    or refused (reads, and money writes with an Idempotency-Key, which replay if the first
    attempt committed). A request still unread in the dead process's socket is reset by the
    kernel instead, which HAProxy 2.6 answers 502 without retrying (docs/DECISIONS.md
    "Retries at the load balancer"): the client retries that, with the same key, as it retries
    409 idempotency_key_in_use (the first attempt is still in the database). Only the requests
    in flight at the kill can be lost that way (one per client), nothing is ever another 5xx,
    and every deposit lands exactly once."""
    _, investor = await api.user("investor")
    statuses: list[int] = []
    acknowledged = 0
    half_way = asyncio.Event()

    async def answered(method: str, path: str, **kwargs: Any) -> httpx.Response:
        for _ in range(50):  # 10 s: the survivor answers long before
            answer = await api.call(method, path, **kwargs)
            statuses.append(answer.status_code)
            if answer.status_code == 409:
                assert answer.json()["code"] == "idempotency_key_in_use", answer.text
            elif answer.status_code != 502:
                return answer
            await asyncio.sleep(0.2)
        raise AssertionError(f"no answer but 409 or 502 for {method} {path}: {statuses[-5:]}")

    async def deposit() -> None:
        nonlocal acknowledged
        headers = {**investor, "Idempotency-Key": str(uuid.uuid4())}
        answer = await answered(
            "POST", "/api/v1/investments/deposits", json={"amount": "1.00"}, headers=headers
        )
        assert answer.status_code == 201, answer.text
        acknowledged += 1
        if acknowledged == 20:
            half_way.set()

    async def client(deposits: int) -> None:
        for _ in range(deposits):
            await deposit()
            read = await answered("GET", "/api/v1/investments/portfolio", headers=investor)
            assert read.status_code == 200, read.text

    async def kill_one() -> None:
        await half_way.wait()
        os.kill(topo.pids["api1"], signal.SIGKILL)

    await asyncio.gather(*(client(15) for _ in range(4)), kill_one())
    assert not [status for status in statuses if status >= 500 and status != 502]
    assert statuses.count(502) <= 4  # one request in flight per client when the kill came
    assert acknowledged == 60
    portfolio = await api.call("GET", "/api/v1/investments/portfolio", headers=investor)
    assert portfolio.json()["available"] == "60.00"
    admin = await api.admin()
    assert (await api.call("GET", "/api/v1/admin/ledger/verify", headers=admin)).json()["ok"]
