"""Small things users expect: headers on every answer, no Host reflection, an unmigrated
database that says so, one clear CLI line, and error messages in the client's terms."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bank_api.main import create_app
from tests.support.api import Api
from tests.support.databases import scratch_database, settings_for
from tests.support.factories import user_payload
from tests.support.http import assert_problem, make_client

pytestmark = pytest.mark.usefixtures("backend")


async def test_every_answer_forbids_sniffing_and_framing(api: Api) -> None:
    customer = await api.user("customer")
    answers = [
        await api.client.get("/docs"),
        await api.client.get("/redoc"),
        await api.client.get("/openapi.json"),
        await api.client.get("/api/v1/users/me", headers=customer.headers),
        await api.client.get("/api/v1/users/me"),  # 401
        await api.client.get("/api/v1/nowhere"),  # 404
        await api.client.get("/api/v1/loans/quote?loan_type=%00", headers=customer.headers),
        await api.client.post(
            "/api/v1/auth/register",
            content=b"x" * (api.app.state.settings.max_body_bytes + 1),
            headers={"content-type": "application/json"},
        ),  # 413
    ]
    assert [a.status_code for a in answers][:4] == [200, 200, 200, 200]
    for answer in answers:
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
        assert answer.headers["x-request-id"]


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8443", "a\\@evil.example"])
async def test_a_trailing_slash_is_not_redirected_to_the_callers_host(api: Api, host: str) -> None:
    admin = await api.user("admin")
    for path in ("/api/v1/loans/", "/api/v1/users/me/", "/api/v1/admin/pool/"):
        response = await api.client.get(path, headers={**admin.headers, "host": host})
        assert_problem(response, 404, "not_found")
        assert "location" not in response.headers


async def test_a_wrong_login_carries_www_authenticate(api: Api) -> None:
    customer = await api.user("customer")
    response = await api.token(customer.username, "not the password")
    assert_problem(response, 401, "invalid_credentials")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_a_body_of_the_wrong_media_type_says_which_one_is_expected(api: Api) -> None:
    as_json = await api.client.post(
        "/api/v1/auth/token", json={"username": "someone", "password": "something long"}
    )
    body = assert_problem(as_json, 422, "validation_error")
    assert body["errors"] == [
        {
            "loc": ["body"],
            "msg": "this endpoint takes a body of type application/x-www-form-urlencoded, "
            "not application/json",
            "type": "content_type",
        }
    ]
    as_form = await api.client.post("/api/v1/auth/register", data=user_payload("customer"))
    body = assert_problem(as_form, 422, "validation_error")
    assert body["errors"][0]["msg"] == (
        "this endpoint takes a body of type application/json, not application/x-www-form-urlencoded"
    )


async def test_validation_messages_carry_no_python_internals(api: Api) -> None:
    admin = await api.user("admin")
    customer = await api.user("customer")
    bad = [
        await api.client.post(
            "/api/v1/auth/register", json={**user_payload("customer"), "role": "x"}
        ),
        await api.client.post("/api/v1/auth/register", json=user_payload("customer", email="nope")),
        await api.client.get("/api/v1/admin/users?role=nobody", headers=admin.headers),
        await api.client.get("/api/v1/loans?status=gone", headers=admin.headers),
        await api.client.post(
            "/api/v1/loans", json={"loan_type": "x", "amount": "1.001"}, headers=customer.headers
        ),
        await api.client.post(
            "/api/v1/admin/loan-products",
            json={"code": "c", "schedule_type": "balloon"},
            headers=admin.headers,
        ),
    ]
    for response in bad:
        body = assert_problem(response, 422, "validation_error")
        for issue in body["errors"]:
            assert not re.search(r"<\w+\.\w+: ", issue["msg"]), issue
            assert not issue["msg"].startswith("Value error"), issue
            assert "pydantic" not in issue["msg"], issue


async def test_an_unmigrated_database_says_to_run_bank_api_migrate(
    backend: str, tmp_path: Path
) -> None:
    app = create_app(settings_for(await scratch_database(backend, tmp_path, "empty")))
    async with app.router.lifespan_context(app), make_client(app) as client:
        assert (await client.get("/healthz")).status_code == 200
        ready = await client.get("/readyz")
        assert "bank-api migrate" in assert_problem(ready, 503, "database_not_migrated")["detail"]
        for response in (
            await client.post("/api/v1/auth/register", json=user_payload("customer")),
            await client.post("/api/v1/auth/token", data={"username": "x", "password": "y"}),
        ):
            body = assert_problem(response, 503, "database_not_migrated")
            assert "bank-api migrate" in body["detail"]
            assert response.headers["retry-after"]


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bank_api.cli", *args],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        check=False,
    )


async def test_the_cli_says_what_is_wrong_in_one_line(backend: str, tmp_path: Path) -> None:
    empty = await scratch_database(backend, tmp_path, "empty")
    cases = [
        ({"BANK_API_DATABASE_URL": empty}, "run `bank-api migrate`"),
        ({"BANK_API_ENVIRONMENT": "production"}, "BANK_API_JWT_SECRET is required"),
        (
            {"BANK_API_ENVIRONMENT": "production", "BANK_API_JWT_SECRET": "z" * 40},
            "too regular",
        ),
        (
            {"BANK_API_DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:1/none"},
            "not reachable",
        ),
    ]
    for env, says in cases:
        done = await asyncio.to_thread(_cli, env, "ledger", "verify")
        assert done.returncode == 2, done.stderr
        assert done.stdout == ""
        assert done.stderr.count("\n") == 1, done.stderr
        assert done.stderr.startswith("bank-api: ")
        assert says in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
