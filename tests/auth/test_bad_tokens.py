"""Every kind of bad token is the same 401 with `WWW-Authenticate: Bearer`."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from jose import jwt

from bank_api.config import Settings
from bank_api.errors import NotAuthenticated
from bank_api.security import VERIFIED_TOKENS_KEPT, TokenService
from tests.support.api import Api
from tests.support.databases import TEST_SECRET
from tests.support.factories import Account
from tests.support.http import assert_problem

pytestmark = pytest.mark.usefixtures("backend")


def _claims(account: Account, **overrides: Any) -> dict[str, Any]:
    """Claims exactly like a real token's for `account` (its credentials version included),
    changed by `overrides` (None removes a claim)."""
    now = int(time.time())
    version = jwt.get_unverified_claims(account.headers["Authorization"].split()[1])["cv"]
    claims: dict[str, Any] = {
        "sub": account.id,
        "role": account.role,
        "iat": now,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
        "cv": version,
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
    "missing_credentials_version": lambda a: jwt.encode(
        _claims(a, cv=None), TEST_SECRET, algorithm="HS256"
    ),
    "other_credentials_version": lambda a: jwt.encode(
        _claims(a, cv=_claims(a)["cv"] - 1), TEST_SECRET, algorithm="HS256"
    ),
}


def _signed_raw(payload: str) -> str:
    """A correctly signed HS256 token around a raw JSON payload (for numbers `json` won't
    write, such as `1e400`)."""
    header = _b64({"alg": "HS256", "typ": "JWT"})
    body = base64.urlsafe_b64encode(payload.encode()).rstrip(b"=").decode()
    signing_input = f"{header}.{body}".encode()
    signature = hmac.new(TEST_SECRET.encode(), signing_input, hashlib.sha256).digest()
    return f"{header}.{body}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


NON_FINITE = ["Infinity", "-Infinity", "NaN", "1e400", "-1e400", "1e300", "true", '"soon"', "null"]


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


async def test_a_token_built_like_the_bad_ones_but_correct_is_accepted(api: Api) -> None:
    """The control for the cases below: each differs from this token in one respect only."""
    account = await api.user("customer")
    token = jwt.encode(_claims(account), TEST_SECRET, algorithm="HS256")
    me = await api.client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200, me.text
    raw = _signed_raw(json.dumps(_claims(account)))
    me = await api.client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {raw}"})
    assert me.status_code == 200, me.text


@pytest.mark.parametrize("claim", ["iat", "exp", "nbf", "cv"])
@pytest.mark.parametrize("number", NON_FINITE)
async def test_a_signed_token_with_a_numeric_claim_that_is_not_a_finite_number_is_401(
    api: Api, claim: str, number: str
) -> None:
    account = await api.user("customer")
    reference = _assert_401(await api.client.get("/api/v1/users/me"))
    claims = json.dumps(_claims(account, **{claim: "PLACEHOLDER"}))
    token = _signed_raw(claims.replace('"PLACEHOLDER"', number))
    response = await api.client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}
    )
    assert _assert_401(response) == reference


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


async def _change_password(api: Api, account: Account, admin: Account) -> None:
    changed = await api.client.post(
        "/api/v1/users/me/password",
        headers=account.headers,
        json={"current_password": account.password, "new_password": "a brand new password"},
    )
    assert changed.status_code == 204, changed.text


async def _disable(api: Api, account: Account, admin: Account) -> None:
    disabled = await api.client.post(
        f"/api/v1/admin/users/{account.id}/disable", headers=admin.headers
    )
    assert disabled.status_code == 200, disabled.text
    enabled = await api.client.post(
        f"/api/v1/admin/users/{account.id}/enable", headers=admin.headers
    )
    assert enabled.status_code == 200, enabled.text


@pytest.mark.real_commits
@pytest.mark.parametrize("revoke", [_change_password, _disable], ids=["password", "disable"])
async def test_a_login_still_hashing_when_its_credentials_are_revoked_gets_a_refused_token(
    api: Api, monkeypatch: pytest.MonkeyPatch, revoke: Any
) -> None:
    """The login read the old credentials, and the old password was right when it was checked,
    but a password change (or a disable, even one undone at once) committed before the token
    was minted: that token must never work."""
    account = await api.user("customer")
    admin = await api.user("admin")
    hasher = api.app.state.hasher
    real_verify = hasher.verify
    hashing, go_on = asyncio.Event(), asyncio.Event()

    async def verify_then_wait(password: str, stored: str | None) -> Any:
        result = await real_verify(password, stored)
        hashing.set()
        await go_on.wait()
        return result

    monkeypatch.setattr(hasher, "verify", verify_then_wait)
    login = asyncio.create_task(api.token(account.username, account.password))
    await hashing.wait()
    monkeypatch.setattr(hasher, "verify", real_verify)
    await revoke(api, account, admin)
    go_on.set()
    response = await login
    assert response.status_code == 200, response.text
    token = {"Authorization": f"Bearer {response.json()['access_token']}"}
    _assert_401(await api.client.get("/api/v1/users/me", headers=token))


async def test_a_token_accepted_once_is_refused_once_it_expires(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Verified tokens are remembered (the signature is not checked again on every request),
    but never past their `exp`: the same token, one second after it, is 401."""
    account = await api.user("customer")
    expires = int(time.time()) + 60
    token = jwt.encode(_claims(account, exp=expires), TEST_SECRET, algorithm="HS256")
    headers = {"Authorization": f"Bearer {token}"}
    assert (await api.client.get("/api/v1/users/me", headers=headers)).status_code == 200
    monkeypatch.setattr(time, "time", lambda: expires + 1.0)
    _assert_401(await api.client.get("/api/v1/users/me", headers=headers))
    monkeypatch.setattr(time, "time", lambda: expires - 1.0)  # and it was forgotten, not kept
    assert (await api.client.get("/api/v1/users/me", headers=headers)).status_code == 200


def test_remembered_tokens_are_bounded_and_checked_one_by_one() -> None:
    """The memory of verified tokens holds at most VERIFIED_TOKENS_KEPT, oldest out first, and
    a tampered token is refused even while the original it copies is remembered."""
    tokens = TokenService(Settings(_env_file=None, jwt_secret=TEST_SECRET))  # type: ignore[call-arg]
    user = uuid.uuid4()
    issued = [
        tokens.issue(user, "investor", datetime.now(UTC)).access_token
        for _ in range(VERIFIED_TOKENS_KEPT + 1)
    ]
    for token in issued:
        assert tokens.decode(token).user_id == user
    assert len(tokens._verified) == VERIFIED_TOKENS_KEPT
    assert issued[0] not in tokens._verified
    assert issued[-1] in tokens._verified
    header, payload, signature = issued[-1].split(".")
    forged = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    with pytest.raises(NotAuthenticated):
        tokens.decode(f"{header}.{_b64({**forged, 'role': 'admin'})}.{signature}")
