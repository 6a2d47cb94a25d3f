"""Sessions for front ends: refresh tokens rotated on every use, families revoked on reuse,
logout, password change and disable (SPEC §11.6)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from bank_api.common.types import utcnow
from bank_api.models import RefreshToken, User
from bank_api.security import refresh_token_hash
from tests.support.api import Api
from tests.support.factories import PASSWORD, Account
from tests.support.http import assert_problem, bearer

pytestmark = pytest.mark.usefixtures("backend")

REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"


async def _login(api: Api, user: Account) -> dict[str, Any]:
    response = await api.token(user.username)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _refresh(api: Api, token: str) -> httpx.Response:
    return await api.client.post(REFRESH, json={"refresh_token": token})


def _refused(response: httpx.Response) -> None:
    assert_problem(response, 401, "invalid_refresh_token")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_a_login_gives_a_refresh_token_that_rotates(api: Api) -> None:
    user = await api.user("customer")
    first = await _login(api, user)
    assert first["refresh_expires_in"] == 14 * 24 * 3600
    assert first["refresh_token"]
    assert first["refresh_token"] != first["access_token"]
    renewed = await _refresh(api, first["refresh_token"])
    assert renewed.status_code == 200, renewed.text
    body = renewed.json()
    assert body["token_type"] == "bearer"
    assert body["refresh_token"] != first["refresh_token"]
    me = await api.client.get("/api/v1/users/me", headers=bearer(body["access_token"]))
    assert (me.status_code, me.json()["id"]) == (200, user.id)
    again = await _refresh(api, body["refresh_token"])
    assert again.status_code == 200
    # only hashes are stored
    async with api.app.state.sessionmaker() as session:
        stored = (await session.scalars(select(RefreshToken.token_hash))).all()
    assert refresh_token_hash(first["refresh_token"]) in stored
    assert first["refresh_token"] not in stored


async def test_a_spent_token_presented_again_revokes_the_whole_login(api: Api) -> None:
    user = await api.user("investor")
    first = await _login(api, user)
    other_login = await _login(api, user)
    second = (await _refresh(api, first["refresh_token"])).json()
    _refused(await _refresh(api, first["refresh_token"]))  # reuse: stolen, say
    _refused(await _refresh(api, second["refresh_token"]))  # its whole family is revoked
    # another login of the same user is another family, untouched
    assert (await _refresh(api, other_login["refresh_token"])).status_code == 200


@pytest.mark.parametrize("token", ["", "x" * 201, "not-a-token", None, 5])
async def test_unknown_or_malformed_tokens_are_refused(api: Api, token: object) -> None:
    response = await api.client.post(REFRESH, json={"refresh_token": token})
    if isinstance(token, str) and 0 < len(token) <= 200:
        _refused(response)
    else:
        assert_problem(response, 422, "validation_error")


async def test_an_expired_token_is_refused(api: Api) -> None:
    user = await api.user("customer")
    first = await _login(api, user)
    async with api.app.state.sessionmaker() as session:
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.token_hash == refresh_token_hash(first["refresh_token"]))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()
    _refused(await _refresh(api, first["refresh_token"]))


async def test_logout_revokes_the_family(api: Api) -> None:
    user = await api.user("agent")
    first = await _login(api, user)
    second = (await _refresh(api, first["refresh_token"])).json()
    out = await api.client.post(LOGOUT, json={"refresh_token": second["refresh_token"]})
    assert out.status_code == 204
    _refused(await _refresh(api, second["refresh_token"]))
    # logging out twice, or with a token we never issued, is still 204
    assert (await api.client.post(LOGOUT, json={"refresh_token": "nope"})).status_code == 204


async def test_a_password_change_and_a_disable_revoke_every_family(api: Api) -> None:
    user = await api.user("customer")
    tokens = [(await _login(api, user))["refresh_token"] for _ in range(2)]
    changed = await api.client.post(
        "/api/v1/users/me/password",
        json={"current_password": PASSWORD, "new_password": "another-Pass-12"},
        headers=user.headers,
    )
    assert changed.status_code == 204, changed.text
    for token in tokens:
        _refused(await _refresh(api, token))
    victim, admin = await api.user("investor"), await api.user("admin")
    token = (await _login(api, victim))["refresh_token"]
    disabled = await api.client.post(
        f"/api/v1/admin/users/{victim.id}/disable", headers=admin.headers
    )
    assert disabled.status_code == 200
    _refused(await _refresh(api, token))
    enabled = await api.client.post(
        f"/api/v1/admin/users/{victim.id}/enable", headers=admin.headers
    )
    assert enabled.status_code == 200
    _refused(await _refresh(api, token))  # enabling does not bring old sessions back


@pytest.mark.real_commits
async def test_racing_refreshes_with_one_token_exactly_one_wins(api: Api) -> None:
    user = await api.user("customer")
    token = (await _login(api, user))["refresh_token"]
    responses = await asyncio.gather(*(_refresh(api, token) for _ in range(4)))
    assert sorted(r.status_code for r in responses) == [200, 401, 401, 401]


async def test_a_token_issued_before_a_password_change_is_never_renewed(api: Api) -> None:
    """Even one a racing refresh wrote just before the change: it is older than the new
    credentials, so it is refused and its family revoked."""
    user = await api.user("customer")
    token = (await _login(api, user))["refresh_token"]
    async with api.app.state.sessionmaker() as session:
        await session.execute(update(RefreshToken).values(created_at=utcnow() - timedelta(hours=1)))
        await session.execute(
            update(User).where(User.id == uuid.UUID(user.id)).values(tokens_valid_after=utcnow())
        )
        await session.commit()
    _refused(await _refresh(api, token))
