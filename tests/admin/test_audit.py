"""The audit trail of staff actions (SPEC §11.5): one record per change, in the same
transaction, newest first, append-only."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests.support.api import Api
from tests.support.factories import Account
from tests.support.flows import DATE_OVERRIDE, investor_with, new_loan, set_date
from tests.support.http import assert_problem

pytestmark = [
    pytest.mark.usefixtures("backend"),
    pytest.mark.parametrize("settings_overrides", DATE_OVERRIDE),
]

AUDIT = "/api/v1/admin/audit"


async def _audit(api: Api, admin: Account, **params: str) -> list[dict[str, Any]]:
    response = await api.client.get(AUDIT, params={"limit": 200, **params}, headers=admin.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_every_staff_change_leaves_one_record_with_its_changes(api: Api) -> None:
    admin, agent = await api.user("admin"), await api.user("agent")
    applicant = await api.registered("customer")
    pending = (await api.register("agent")).json()
    assert (
        await api.client.post(f"/api/v1/admin/agents/{pending['id']}/reject", headers=admin.headers)
    ).status_code == 200
    assert (
        await api.client.post(f"/api/v1/admin/users/{applicant.id}/disable", headers=admin.headers)
    ).status_code == 200
    assert (
        await api.client.post(f"/api/v1/admin/users/{applicant.id}/enable", headers=admin.headers)
    ).status_code == 200
    product = await api.client.patch(
        "/api/v1/admin/loan-products/car_loan", json={"annual_rate": "7.50"}, headers=admin.headers
    )
    assert product.status_code == 200
    assert (await set_date(api, admin.headers, date(2031, 1, 5))).status_code == 200
    await investor_with(api, "5000.00")
    customer = await api.user("customer")
    loan = await new_loan(api, customer, amount="1000.00")
    base = f"/api/v1/loans/{loan['id']}"
    assert (
        await api.client.patch(base, json={"term_months": 24}, headers=agent.headers)
    ).status_code == 200
    assert (await api.client.post(f"{base}/request", headers=agent.headers)).status_code == 200
    earlier = await _audit(api, admin)
    assert (await api.client.post(f"{base}/approve", headers=admin.headers)).status_code == 200

    records = await _audit(api, admin)
    assert records[1:] == earlier  # later actions add records and change none
    assert [r["action"] for r in records] == [
        "loan.approve",
        "loan.request",
        "loan.edit",
        "business_date.set",
        "product.update",
        "user.enable",
        "user.disable",
        "agent.reject",
    ]
    by_action = {r["action"]: r for r in records}
    assert by_action["product.update"]["changes"] == {"annual_rate": {"from": "7.25", "to": "7.50"}}
    assert by_action["product.update"]["target_id"] == "car_loan"
    assert by_action["user.disable"]["changes"] == {"status": {"from": "active", "to": "disabled"}}
    assert by_action["agent.reject"]["changes"] == {"status": {"from": "pending", "to": "rejected"}}
    assert by_action["loan.edit"]["changes"]["term_months"] == {"from": 12, "to": 24}
    assert by_action["loan.edit"]["actor_id"] == agent.id
    assert by_action["loan.edit"]["actor_role"] == "agent"
    assert by_action["loan.approve"]["changes"]["status"] == {"from": "requested", "to": "active"}
    assert by_action["business_date.set"]["changes"]["date"]["to"] == "2031-01-05"
    assert all(r["request_id"] for r in records)
    # filters
    assert [r["action"] for r in await _audit(api, admin, actor_id=agent.id)] == [
        "loan.request",
        "loan.edit",
    ]
    assert len(await _audit(api, admin, target_id=loan["id"])) == 3
    assert [r["action"] for r in await _audit(api, admin, action="user.enable")] == ["user.enable"]


async def test_refused_actions_and_customers_leave_no_record(api: Api) -> None:
    admin = await api.user("admin")
    customer = await api.user("customer")
    loan = await new_loan(api, customer)  # a customer's own action is not audited
    refused = await api.client.post(
        f"/api/v1/loans/{loan['id']}/approve", headers=admin.headers
    )  # the pool is empty: 409, nothing changes
    assert_problem(refused, 409, "allocation_not_possible")
    assert await _audit(api, admin) == []


async def test_the_trail_is_admin_only_and_no_route_can_change_it(api: Api) -> None:
    for role in ("agent", "customer", "investor"):
        other = await api.user(role)
        assert_problem(await api.client.get(AUDIT, headers=other.headers), 403, "forbidden")
    admin = await api.user("admin")
    assert (
        await api.client.post(f"/api/v1/admin/users/{admin.id}/disable", headers=admin.headers)
    ).status_code == 409
    bad = await api.client.get(
        AUDIT, params={"from": "2031-02-01", "to": "2031-01-01"}, headers=admin.headers
    )
    assert_problem(bad, 422, "invalid_date_range")
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        response = await api.client.request(method, AUDIT, headers=admin.headers)
        assert response.status_code == 405
    # the only route of the trail reads it
    paths = set(api.app.openapi()["paths"])
    assert [p for p in paths if "audit" in p] == ["/api/v1/admin/audit"]
    assert set(api.app.openapi()["paths"]["/api/v1/admin/audit"]) == {"get"}
