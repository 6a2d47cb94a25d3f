from __future__ import annotations

import uuid

import pytest

from tests.support.api import Api
from tests.support.flows import new_loan
from tests.support.http import assert_problem

pytestmark = pytest.mark.usefixtures("backend")


async def test_agent_edit_recomputes_and_records_history(api: Api) -> None:
    customer = await api.user("customer")
    agent = await api.user("agent")
    loan = await new_loan(api, customer)
    edited = await api.client.patch(
        f"/api/v1/loans/{loan['id']}",
        headers=agent.headers,
        json={"loan_type": "home_loan", "term_months": 24},
    )
    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert (body["loan_type"], body["annual_rate"], body["term_months"]) == (
        "home_loan",
        "6.90",
        24,
    )
    assert body["monthly_payment"] == "447.27"  # Decimal: 10000 * r / (1 - (1 + r) ** -24)
    history = await api.client.get(f"/api/v1/loans/{loan['id']}/history", headers=customer.headers)
    events = history.json()
    assert [e["event"] for e in events] == ["created", "edited"]
    assert events[0]["actor_id"] == customer.id
    assert events[0]["actor_role"] == "customer"
    edit = events[1]
    assert (edit["actor_id"], edit["actor_role"]) == (agent.id, "agent")
    assert edit["changes"]["loan_type"] == {"from": "personal_loan", "to": "home_loan"}
    assert edit["changes"]["term_months"] == {"from": 12, "to": 24}
    # history speaks the public format: rates and money as decimal strings
    assert edit["changes"]["annual_rate"] == {"from": "10.75", "to": "6.90"}
    assert edit["changes"]["monthly_payment"] == {"from": "882.65", "to": "447.27"}
    assert "annual_rate_bp" not in edit["changes"]
    assert "amount" not in edit["changes"]


async def test_failed_edit_writes_nothing(api: Api) -> None:
    customer = await api.user("customer")
    agent = await api.user("agent")
    loan = await new_loan(api, customer)
    for body, code in (
        ({"amount": "999999.00"}, "amount_out_of_range"),
        ({"loan_type": "nope"}, "unknown_loan_type"),
    ):
        response = await api.client.patch(
            f"/api/v1/loans/{loan['id']}", headers=agent.headers, json=body
        )
        assert_problem(response, 422, code)
    empty = await api.client.patch(f"/api/v1/loans/{loan['id']}", headers=agent.headers, json={})
    assert_problem(empty, 422, "validation_error")
    history = await api.client.get(f"/api/v1/loans/{loan['id']}/history", headers=agent.headers)
    assert [e["event"] for e in history.json()] == ["created"]
    again = await api.client.get(f"/api/v1/loans/{loan['id']}", headers=agent.headers)
    assert again.json() == loan


async def test_forward_then_reject(api: Api) -> None:
    customer = await api.user("customer")
    agent = await api.user("agent")
    admin = await api.user("admin")
    loan = await new_loan(api, customer)
    forwarded = await api.client.post(
        f"/api/v1/loans/{loan['id']}/request",
        headers=agent.headers,
        json={"note": "income verified"},
    )
    assert (forwarded.json()["status"], forwarded.json()["agent_id"]) == ("requested", agent.id)
    twice = await api.client.post(f"/api/v1/loans/{loan['id']}/request", headers=agent.headers)
    assert_problem(twice, 409, "loan_not_requestable")
    rejected = await api.client.post(
        f"/api/v1/loans/{loan['id']}/reject", headers=admin.headers, json={"reason": "too risky"}
    )
    assert (rejected.json()["status"], rejected.json()["rejection_reason"]) == (
        "rejected",
        "too risky",
    )
    again = await api.client.post(
        f"/api/v1/loans/{loan['id']}/reject", headers=admin.headers, json={"reason": "still"}
    )
    assert_problem(again, 409, "loan_not_rejectable")
    late_edit = await api.client.patch(
        f"/api/v1/loans/{loan['id']}", headers=agent.headers, json={"amount": "500.00"}
    )
    assert_problem(late_edit, 409, "loan_not_editable")
    late_forward = await api.client.post(
        f"/api/v1/loans/{loan['id']}/request", headers=agent.headers
    )
    assert_problem(late_forward, 409, "loan_not_requestable")
    events = (
        await api.client.get(f"/api/v1/loans/{loan['id']}/history", headers=admin.headers)
    ).json()
    assert [(e["event"], e["note"]) for e in events] == [
        ("created", None),
        ("requested", "income verified"),
        ("rejected", "too risky"),
    ]
    assert events[1]["changes"]["status"] == {"from": "new", "to": "requested"}
    assert events[1]["changes"]["agent_id"] == {"from": None, "to": agent.id}


async def test_reject_needs_a_reason(api: Api) -> None:
    customer = await api.user("customer")
    admin = await api.user("admin")
    loan = await new_loan(api, customer)
    for body in ({}, {"reason": ""}, {"reason": "x" * 501}):
        response = await api.client.post(
            f"/api/v1/loans/{loan['id']}/reject", headers=admin.headers, json=body
        )
        assert_problem(response, 422, "validation_error")


async def test_role_rules_of_the_loan_desk(api: Api) -> None:
    owner = await api.user("customer")
    other = await api.user("customer")
    investor = await api.user("investor")
    agent = await api.user("agent")
    admin = await api.user("admin")
    loan = await new_loan(api, owner)
    base = f"/api/v1/loans/{loan['id']}"
    for account in (owner, other):
        assert_problem(
            await api.client.patch(base, headers=account.headers, json={"amount": "200.00"}),
            403,
            "forbidden",
        )
        assert_problem(
            await api.client.post(f"{base}/request", headers=account.headers), 403, "forbidden"
        )
        assert_problem(
            await api.client.post(f"{base}/reject", headers=account.headers, json={"reason": "x"}),
            403,
            "forbidden",
        )
    for path in (base, f"{base}/history", f"{base}/schedule"):
        assert_problem(await api.client.get(path, headers=other.headers), 404, "loan_not_found")
        assert (await api.client.get(path, headers=owner.headers)).status_code == 200
        assert_problem(await api.client.get(path, headers=investor.headers), 403, "forbidden")
    assert_problem(
        await api.client.post(f"{base}/reject", headers=agent.headers, json={"reason": "x"}),
        403,
        "forbidden",
    )
    assert_problem(
        await api.client.patch(base, headers=admin.headers, json={"amount": "200.00"}),
        403,
        "forbidden",
    )
    assert_problem(
        await api.client.post(f"{base}/request", headers=admin.headers), 403, "forbidden"
    )
    assert_problem(
        await api.client.get("/api/v1/loans", headers=investor.headers), 403, "forbidden"
    )
    missing = f"/api/v1/loans/{uuid.uuid4()}"
    for account in (owner, agent, admin):
        assert_problem(
            await api.client.get(missing, headers=account.headers), 404, "loan_not_found"
        )
    assert_problem(
        await api.client.patch(missing, headers=agent.headers, json={"amount": "200.00"}),
        404,
        "loan_not_found",
    )
    assert (await api.client.get(base, headers=owner.headers)).json()["status"] == "new"
