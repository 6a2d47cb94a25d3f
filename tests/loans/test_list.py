from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.api import Api
from tests.support.flows import new_loan
from tests.support.http import assert_problem

pytestmark = pytest.mark.usefixtures("backend")


async def _ids(api: Api, headers: dict[str, str], query: str = "") -> list[str]:
    response = await api.client.get(f"/api/v1/loans?{query}", headers=headers)
    assert response.status_code == 200, response.text
    return [loan["id"] for loan in response.json()["items"]]


async def test_filters_select_exactly_the_matching_loans(api: Api) -> None:
    alice = await api.user("customer")
    bob = await api.user("customer")
    agent = await api.user("agent")
    admin = await api.user("admin")
    a1 = await new_loan(api, alice)
    a2 = await new_loan(api, alice, loan_type="car_loan", amount="5000.00")
    b1 = await new_loan(api, bob, loan_type="home_loan", amount="20000.00", term_months=24)
    await api.client.post(f"/api/v1/loans/{a2['id']}/request", headers=agent.headers)
    await api.client.post(
        f"/api/v1/loans/{b1['id']}/reject", headers=admin.headers, json={"reason": "no"}
    )
    h = admin.headers
    assert await _ids(api, h) == [b1["id"], a2["id"], a1["id"]]  # newest first
    assert await _ids(api, h, "status=new") == [a1["id"]]
    assert await _ids(api, h, "status=requested") == [a2["id"]]
    assert await _ids(api, h, "loan_type=home_loan") == [b1["id"]]
    assert await _ids(api, h, f"agent_id={agent.id}") == [a2["id"]]
    assert await _ids(api, h, f"customer_id={alice.id}") == [a2["id"], a1["id"]]
    assert await _ids(api, h, f"customer_id={alice.id}&status=new") == [a1["id"]]
    assert await _ids(api, agent.headers, f"customer_id={bob.id}") == [b1["id"]]


async def test_customer_sees_only_their_own_loans(api: Api) -> None:
    alice = await api.user("customer")
    bob = await api.user("customer")
    mine = await new_loan(api, alice)
    await new_loan(api, bob)
    assert await _ids(api, alice.headers) == [mine["id"]]
    assert await _ids(api, alice.headers, f"customer_id={bob.id}") == []


async def test_date_only_upper_bound_includes_the_whole_day(api: Api) -> None:
    customer = await api.user("customer")
    loan = await new_loan(api, customer)
    today = datetime.now(UTC).date()
    created = datetime.fromisoformat(loan["created_at"].replace("Z", "+00:00"))
    yesterday, tomorrow = today - timedelta(days=1), today + timedelta(days=1)
    h = customer.headers
    assert await _ids(api, h, f"created_to={today}") == [loan["id"]]
    assert await _ids(api, h, f"created_from={today}&created_to={today}") == [loan["id"]]
    assert await _ids(api, h, f"created_to={yesterday}") == []
    assert await _ids(api, h, f"created_from={tomorrow}") == []
    assert await _ids(api, h, f"updated_from={today}&updated_to={today}") == [loan["id"]]
    stamp = created.isoformat().replace("+00:00", "Z")
    assert await _ids(api, h, f"created_from={stamp}&created_to={stamp}") == [loan["id"]]
    before = (created - timedelta(seconds=1)).isoformat()
    assert await _ids(api, h, "created_to=" + before.replace("+", "%2B")) == []


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("created_from=2026-05-02&created_to=2026-05-01", "invalid_date_range"),
        ("updated_from=2026-05-01T10:00:00Z&updated_to=2026-05-01T09:00:00Z", "invalid_date_range"),
        ("created_from=yesterday", "validation_error"),
        ("created_to=2026-02-30", "validation_error"),
        ("updated_to=2026-13-01T00:00:00Z", "validation_error"),
        ("limit=201", "validation_error"),
        ("offset=-1", "validation_error"),
        ("status=pending", "validation_error"),
        ("customer_id=42", "validation_error"),
    ],
)
async def test_bad_filters_are_422(api: Api, query: str, code: str) -> None:
    admin = await api.user("admin")
    response = await api.client.get(f"/api/v1/loans?{query}", headers=admin.headers)
    assert_problem(response, 422, code)


async def test_pagination(api: Api) -> None:
    customer = await api.user("customer")
    loans = [await new_loan(api, customer) for _ in range(5)]
    response = await api.client.get("/api/v1/loans?limit=2&offset=1", headers=customer.headers)
    body = response.json()
    assert (body["total"], body["limit"], body["offset"]) == (5, 2, 1)
    assert [i["id"] for i in body["items"]] == [loans[3]["id"], loans[2]["id"]]
