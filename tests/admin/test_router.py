from __future__ import annotations

import uuid

import pytest

from tests.support.api import Api
from tests.support.factories import user_payload
from tests.support.http import assert_problem

pytestmark = pytest.mark.usefixtures("backend")


async def _pending_agent(api: Api) -> tuple[str, dict[str, str]]:
    payload = user_payload("agent")
    response = await api.client.post("/api/v1/auth/register", json=payload)
    return response.json()["id"], payload


async def test_admin_approves_an_agent_who_can_then_log_in(api: Api) -> None:
    admin = await api.user("admin")
    agent_id, payload = await _pending_agent(api)
    pending = await api.client.get("/api/v1/admin/agents?status=pending", headers=admin.headers)
    assert [a["id"] for a in pending.json()["items"]] == [agent_id]
    approved = await api.client.post(
        f"/api/v1/admin/agents/{agent_id}/approve", headers=admin.headers
    )
    assert approved.status_code == 200
    assert (approved.json()["id"], approved.json()["status"]) == (agent_id, "active")
    headers = await api.login(payload["username"])
    customers = await api.client.get("/api/v1/users/customers", headers=headers)
    assert customers.status_code == 200
    active = await api.client.get("/api/v1/admin/agents?status=active", headers=admin.headers)
    assert [a["id"] for a in active.json()["items"]] == [agent_id]
    again = await api.client.post(f"/api/v1/admin/agents/{agent_id}/approve", headers=admin.headers)
    assert_problem(again, 409, "agent_not_pending")


async def test_admin_rejects_an_agent_who_cannot_log_in(api: Api) -> None:
    admin = await api.user("admin")
    agent_id, payload = await _pending_agent(api)
    rejected = await api.client.post(
        f"/api/v1/admin/agents/{agent_id}/reject", headers=admin.headers
    )
    assert (rejected.status_code, rejected.json()["status"]) == (200, "rejected")
    assert_problem(await api.token(payload["username"]), 403, "agent_rejected")
    for action in ("approve", "reject"):
        late = await api.client.post(
            f"/api/v1/admin/agents/{agent_id}/{action}", headers=admin.headers
        )
        assert_problem(late, 409, "agent_not_pending")


async def test_approving_a_non_agent_or_missing_user_is_404(api: Api) -> None:
    admin = await api.user("admin")
    customer = await api.user("customer")
    for target in (customer.id, str(uuid.uuid4())):
        response = await api.client.post(
            f"/api/v1/admin/agents/{target}/approve", headers=admin.headers
        )
        assert_problem(response, 404, "agent_not_found")


async def test_list_users_filters_by_role_and_status(api: Api) -> None:
    admin = await api.user("admin")
    customer = await api.user("customer")
    investor = await api.user("investor")
    agent_id, _ = await _pending_agent(api)
    everyone = await api.client.get("/api/v1/admin/users", headers=admin.headers)
    assert everyone.json()["total"] == 4
    created = [item["created_at"] for item in everyone.json()["items"]]
    assert created == sorted(created, reverse=True)
    cases = {
        "role=customer": {customer.id},
        "role=investor": {investor.id},
        "status=pending": {agent_id},
        "role=agent&status=active": set(),
        "role=admin": {admin.id},
    }
    for query, expected in cases.items():
        response = await api.client.get(f"/api/v1/admin/users?{query}", headers=admin.headers)
        assert {item["id"] for item in response.json()["items"]} == expected, query
    bad = await api.client.get("/api/v1/admin/users?role=wizard", headers=admin.headers)
    assert_problem(bad, 422, "validation_error")


async def test_disable_and_enable_a_user(api: Api) -> None:
    admin = await api.user("admin")
    customer = await api.user("customer")
    disabled = await api.client.post(
        f"/api/v1/admin/users/{customer.id}/disable", headers=admin.headers
    )
    assert (disabled.status_code, disabled.json()["status"]) == (200, "disabled")
    twice = await api.client.post(
        f"/api/v1/admin/users/{customer.id}/disable", headers=admin.headers
    )
    assert_problem(twice, 409, "user_not_active")
    enabled = await api.client.post(
        f"/api/v1/admin/users/{customer.id}/enable", headers=admin.headers
    )
    assert (enabled.status_code, enabled.json()["status"]) == (200, "active")
    again = await api.client.post(
        f"/api/v1/admin/users/{customer.id}/enable", headers=admin.headers
    )
    assert_problem(again, 409, "user_not_disabled")
    assert (await api.token(customer.username)).status_code == 200


async def test_admin_cannot_disable_itself(api: Api) -> None:
    admin = await api.user("admin")
    response = await api.client.post(
        f"/api/v1/admin/users/{admin.id}/disable", headers=admin.headers
    )
    assert_problem(response, 409, "cannot_disable_self")
    assert (await api.client.get("/api/v1/users/me", headers=admin.headers)).status_code == 200


async def test_disable_unknown_user_is_404(api: Api) -> None:
    admin = await api.user("admin")
    response = await api.client.post(
        f"/api/v1/admin/users/{uuid.uuid4()}/disable", headers=admin.headers
    )
    assert_problem(response, 404, "user_not_found")


async def test_a_disabled_admin_loses_access_at_once(api: Api) -> None:
    first = await api.user("admin")
    second = await api.user("admin")
    await api.client.post(f"/api/v1/admin/users/{second.id}/disable", headers=first.headers)
    response = await api.client.get("/api/v1/admin/users", headers=second.headers)
    assert_problem(response, 401, "not_authenticated")
