"""Every kind of bad token is the same 401 with `WWW-Authenticate: Bearer`."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import pytest
from jose import jwt

from tests.support.api import Api
from tests.support.databases import TEST_SECRET
from tests.support.factories import Account
from tests.support.http import assert_problem

pytestmark = pytest.mark.usefixtures("backend")


def _claims(account: Account, **overrides: Any) -> dict[str, Any]:
    now = time.time()
    claims: dict[str, Any] = {
        "sub": account.id,
        "role": account.role,
        "iat": now,
        "exp": int(now) + 600,
        "jti": uuid.uuid4().hex,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _alg_none(account: Account) -> str:
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(account))}."


def _tampered(account: Account) -> str:
    header, _, signature = jwt.encode(_claims(account), TEST_SECRET, algorithm="HS256").split(".")
    return f"{header}.{_b64(_claims(account, role='admin'))}.{signature}"


TOKENS = {
    "garbage": lambda a: "not-a-jwt",
    "wrong_signature": lambda a: jwt.encode(
        _claims(a), "another-secret-" + "y" * 32, algorithm="HS256"
    ),
    "alg_none": _alg_none,
    "tampered_payload": _tampered,
    "hs512": lambda a: jwt.encode(_claims(a), TEST_SECRET, algorithm="HS512"),
    "expired": lambda a: jwt.encode(
        _claims(a, iat=time.time() - 7200, exp=int(time.time()) - 3600),
        TEST_SECRET,
        algorithm="HS256",
    ),
    "missing_sub": lambda a: jwt.encode(_claims(a, sub=None), TEST_SECRET, algorithm="HS256"),
    "missing_exp": lambda a: jwt.encode(_claims(a, exp=None), TEST_SECRET, algorithm="HS256"),
    "unknown_user": lambda a: jwt.encode(
        _claims(a, sub=str(uuid.uuid4())), TEST_SECRET, algorithm="HS256"
    ),
    "sub_not_a_uuid": lambda a: jwt.encode(
        _claims(a, sub="1 OR 1=1"), TEST_SECRET, algorithm="HS256"
    ),
}


def _assert_401(response: Any) -> dict[str, Any]:
    body = assert_problem(response, 401, "not_authenticated")
    assert response.headers["www-authenticate"] == "Bearer"
    return {k: v for k, v in body.items() if k != "request_id"}


async def test_missing_token_is_401(api: Api) -> None:
    _assert_401(await api.client.get("/api/v1/users/me"))


async def test_non_bearer_scheme_is_401(api: Api) -> None:
    account = await api.user("customer")
    token = account.headers["Authorization"].split()[1]
    _assert_401(
        await api.client.get("/api/v1/users/me", headers={"Authorization": f"Basic {token}"})
    )


@pytest.mark.parametrize("kind", sorted(TOKENS))
async def test_bad_token_is_401_with_the_same_body(api: Api, kind: str) -> None:
    account = await api.user("customer")
    reference = _assert_401(await api.client.get("/api/v1/users/me"))
    token = TOKENS[kind](account)
    response = await api.client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}
    )
    assert _assert_401(response) == reference


async def test_token_issued_before_a_password_change_is_401(api: Api) -> None:
    account = await api.user("customer")
    changed = await api.client.post(
        "/api/v1/users/me/password",
        headers=account.headers,
        json={"current_password": account.password, "new_password": "a brand new password"},
    )
    assert changed.status_code == 204
    _assert_401(await api.client.get("/api/v1/users/me", headers=account.headers))
    fresh = await api.login(account.username, "a brand new password")
    assert (await api.client.get("/api/v1/users/me", headers=fresh)).status_code == 200
    assert_problem(await api.token(account.username, account.password), 401, "invalid_credentials")


async def test_token_of_a_disabled_user_is_401_and_stays_revoked(api: Api) -> None:
    admin = await api.user("admin")
    account = await api.user("investor")
    await api.client.post(f"/api/v1/admin/users/{account.id}/disable", headers=admin.headers)
    _assert_401(await api.client.get("/api/v1/users/me", headers=account.headers))
    await api.client.post(f"/api/v1/admin/users/{account.id}/enable", headers=admin.headers)
    _assert_401(await api.client.get("/api/v1/users/me", headers=account.headers))
    fresh = await api.login(account.username)
    assert (await api.client.get("/api/v1/users/me", headers=fresh)).status_code == 200
