"""The embedded SQLite default must queue concurrent writers, never answer "database is locked"."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.api import Api


@pytest.mark.sqlite_only
@pytest.mark.real_commits
@pytest.mark.parametrize("settings_overrides", [{"login_max_failures_per_client": 1000}])
async def test_concurrent_writes_on_sqlite_all_succeed(api: Api) -> None:
    accounts = [await api.user("customer") for _ in range(3)]

    async def burst(i: int) -> int:
        register = await api.register("investor")
        account = accounts[i % 3]
        update = await api.client.patch(
            "/api/v1/users/me", headers=account.headers, json={"full_name": f"Name {i}"}
        )
        failed_login = await api.token(f"ghost_{i}", "wrong password!")
        assert (register.status_code, update.status_code, failed_login.status_code) == (
            201,
            200,
            401,
        )
        return 3

    results = await asyncio.gather(*(burst(i) for i in range(30)))
    assert sum(results) == 90
