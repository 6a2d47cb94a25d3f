from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI

from bank_api.main import create_app
from tests.support.api import Api
from tests.support.databases import settings_for
from tests.support.http import assert_problem

pytestmark = pytest.mark.usefixtures("backend")


async def test_root_describes_the_service(api: Api) -> None:
    response = await api.client.get("/")
    body = response.json()
    assert (response.status_code, body["name"], body["docs"]) == (200, "bank-api", "/docs")
    assert body["version"] == "0.1.0"
    assert body["time"].endswith("Z")


@pytest.mark.real_commits  # /readyz opens its own connection (SQLite: its own transaction)
async def test_health_and_readiness(api: Api) -> None:
    assert (await api.client.get("/healthz")).json() == {"status": "ok"}
    ready = await api.client.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ok"})


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere",
        "sqlite+aiosqlite:////nonexistent-dir/for/sure/db.sqlite",
    ],
)
async def test_readyz_is_503_when_the_database_is_unreachable(url: str) -> None:
    app = create_app(settings_for(url, db_connect_timeout_seconds=2))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        assert (await client.get("/healthz")).status_code == 200
        assert_problem(await client.get("/readyz"), 503, "database_unavailable")
        # an endpoint needing the database answers 503 too, never 500
        registered = await client.post(
            "/api/v1/auth/register",
            json={
                "username": "someone",
                "password": "long enough",
                "email": "s@example.com",
                "full_name": "S",
                "role": "customer",
            },
        )
        assert_problem(registered, 503, "database_unavailable")


async def test_unknown_path_and_method_are_problems(api: Api) -> None:
    assert_problem(await api.client.get("/api/v1/nothing-here"), 404, "not_found")
    assert_problem(await api.client.delete("/api/v1/auth/token"), 405, "method_not_allowed")


async def test_request_id_is_echoed_or_generated(api: Api) -> None:
    given = await api.client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = await api.client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert made.headers["x-request-id"] != "bad id with spaces"
    another = await api.client.get("/healthz")
    made_ids = [made.headers["x-request-id"], another.headers["x-request-id"]]
    assert all(re.fullmatch("[0-9a-f]{32}", made_id) for made_id in made_ids)
    assert made_ids[0] != made_ids[1]
    problem = await api.client.get("/api/v1/users/me", headers={"X-Request-ID": "trace-7"})
    assert problem.json()["request_id"] == "trace-7"


async def test_api_responses_are_not_cached(api: Api) -> None:
    response = await api.client.get("/api/v1/users/me")
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("settings_overrides", [{"max_body_bytes": 2048}])
async def test_oversized_body_is_413(api: Api) -> None:
    declared = await api.client.post(
        "/api/v1/auth/register", content=b"x" * 5000, headers={"content-type": "application/json"}
    )
    assert_problem(declared, 413, "request_too_large")

    async def chunks():  # no content-length: the limit is enforced while reading
        for _ in range(5):
            yield b"x" * 1000

    streamed = await api.client.post(
        "/api/v1/auth/register", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_problem(streamed, 413, "request_too_large")


async def test_unexpected_error_is_an_opaque_500(app: FastAPI) -> None:
    async def explode() -> None:
        raise RuntimeError("secret internal detail: SELECT * FROM user_account")

    app.add_api_route("/api/v1/explode", explode, methods=["GET"], tags=["test"])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://t"
    ) as client:
        response = await client.get("/api/v1/explode", headers={"X-Request-ID": "boom-1"})
    body = assert_problem(response, 500, "internal_error")
    assert body["request_id"] == "boom-1"
    assert "secret" not in response.text
    assert "RuntimeError" not in response.text
    assert "SELECT" not in response.text


@pytest.mark.parametrize("raw", [b"\xff\xfe\x00garbage", b"\x80\x12\r\xaa", b"\xc3("])
async def test_undecodable_body_is_a_validation_problem(api: Api, raw: bytes) -> None:
    response = await api.client.post(
        "/api/v1/auth/register", content=raw, headers={"content-type": "application/json"}
    )
    body = assert_problem(response, 422, "validation_error")
    assert body["errors"][0]["loc"][0] == "body"
