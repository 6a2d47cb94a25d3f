from __future__ import annotations

import pytest

from tests.support.api import Api
from tests.support.http import assert_problem

pytestmark = pytest.mark.usefixtures("backend")


async def test_me_returns_the_caller(api: Api) -> None:
    account = await api.user("investor")
    response = await api.client.get("/api/v1/users/me", headers=account.headers)
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["username"], body["role"], body["status"]) == (
        account.id,
        account.username,
        "investor",
        "active",
    )


async def test_update_me_changes_the_given_fields(api: Api) -> None:
    account = await api.user("customer")
    response = await api.client.patch(
        "/api/v1/users/me",
        headers=account.headers,
        json={
            "full_name": "New Name",
            "phone": "+44 20 7946 0000",
            "address": None,
            "email": "Renamed@Example.com",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["full_name"], body["phone"], body["address"], body["email"]) == (
        "New Name",
        "+44 20 7946 0000",
        None,
        "Renamed@example.com",
    )  # domains are normalised
    assert body["updated_at"] > body["created_at"]
    again = await api.client.get("/api/v1/users/me", headers=account.headers)
    assert again.json() == body


async def test_update_me_can_change_the_case_of_its_own_username(api: Api) -> None:
    account = await api.user("customer")
    response = await api.client.patch(
        "/api/v1/users/me", headers=account.headers, json={"username": account.username.upper()}
    )
    assert response.status_code == 200
    assert response.json()["username"] == account.username.upper()


@pytest.mark.parametrize(
    "body",
    [
        {"role": "admin"},
        {"status": "active"},
        {"id": "x"},
        {"password_hash": "x"},
        {},
        {"username": None},
        {"email": "nope"},
        {"full_name": "n" * 201},
    ],
)
async def test_update_me_refuses_anything_else(api: Api, body: dict[str, object]) -> None:
    account = await api.user("customer")
    response = await api.client.patch("/api/v1/users/me", headers=account.headers, json=body)
    assert_problem(response, 422, "validation_error")
    me = (await api.client.get("/api/v1/users/me", headers=account.headers)).json()
    assert (me["role"], me["status"], me["username"]) == ("customer", "active", account.username)


async def test_update_me_to_a_taken_username_or_email_is_409(api: Api) -> None:
    first = await api.user("customer")
    second = await api.user("investor")
    taken_name = await api.client.patch(
        "/api/v1/users/me", headers=second.headers, json={"username": first.username.title()}
    )
    assert_problem(taken_name, 409, "username_taken")
    me = (await api.client.get("/api/v1/users/me", headers=first.headers)).json()
    taken_email = await api.client.patch(
        "/api/v1/users/me", headers=second.headers, json={"email": me["email"].upper()}
    )
    assert_problem(taken_email, 409, "email_taken")


async def test_password_change_with_a_wrong_current_password_is_422(api: Api) -> None:
    account = await api.user("customer")
    response = await api.client.post(
        "/api/v1/users/me/password",
        headers=account.headers,
        json={"current_password": "not my password", "new_password": "another password"},
    )
    assert_problem(response, 422, "invalid_current_password")
    assert (await api.client.get("/api/v1/users/me", headers=account.headers)).status_code == 200
    assert (await api.token(account.username)).status_code == 200


async def test_password_change_rejects_a_short_new_password(api: Api) -> None:
    account = await api.user("customer")
    response = await api.client.post(
        "/api/v1/users/me/password",
        headers=account.headers,
        json={"current_password": account.password, "new_password": "short"},
    )
    assert_problem(response, 422, "validation_error")


async def test_customers_list_for_staff(api: Api) -> None:
    agent = await api.user("agent")
    admin = await api.user("admin")
    customers = [await api.user("customer") for _ in range(3)]
    await api.user("investor")
    for staff in (agent, admin):
        response = await api.client.get("/api/v1/users/customers?limit=2", headers=staff.headers)
        assert response.status_code == 200
        body = response.json()
        assert (body["total"], body["limit"], body["offset"], len(body["items"])) == (3, 2, 0, 2)
        assert {item["role"] for item in body["items"]} == {"customer"}
        rest = await api.client.get(
            "/api/v1/users/customers?limit=2&offset=2", headers=staff.headers
        )
        ids = {i["id"] for i in body["items"]} | {i["id"] for i in rest.json()["items"]}
        assert ids == {c.id for c in customers}


@pytest.mark.parametrize("role", ["customer", "investor"])
async def test_customers_list_refused_for_customers_and_investors(api: Api, role: str) -> None:
    account = await api.user(role)
    response = await api.client.get("/api/v1/users/customers", headers=account.headers)
    assert_problem(response, 403, "forbidden")


@pytest.mark.parametrize("query", ["limit=201", "limit=0", "offset=-1", "limit=abc"])
async def test_bad_page_parameters_are_422(api: Api, query: str) -> None:
    admin = await api.user("admin")
    response = await api.client.get(f"/api/v1/users/customers?{query}", headers=admin.headers)
    assert_problem(response, 422, "validation_error")
