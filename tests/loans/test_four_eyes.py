"""Four-eyes decisions: above the threshold an approval, and every write-off, needs two admins
(SPEC §11.5)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import String, bindparam, cast, select

from bank_api.models import Loan
from tests.support.api import Api
from tests.support.factories import Account
from tests.support.flows import investor_with, new_loan, set_date, verify_ok
from tests.support.http import assert_problem

FOUR_EYES = {"four_eyes_above": "1000.00", "allow_business_date_override": True}
pytestmark = [
    pytest.mark.usefixtures("backend"),
    pytest.mark.parametrize("settings_overrides", [FOUR_EYES]),
]


def _approve(api: Api, admin: Account, loan: dict[str, Any], **headers: str) -> Any:
    return api.client.post(
        f"/api/v1/loans/{loan['id']}/approve", headers={**admin.headers, **headers}
    )


async def test_a_big_loan_needs_two_different_admins(api: Api) -> None:
    await investor_with(api, "10000.00")
    customer = await api.user("customer")
    first, second = await api.user("admin"), await api.user("admin")
    loan = await new_loan(api, customer, amount="1000.01")
    signed = await _approve(api, first, loan, **{"Idempotency-Key": "sign-1"})
    assert signed.status_code == 202, signed.text
    body = signed.json()
    assert body["status"] == "new"
    assert [p["admin_id"] for p in body["pending_approvals"]] == [first.id]
    again = await _approve(api, first, loan, **{"Idempotency-Key": "sign-1"})
    assert (again.status_code, again.headers["idempotent-replayed"]) == (202, "true")
    assert_problem(await _approve(api, first, loan), 409, "second_approver_required")
    done = await _approve(api, second, loan)
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["pending_approvals"]) == ("active", [])
    events = (
        await api.client.get(f"/api/v1/loans/{loan['id']}/history", headers=first.headers)
    ).json()
    assert [e["event"] for e in events] == ["created", "signed_off", "approved"]
    assert events[1]["actor_id"] == first.id
    assert events[2]["actor_id"] == second.id
    await verify_ok(api, first)


async def test_at_or_below_the_threshold_one_admin_decides(api: Api) -> None:
    await investor_with(api, "10000.00")
    customer, admin = await api.user("customer"), await api.user("admin")
    loan = await new_loan(api, customer, amount="1000.00")
    done = await _approve(api, admin, loan)
    assert (done.status_code, done.json()["status"]) == (200, "active")


async def test_a_reject_or_an_edit_clears_the_sign_offs(api: Api) -> None:
    await investor_with(api, "10000.00")
    customer, agent = await api.user("customer"), await api.user("agent")
    first, second = await api.user("admin"), await api.user("admin")
    edited = await new_loan(api, customer, amount="2000.00")
    assert (await _approve(api, first, edited)).status_code == 202
    change = await api.client.patch(
        f"/api/v1/loans/{edited['id']}", json={"amount": "2500.00"}, headers=agent.headers
    )
    assert change.json()["pending_approvals"] == []
    # the second admin's approval is now a first sign-off of the new terms
    assert (await _approve(api, second, edited)).status_code == 202
    rejected = await new_loan(api, customer, amount="2000.00")
    assert (await _approve(api, first, rejected)).status_code == 202
    refused = await api.client.post(
        f"/api/v1/loans/{rejected['id']}/reject", json={"reason": "no"}, headers=second.headers
    )
    assert (refused.json()["status"], refused.json()["pending_approvals"]) == ("rejected", [])
    # No sign-offs is SQL NULL (the driver decodes no JSON for it on every page of loans), not
    # the JSON document `null`: a new loan's, and a rejected one's, whose sign-off it cleared.
    fresh = await new_loan(api, customer, amount="2000.00")
    assert await _stored_sign_offs(api, fresh, rejected, edited) == [None, None, "signed"]


async def _stored_sign_offs(api: Api, *loans: dict[str, Any]) -> list[str | None]:
    column = Loan.__table__.c
    statement = select(cast(column.sign_offs, String)).where(column.id == bindparam("id"))
    async with api.app.state.sessionmaker() as session:
        stored = [await session.scalar(statement, {"id": uuid.UUID(loan["id"])}) for loan in loans]
    return [
        None if value is None else "signed" if "admin_id" in value else value for value in stored
    ]


async def test_every_write_off_needs_two_admins(api: Api) -> None:
    await investor_with(api, "10000.00")
    customer = await api.user("customer")
    first, second = await api.user("admin"), await api.user("admin")
    await set_date(api, first.headers, date(2031, 1, 10))
    loan = await new_loan(api, customer, amount="500.00", term_months=6)
    assert (await _approve(api, first, loan)).status_code == 200  # small: one admin
    await set_date(api, first.headers, date(2031, 2, 10) + timedelta(days=95))
    url = f"/api/v1/loans/{loan['id']}/write-off"
    signed = await api.client.post(url, headers=first.headers)
    assert (signed.status_code, signed.json()["status"]) == (202, "active")
    assert_problem(
        await api.client.post(url, headers=first.headers), 409, "second_approver_required"
    )
    done = await api.client.post(url, headers=second.headers)
    assert (done.status_code, done.json()["status"]) == (200, "written_off")
    await verify_ok(api, first)


@pytest.mark.postgres_only
@pytest.mark.real_commits
async def test_two_admins_signing_off_at_once_approve_exactly_once(api: Api) -> None:
    await investor_with(api, "10000.00")
    customer = await api.user("customer")
    first, second = await api.user("admin"), await api.user("admin")
    loan = await new_loan(api, customer, amount="3000.00")
    one, two = await asyncio.gather(_approve(api, first, loan), _approve(api, second, loan))
    assert sorted((one.status_code, two.status_code)) == [200, 202]
    state = (await api.client.get(f"/api/v1/loans/{loan['id']}", headers=first.headers)).json()
    assert (state["status"], state["pending_approvals"]) == ("active", [])
    await verify_ok(api, first)


async def test_products_sign_offs_rejects_and_write_offs_are_audited(api: Api) -> None:
    first, second = await api.user("admin"), await api.user("admin")
    product = {
        "code": "green_loan",
        "name": "Green loan",
        "annual_rate": "4.50",
        "min_amount": "100.00",
        "max_amount": "5000.00",
        "min_term_months": 6,
        "max_term_months": 36,
    }
    created = await api.client.post(
        "/api/v1/admin/loan-products", json=product, headers=first.headers
    )
    assert created.status_code == 201, created.text
    await set_date(api, first.headers, date(2031, 1, 10))
    await investor_with(api, "5000.00")
    customer = await api.user("customer")
    rejected = await new_loan(api, customer, amount="1200.00")
    url = f"/api/v1/loans/{rejected['id']}"
    assert (await api.client.post(f"{url}/approve", headers=first.headers)).status_code == 202
    refused = await api.client.post(f"{url}/reject", json={"reason": "no"}, headers=second.headers)
    assert refused.status_code == 200
    late = await new_loan(api, customer, amount="400.00", term_months=6)
    assert (
        await api.client.post(f"/api/v1/loans/{late['id']}/approve", headers=first.headers)
    ).status_code == 200
    await set_date(api, first.headers, date(2031, 6, 1))
    write_off = f"/api/v1/loans/{late['id']}/write-off"
    assert (await api.client.post(write_off, headers=first.headers)).status_code == 202
    assert (await api.client.post(write_off, headers=second.headers)).status_code == 200
    response = await api.client.get("/api/v1/admin/audit", headers=first.headers)
    records = response.json()["items"]
    actions = [r["action"] for r in records if r["action"] != "business_date.set"]
    assert actions == [
        "loan.write_off",
        "loan.sign_off",
        "loan.approve",
        "loan.reject",
        "loan.sign_off",
        "product.create",
    ]
    by_action = {r["action"]: r for r in reversed(records)}
    assert by_action["product.create"]["changes"]["annual_rate"] == {"from": None, "to": "4.50"}
    assert by_action["loan.reject"]["actor_id"] == second.id
    assert by_action["loan.write_off"]["changes"]["status"] == {
        "from": "active",
        "to": "written_off",
    }
    decisions = [r["changes"]["decision"]["to"] for r in records if r["action"] == "loan.sign_off"]
    assert decisions == ["write-off", "approve"]


async def test_a_sign_off_counts_only_for_its_decision_and_a_payment_clears_it(api: Api) -> None:
    await investor_with(api, "10000.00")
    customer = await api.user("customer")
    first, second = await api.user("admin"), await api.user("admin")
    await set_date(api, first.headers, date(2031, 1, 10))
    loan = await new_loan(api, customer, amount="500.00", term_months=6)
    assert (await _approve(api, first, loan)).status_code == 200
    # the second installment (10 March) is still 90+ days late once the first is paid
    await set_date(api, first.headers, date(2031, 6, 15))
    url = f"/api/v1/loans/{loan['id']}/write-off"
    assert (await api.client.post(url, headers=first.headers)).status_code == 202
    # the borrower pays something: the write-off signed off before no longer stands
    schedule = (
        await api.client.get(f"/api/v1/loans/{loan['id']}/schedule", headers=customer.headers)
    ).json()
    paid = await api.client.post(
        f"/api/v1/loans/{loan['id']}/payments",
        json={"amount": schedule["installments"][0]["payment"]},
        headers=customer.headers,
    )
    assert paid.status_code == 201, paid.text
    state = (await api.client.get(f"/api/v1/loans/{loan['id']}", headers=first.headers)).json()
    assert state["pending_approvals"] == []
    again = await api.client.post(url, headers=second.headers)
    assert (again.status_code, again.json()["status"]) == (202, "active")
