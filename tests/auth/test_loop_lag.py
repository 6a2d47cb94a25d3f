"""Password hashing runs off the event loop: a login burst must not stall other requests.

This measures the event loop's largest stall (how late a 5 ms sleeper wakes up) while 20 logins
run with the production argon2 parameters, and compares it with the time of one hash. It is a
loop-lag check, not a benchmark: it asserts a ratio, not a speed.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from bank_api.config import Settings
from tests.support.api import Api

pytestmark = pytest.mark.usefixtures("backend")

# The production defaults of Settings (the test settings lower them for speed elsewhere).
PRODUCTION_HASHING = {
    "argon2_time_cost": 3,
    "argon2_memory_kib": 65_536,
    "argon2_parallelism": 1,
    "hash_concurrency": 2,
    "gc_freeze": True,
}


async def _largest_stall(stop: asyncio.Event, tick: float = 0.005) -> float:
    worst = 0.0
    while not stop.is_set():
        start = time.perf_counter()
        await asyncio.sleep(tick)
        worst = max(worst, time.perf_counter() - start - tick)
    return worst


async def _login_after(api: Api, username: str, delay: float) -> object:
    """Clients arrive 2 ms apart, as over a network, rather than in one loop iteration."""
    await asyncio.sleep(delay)
    return await api.token(username)


@pytest.mark.parametrize("settings_overrides", [PRODUCTION_HASHING])
async def test_login_burst_does_not_stall_the_event_loop(api: Api) -> None:
    settings: Settings = api.app.state.settings
    assert settings.argon2_memory_kib == Settings(_env_file=None).argon2_memory_kib  # type: ignore[call-arg]
    account = await api.user("customer")
    hasher = api.app.state.hasher
    stored = await hasher.hash("measure one hash")
    started = time.perf_counter()
    await hasher.verify("measure one hash", stored)
    one_hash = time.perf_counter() - started

    # A running server has a warm connection pool; open it now so the burst below measures
    # hashing, not the one-off cost of establishing 20 database connections.
    warm = await asyncio.gather(
        *(api.client.get("/api/v1/users/me", headers=account.headers) for _ in range(20))
    )
    assert {r.status_code for r in warm} == {200}

    stop = asyncio.Event()
    watcher = asyncio.create_task(_largest_stall(stop))
    responses = await asyncio.gather(
        *(_login_after(api, account.username, i * 0.002) for i in range(20))
    )
    stop.set()
    stall = await watcher

    assert [r.status_code for r in responses] == [200] * 20  # type: ignore[attr-defined]
    assert one_hash > 0.02, f"argon2 is implausibly fast ({one_hash:.4f}s)"
    assert stall < one_hash / 4, (
        f"loop stalled {stall * 1000:.1f} ms; one hash {one_hash * 1000:.1f} ms"
    )
