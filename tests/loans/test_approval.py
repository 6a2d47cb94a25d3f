from __future__ import annotations

import pytest

from tests.support.api import Api
from tests.support.flows import investor_with, new_loan, portfolio, verify_ok
from tests.support.http import assert_problem

pytestmark = pytest.mark.usefixtures("backend")


async def test_approval_splits_the_loan_equally_and_moves_the_money(api: Api) -> None:
    investors = [await investor_with(api, amount) for amount in ("3000.00", "2000.00", "1000.00")]
    customer = await api.user("customer")
    admin = await api.user("admin")
    loan = await new_loan(api, customer, amount="1500.00")
    approved = await api.client.post(f"/api/v1/loans/{loan['id']}/approve", headers=admin.headers)
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert (body["status"], body["outstanding_principal"]) == ("active", "1500.00")
    assert body["approved_at"] is not None
    allocations = (
        await api.client.get(f"/api/v1/loans/{loan['id']}/allocations", headers=admin.headers)
    ).json()
    assert sorted(
        (a["investor_id"], a["amount"], a["share"], a["outstanding_principal"]) for a in allocations
    ) == sorted((i.id, "500.00", "0.333333", "500.00") for i in investors)
    for investor, before in zip(investors, ("3000.00", "2000.00", "1000.00"), strict=True):
        figures = await portfolio(api, investor)
        assert figures["invested"] == "500.00"
        assert figures["available"] == f"{int(before[:-3]) - 500}.00"
        assert figures["total"] == before
        assert figures["active_allocations"] == 1
    schedule = (
        await api.client.get(f"/api/v1/loans/{loan['id']}/schedule", headers=customer.headers)
    ).json()
    assert schedule["preview"] is False
    assert {i["status"] for i in schedule["installments"]} == {"pending"}
    assert schedule["totals"]["principal"] == "1500.00"
    lines = (
        await api.client.get(
            "/api/v1/investments/transactions?type=allocation", headers=investors[0].headers
        )
    ).json()
    assert sorted((t["account"], t["amount"]) for t in lines["items"]) == [
        ("available", "-500.00"),
        ("invested", "500.00"),
    ]
    history = (
        await api.client.get(f"/api/v1/loans/{loan['id']}/history", headers=admin.headers)
    ).json()
    assert history[-1]["event"] == "approved"
    assert history[-1]["changes"]["status"] == {"from": "new", "to": "active"}
    await verify_ok(api, admin)


async def test_unfundable_loan_is_409_and_nothing_changes(api: Api) -> None:
    investor = await investor_with(api, "400.00")
    customer = await api.user("customer")
    admin = await api.user("admin")
    loan = await new_loan(api, customer, amount="500.00")
    refused = await api.client.post(f"/api/v1/loans/{loan['id']}/approve", headers=admin.headers)
    assert_problem(refused, 409, "allocation_not_possible")
    after = (await api.client.get(f"/api/v1/loans/{loan['id']}", headers=admin.headers)).json()
    assert after == loan
    assert (await portfolio(api, investor))["available"] == "400.00"
    assert (
        await api.client.get(f"/api/v1/loans/{loan['id']}/allocations", headers=admin.headers)
    ).json() == []
    await verify_ok(api, admin)


async def test_a_keyed_approval_that_could_not_be_funded_leaves_its_key_free(api: Api) -> None:
    """A funding that fails leaves nothing of the request behind, its key included: the same
    key runs again once there is money, and then replays that one approval's answer."""
    investor = await investor_with(api, "400.00")
    customer, admin = await api.user("customer"), await api.user("admin")
    loan = await new_loan(api, customer, amount="500.00")
    path, headers = f"/api/v1/loans/{loan['id']}/approve", {**admin.headers, "Idempotency-Key": "k"}
    assert_problem(await api.client.post(path, headers=headers), 409, "allocation_not_possible")
    more = await api.client.post(
        "/api/v1/investments/deposits", json={"amount": "100.00"}, headers=investor.headers
    )
    assert more.status_code == 201, more.text
    approved = await api.client.post(path, headers=headers)
    assert approved.status_code == 200, approved.text
    assert "idempotent-replayed" not in approved.headers
    assert (approved.json()["status"], approved.json()["outstanding_principal"]) == (
        "active",
        "500.00",
    )
    again = await api.client.post(path, headers=headers)
    assert (again.status_code, again.headers["idempotent-replayed"]) == (200, "true")
    assert again.json() == approved.json()
    assert (await portfolio(api, investor))["available"] == "0.00"
    await verify_ok(api, admin)


async def test_approving_twice_or_a_rejected_loan_is_409(api: Api) -> None:
    await investor_with(api, "10000.00")
    customer = await api.user("customer")
    admin = await api.user("admin")
    agent = await api.user("agent")
    loan = await new_loan(api, customer, amount="1000.00")
    await api.client.post(f"/api/v1/loans/{loan['id']}/request", headers=agent.headers)
    assert (
        await api.client.post(f"/api/v1/loans/{loan['id']}/approve", headers=admin.headers)
    ).status_code == 200
    again = await api.client.post(f"/api/v1/loans/{loan['id']}/approve", headers=admin.headers)
    assert_problem(again, 409, "loan_not_approvable")
    for path, code in ((f"/api/v1/loans/{loan['id']}/reject", "loan_not_rejectable"),):
        assert_problem(
            await api.client.post(path, headers=admin.headers, json={"reason": "x"}), 409, code
        )
    assert_problem(
        await api.client.patch(
            f"/api/v1/loans/{loan['id']}", headers=agent.headers, json={"amount": "900.00"}
        ),
        409,
        "loan_not_editable",
    )
    rejected = await new_loan(api, customer, amount="500.00")
    await api.client.post(
        f"/api/v1/loans/{rejected['id']}/reject", headers=admin.headers, json={"reason": "no"}
    )
    assert_problem(
        await api.client.post(f"/api/v1/loans/{rejected['id']}/approve", headers=admin.headers),
        409,
        "loan_not_approvable",
    )
    await verify_ok(api, admin)


@pytest.mark.parametrize("role", ["customer", "investor", "agent"])
async def test_only_admins_approve(api: Api, role: str) -> None:
    account = await api.user(role)
    customer = await api.user("customer")
    loan = await new_loan(api, customer)
    response = await api.client.post(f"/api/v1/loans/{loan['id']}/approve", headers=account.headers)
    assert_problem(response, 403, "forbidden")
