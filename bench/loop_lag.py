"""Does a burst of logins stall the event loop? Measured here, not asserted in the test suite.

    .venv/bin/python bench/loop_lag.py [--logins 20] [--rounds 5] [--json]

One in-process app (production argon2id parameters, the embedded SQLite database in a
temporary folder) takes `--logins` logins arriving 2 ms apart while a watcher measures the
event loop's largest stall: how late a 5 ms sleeper wakes up. Reported per round beside the
time of one hash: hashing runs in its own threads, so the stall should stay a small fraction
of one hash however many logins arrive. `harness.py` runs it and puts the figures in the
report. (The test suite proves the structure instead: every hash runs on a hashing thread,
never on the loop's thread.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

PASSWORD = "loop lag bench password"  # noqa: S105 - a throwaway account
TICK = 0.005


async def largest_stall(stop: asyncio.Event) -> float:
    worst = 0.0
    while not stop.is_set():
        start = time.perf_counter()
        await asyncio.sleep(TICK)
        worst = max(worst, time.perf_counter() - start - TICK)
    return worst


async def one_round(client: httpx.AsyncClient, logins: int) -> tuple[float, int]:
    """The loop's largest stall during one burst, and how many logins were told to come back
    (503 `hashing_busy`: no hashing thread within BANK_API_HASH_WAIT_MS, a right answer)."""

    async def login(delay: float) -> int:
        await asyncio.sleep(delay)
        response = await client.post(
            "/api/v1/auth/token", data={"username": "lag_admin", "password": PASSWORD}
        )
        return response.status_code

    stop = asyncio.Event()
    watcher = asyncio.create_task(largest_stall(stop))
    statuses = await asyncio.gather(*(login(i * 0.002) for i in range(logins)))
    stop.set()
    stall = await watcher
    if not set(statuses) <= {200, 503}:
        raise SystemExit(f"logins failed: {statuses}")
    return stall, statuses.count(503)


async def measure(url: str, logins: int, rounds: int) -> dict[str, Any]:
    from bank_api.auth.service import create_admin
    from bank_api.config import Settings
    from bank_api.main import create_app
    from bank_api.uow import UnitOfWork

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=url,
        environment="test",
        jwt_secret="loop-lag-bench-" + "s" * 32,
        login_max_failures=10**6,
        login_max_failures_per_client=10**6,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        hasher = app.state.hasher
        async with app.state.sessionmaker() as session, UnitOfWork(session) as uow:
            await create_admin(
                uow, hasher, username="lag_admin", email="lag@example.com", password=PASSWORD
            )
        stored = await hasher.hash(PASSWORD)
        started = time.perf_counter()
        await hasher.verify(PASSWORD, stored)
        one_hash = time.perf_counter() - started
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            measured = [await one_round(client, logins) for _ in range(rounds)]
    stalls = [stall for stall, _ in measured]
    return {
        "logins": logins,
        "rounds": rounds,
        "argon2": {
            "time_cost": settings.argon2_time_cost,
            "memory_kib": settings.argon2_memory_kib,
            "hash_concurrency": settings.hash_concurrency,
        },
        "one_hash_ms": round(one_hash * 1000, 1),
        "stall_ms": [round(s * 1000, 1) for s in stalls],
        "stall_median_ms": round(statistics.median(stalls) * 1000, 1),
        "stall_max_ms": round(max(stalls) * 1000, 1),
        "max_stall_over_hash": round(max(stalls) / one_hash, 3),
        "hashing_busy": [busy for _, busy in measured],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--logins", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'loop_lag.db'}"
        subprocess.run(
            [Path(sys.executable).parent / "bank-api", "migrate"],
            env={"BANK_API_DATABASE_URL": url, "PATH": ""},
            check=True,
            capture_output=True,
        )
        result = asyncio.run(measure(url, args.logins, args.rounds))
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{args.logins} logins x {args.rounds} rounds: one hash {result['one_hash_ms']} ms; "
            f"largest loop stall median {result['stall_median_ms']} ms, "
            f"max {result['stall_max_ms']} ms ({result['max_stall_over_hash']} of one hash)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
