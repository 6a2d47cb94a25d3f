"""A real `bank-api serve` process on a free port, on its own migrated SQLite file, with an
admin and an active user of every role: for tools that must talk to a live server."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.support.databases import recreate_pg_database
from tests.support.factories import PASSWORD, user_payload

SERVER_ENV = {
    "BANK_API_ENVIRONMENT": "test",
    "BANK_API_JWT_SECRET": "live-server-test-secret-" + "k" * 32,
    "BANK_API_ARGON2_TIME_COST": "1",
    "BANK_API_ARGON2_MEMORY_KIB": "1024",
    "BANK_API_LOGIN_MAX_FAILURES": "1000000",
    "BANK_API_LOGIN_MAX_FAILURES_PER_CLIENT": "1000000",
    "BANK_API_ALLOW_BUSINESS_DATE_OVERRIDE": "true",
}


@dataclass
class LiveServer:
    url: str
    tokens: dict[str, str]
    env: dict[str, str]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cli(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bank_api.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bank-api {' '.join(args)} failed: {done.stderr[-2000:]}")


def _token(client: httpx.Client, username: str) -> str:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    response.raise_for_status()
    return str(response.json()["access_token"])


def _users(client: httpx.Client) -> dict[str, str]:
    tokens = {"admin": _token(client, "live_admin")}
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    for role in ("customer", "investor", "agent"):
        payload = user_payload(role)
        created = client.post("/api/v1/auth/register", json=payload).json()
        if role == "agent":
            client.post(f"/api/v1/admin/agents/{created['id']}/approve", headers=admin)
        tokens[role] = _token(client, payload["username"])
    return tokens


@contextmanager
def serving(
    folder: Path, database_url: str, *, workers: int = 1, **settings: str
) -> Iterator[tuple[str, dict[str, str]]]:
    """`bank-api serve` on a free port over `database_url` (migrated here, with the admin
    `live_admin`), until the block ends; its URL and environment. Extra `settings` are
    BANK_API_* variables by their lower-case suffix."""
    env = {
        **os.environ,
        **SERVER_ENV,
        "BANK_API_DATABASE_URL": database_url,
        **{f"BANK_API_{name.upper()}": value for name, value in settings.items()},
    }
    _cli(env, "migrate")
    _cli(
        env,
        "create-admin",
        "--username",
        "live_admin",
        "--email",
        "live@example.com",
        "--password",
        PASSWORD,
    )
    port = _free_port()
    log_path = folder / f"server-{port}.log"
    command = [sys.executable, "-m", "bank_api.cli", "serve", "--port", str(port)]
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [*command, "--workers", str(workers), "--log-level", "warning"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(url, log_path)
            yield url, env
        finally:
            process.terminate()
            process.wait(timeout=20)


def _wait_ready(url: str, log_path: Path) -> None:
    with httpx.Client(base_url=url, timeout=10) as client:
        for _ in range(300):
            try:
                if client.get("/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise RuntimeError(f"server did not start: {log_path}")


@contextmanager
def live_with_users(folder: Path, database_url: str) -> Iterator[LiveServer]:
    with serving(folder, database_url) as (url, env):
        with httpx.Client(base_url=url, timeout=10) as client:
            tokens = _users(client)
        yield LiveServer(url, tokens, env)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One worker on its own SQLite file, with a token for every role."""
    folder: Path = tmp_path_factory.mktemp("live")
    with live_with_users(folder, f"sqlite+aiosqlite:///{folder / 'live.db'}") as server:
        yield server


@pytest.fixture(scope="module")
def live_pg_server(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Iterator[LiveServer]:
    """One worker on a PostgreSQL database of its own, with a token for every role."""
    url = make_url(backend)
    live = url.set(database=f"{url.database}_live_st").render_as_string(hide_password=False)
    asyncio.run(recreate_pg_database(live))
    with live_with_users(tmp_path_factory.mktemp("live_pg"), live) as server:
        yield server
