from __future__ import annotations

import pytest

from tests.support.api import Api
from tests.support.factories import user_payload
from tests.support.http import assert_problem

pytestmark = pytest.mark.usefixtures("backend")


@pytest.mark.parametrize(
    ("role", "status"), [("customer", "active"), ("investor", "active"), ("agent", "pending")]
)
async def test_every_role_registers(api: Api, role: str, status: str) -> None:
    payload = user_payload(role, phone="+1 555 0100", address="1 Main St")
    response = await api.client.post("/api/v1/auth/register", json=payload)
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {
        "id",
        "username",
        "email",
        "full_name",
        "phone",
        "address",
        "role",
        "status",
        "created_at",
        "updated_at",
    }
    assert (body["username"], body["email"], body["role"], body["status"]) == (
        payload["username"],
        payload["email"],
        role,
        status,
    )
    assert (body["phone"], body["address"]) == ("+1 555 0100", "1 Main St")
    assert body["created_at"].endswith("Z") or body["created_at"].endswith("+00:00")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"role": "admin"}, "role"),
        ({"role": "superuser"}, "role"),
        ({"is_admin": True}, "is_admin"),
        ({"status": "active"}, "status"),
        ({"username": "ab"}, "username"),
        ({"username": "a" * 51}, "username"),
        ({"username": "bad name!"}, "username"),
        ({"email": "not-an-email"}, "email"),
        ({"password": "short"}, "password"),
        ({"password": "p" * 129}, "password"),
        ({"full_name": ""}, "full_name"),
        ({"full_name": "n" * 201}, "full_name"),
        ({"phone": "1" * 33}, "phone"),
        ({"address": "a" * 501}, "address"),
    ],
)
async def test_invalid_registration_is_422(
    api: Api, overrides: dict[str, object], field: str
) -> None:
    response = await api.client.post("/api/v1/auth/register", json=user_payload(**overrides))
    body = assert_problem(response, 422, "validation_error")
    assert any(field in error["loc"] for error in body["errors"]), body["errors"]
    for error in body["errors"]:
        assert set(error) == {"loc", "msg", "type"}
    listed = await api.user("admin")
    users = await api.client.get("/api/v1/admin/users", headers=listed.headers)
    assert users.json()["total"] == 1  # only the admin: nothing was created


async def test_missing_fields_are_422(api: Api) -> None:
    response = await api.client.post("/api/v1/auth/register", json={})
    body = assert_problem(response, 422, "validation_error")
    missing = {tuple(e["loc"]) for e in body["errors"] if e["type"] == "missing"}
    assert {
        ("body", name) for name in ("username", "password", "email", "full_name", "role")
    } <= missing


async def test_validation_error_does_not_echo_the_password(api: Api) -> None:
    response = await api.client.post("/api/v1/auth/register", json=user_payload(password="x" * 129))
    assert_problem(response, 422, "validation_error")
    assert "x" * 129 not in response.text


async def test_duplicate_username_in_any_case_is_409(api: Api) -> None:
    first = await api.register(username="Alice.Smith")
    assert first.status_code == 201
    again = await api.register(username="aLICE.sMITH")
    assert_problem(again, 409, "username_taken")


async def test_duplicate_email_in_any_case_is_409(api: Api) -> None:
    first = await api.register(email="Mixed.Case@Example.com")
    assert first.status_code == 201
    again = await api.register(email="mixed.case@example.COM")
    assert_problem(again, 409, "email_taken")


async def test_malformed_json_is_422(api: Api) -> None:
    response = await api.client.post(
        "/api/v1/auth/register", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_problem(response, 422, "validation_error")
