"""The in-process HTTP client and what every response must satisfy."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import Engine, event

from bank_api.database import engines_apart

HASH_MARKERS = ("$argon2", '"password_hash":', "$2b$", "pbkdf2")


async def _no_hash_material(response: httpx.Response) -> None:
    """Every response of every test is scanned: no password hash may ever leave the service."""
    body = (await response.aread()).decode("utf-8", "replace")
    for marker in HASH_MARKERS:
        assert marker not in body, f"{response.request.url} leaked {marker!r}"


def make_client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        event_hooks={"response": [_no_hash_material]},
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"urn:bank-api:problem:{code}"
    assert body["title"]
    assert body["detail"]
    return body


@contextlib.contextmanager
def captured_sql(app: FastAPI) -> Iterator[list[str]]:
    """Every SQL statement the app sends while the block runs, whitespace collapsed
    (savepoints of the rolled-back test transaction left out)."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        collapsed = " ".join(statement.split())
        if not collapsed.upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO")):
            statements.append(collapsed)

    with listening(app, "before_cursor_execute", record):
        yield statements


def app_engines(app: FastAPI) -> tuple[Engine, ...]:
    """The started app's engines, one per pool: the use cases' and the reads' own."""
    return tuple(e.sync_engine for e in engines_apart(app.state.engine, app.state.read_engine))


@contextlib.contextmanager
def listening(app: FastAPI, name: str, listener: Any) -> Iterator[None]:
    """`listener` on the event `name` of every engine of the app while the block runs."""
    engines = app_engines(app)
    for engine in engines:
        event.listen(engine, name, listener)
    try:
        yield
    finally:
        for engine in engines:
            event.remove(engine, name, listener)
