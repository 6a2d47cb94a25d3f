from __future__ import annotations

import random
import uuid

import pytest
from jose import jwt
from passlib.context import CryptContext

from bank_api.uow import UnitOfWork
from tests.support.api import Api
from tests.support.databases import TEST_SECRET
from tests.support.factories import PASSWORD, user_payload
from tests.support.http import assert_problem

pytestmark = pytest.mark.usefixtures("backend")


async def test_login_returns_a_bearer_token(api: Api) -> None:
    account = await api.user("customer")
    response = await api.token(account.username)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert response.headers["cache-control"] == "no-store"
    claims = jwt.decode(body["access_token"], TEST_SECRET, algorithms=["HS256"])
    assert claims["sub"] == account.id
    assert claims["role"] == "customer"
    assert claims["exp"] - int(claims["iat"]) == 3600
    assert len(claims["jti"]) == 32
    me = await api.client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.json()["id"] == account.id


async def test_login_is_case_insensitive_on_username(api: Api) -> None:
    account = await api.user("investor")
    response = await api.token(account.username.upper())
    assert response.status_code == 200


async def test_wrong_password_and_unknown_user_look_the_same(api: Api) -> None:
    account = await api.user("customer")
    wrong = await api.token(account.username, "wrong password!")
    unknown = await api.token("nobody_here", PASSWORD)
    for response in (wrong, unknown):
        assert_problem(response, 401, "invalid_credentials")
    strip = lambda r: {k: v for k, v in r.json().items() if k != "request_id"}  # noqa: E731
    assert strip(wrong) == strip(unknown)
    assert wrong.headers["content-type"] == unknown.headers["content-type"]


async def test_pending_agent_cannot_log_in(api: Api) -> None:
    payload = user_payload("agent")
    assert (await api.client.post("/api/v1/auth/register", json=payload)).status_code == 201
    assert_problem(await api.token(payload["username"]), 403, "agent_not_approved")


async def test_rejected_agent_cannot_log_in(api: Api) -> None:
    admin = await api.user("admin")
    payload = user_payload("agent")
    agent_id = (await api.client.post("/api/v1/auth/register", json=payload)).json()["id"]
    rejected = await api.client.post(
        f"/api/v1/admin/agents/{agent_id}/reject", headers=admin.headers
    )
    assert rejected.json()["status"] == "rejected"
    assert_problem(await api.token(payload["username"]), 403, "agent_rejected")


async def test_status_is_not_revealed_without_the_password(api: Api) -> None:
    payload = user_payload("agent")
    await api.client.post("/api/v1/auth/register", json=payload)
    assert_problem(
        await api.token(payload["username"], "wrong password!"), 401, "invalid_credentials"
    )


async def test_disabled_user_cannot_log_in(api: Api) -> None:
    admin = await api.user("admin")
    account = await api.user("investor")
    disabled = await api.client.post(
        f"/api/v1/admin/users/{account.id}/disable", headers=admin.headers
    )
    assert disabled.status_code == 200
    assert_problem(await api.token(account.username), 403, "account_disabled")


async def test_repeated_failures_for_a_username_are_throttled(api: Api) -> None:
    account = await api.user("customer")
    for _ in range(5):
        assert_problem(
            await api.token(account.username, "wrong password!"), 401, "invalid_credentials"
        )
    throttled = await api.token(account.username)  # even the right password now waits
    assert_problem(throttled, 429, "too_many_attempts")
    assert 1 <= int(throttled.headers["retry-after"]) <= 900
    other = await api.user("customer")
    assert (await api.token(other.username)).status_code == 200


async def test_a_success_clears_the_username_counter(api: Api) -> None:
    account = await api.user("customer")
    for _ in range(4):
        await api.token(account.username, "wrong password!")
    assert (await api.token(account.username)).status_code == 200
    for _ in range(4):
        await api.token(account.username, "wrong password!")
    assert (await api.token(account.username)).status_code == 200


@pytest.mark.parametrize("settings_overrides", [{"login_max_failures_per_client": 3}])
async def test_repeated_failures_from_one_client_are_throttled(api: Api) -> None:
    for name in ("ghost_a", "ghost_b", "ghost_c"):
        assert_problem(await api.token(name, "wrong password!"), 401, "invalid_credentials")
    throttled = await api.token("ghost_d", "wrong password!")
    assert_problem(throttled, 429, "too_many_attempts")
    assert int(throttled.headers["retry-after"]) >= 1


async def test_token_form_requires_username_and_password(api: Api) -> None:
    response = await api.client.post("/api/v1/auth/token", data={"username": "x"})
    assert_problem(response, 422, "validation_error")


def _long_passwords(count: int) -> list[str]:
    """Passwords past the 128-character limit, up to far past the hasher's own limit (4 KiB),
    of one-, two-, three- and four-byte characters."""
    rng = random.Random(20261201)
    alphabet = "aZ9 -_ é ß 漢字 😀\\"
    lengths = [129, 130, 256, 4096, 4097, 20_000, *(rng.randint(129, 60_000) for _ in range(count))]
    return ["".join(rng.choice(alphabet) for _ in range(n)) for n in lengths]


@pytest.mark.parametrize(
    "settings_overrides", [{"login_max_failures": 1000, "login_max_failures_per_client": 1000}]
)
async def test_a_password_longer_than_any_we_accept_is_just_a_wrong_password(api: Api) -> None:
    account = await api.user("customer")
    reference = assert_problem(
        await api.token(account.username, "wrong password!"), 401, "invalid_credentials"
    )
    passwords = _long_passwords(14)
    for username in (account.username, "nobody_like_this"):
        for password in passwords:
            response = await api.token(username, password)
            body = assert_problem(response, 401, "invalid_credentials")
            assert response.headers["www-authenticate"] == "Bearer"
            assert {k: v for k, v in body.items() if k != "request_id"} == {
                k: v for k, v in reference.items() if k != "request_id"
            }
    assert (await api.token(account.username)).status_code == 200


async def test_register_and_password_change_name_the_length_limits(api: Api) -> None:
    for password in [*_long_passwords(4), "short", ""]:
        response = await api.client.post(
            "/api/v1/auth/register", json=user_payload("customer", password=password)
        )
        body = assert_problem(response, 422, "validation_error")
        limit = "128" if len(password) > 8 else "8"
        assert [e["loc"] for e in body["errors"]] == [["body", "password"]]
        assert limit in body["errors"][0]["msg"], body
    account = await api.user("customer")
    for password in [*_long_passwords(4), "short"]:
        response = await api.client.post(
            "/api/v1/users/me/password",
            headers=account.headers,
            json={"current_password": password, "new_password": password},
        )
        body = assert_problem(response, 422, "validation_error")
        assert {tuple(e["loc"]) for e in body["errors"]} == {
            ("body", "current_password"),
            ("body", "new_password"),
        }


async def test_a_hash_made_with_other_parameters_is_replaced_at_the_next_login(api: Api) -> None:
    """Changing BANK_API_ARGON2_* needs no migration: a stored hash with other parameters
    still verifies, and the login stores a new one with the current parameters."""
    account = await api.user("customer")
    old = CryptContext(schemes=["argon2"], argon2__rounds=2, argon2__memory_cost=2048)
    async with api.app.state.sessionmaker() as session, UnitOfWork(session) as uow:
        user = await uow.users.get(uuid.UUID(account.id))
        assert user is not None
        user.password_hash = old.hash(account.password)
        await uow.commit()
    assert (await api.token(account.username, account.password)).status_code == 200
    settings = api.app.state.settings
    async with api.app.state.sessionmaker() as session, UnitOfWork(session) as uow:
        user = await uow.users.get(uuid.UUID(account.id))
        assert user is not None
        stored = user.password_hash
    assert f"m={settings.argon2_memory_kib},t={settings.argon2_time_cost}," in stored
    assert (await api.token(account.username, account.password)).status_code == 200
