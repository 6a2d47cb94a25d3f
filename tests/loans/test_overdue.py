from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import text

from bank_api.models import Loan
from tests.support.api import Api
from tests.support.flows import (
    DATE_OVERRIDE,
    active_loan,
    investor_with,
    pay,
    portfolio,
    set_date,
    verify_ok,
)
from tests.support.http import assert_problem
from tests.support.money import cents

pytestmark = pytest.mark.usefixtures("backend")


async def test_business_date_is_404_unless_enabled(api: Api) -> None:
    admin = await api.user("admin")
    assert_problem(await set_date(api, admin.headers, date(2030, 1, 1)), 404, "not_found")


@pytest.mark.parametrize("settings_overrides", DATE_OVERRIDE)
async def test_overdue_npl_and_write_off(api: Api) -> None:
    investors = [await investor_with(api, "1000.00") for _ in range(3)]
    customer = await api.user("customer")
    admin = await api.user("admin")
    loan = await active_loan(api, customer, admin, amount="900.00", term_months=6)
    schedule = (
        await api.client.get(f"/api/v1/loans/{loan['id']}/schedule", headers=customer.headers)
    ).json()["installments"]
    assert_problem(
        await api.client.post(f"/api/v1/loans/{loan['id']}/write-off", headers=admin.headers),
        409,
        "loan_not_writable_off",
    )
    await pay(api, customer, loan["id"], schedule[0]["payment"])  # first installment on time

    second_due = date.fromisoformat(schedule[1]["due_date"])
    assert (await set_date(api, admin.headers, second_due + timedelta(days=10))).json() == {
        "date": (second_due + timedelta(days=10)).isoformat()
    }
    late = (await api.client.get(f"/api/v1/loans/{loan['id']}", headers=admin.headers)).json()
    assert (late["days_past_due"], late["is_npl"]) == (10, False)
    statuses = [
        i["status"]
        for i in (
            await api.client.get(f"/api/v1/loans/{loan['id']}/schedule", headers=admin.headers)
        ).json()["installments"]
    ]
    assert statuses[:3] == ["paid", "overdue", "pending"]
    overdue_ids = [
        i["id"]
        for i in (await api.client.get("/api/v1/loans?overdue=true", headers=admin.headers)).json()[
            "items"
        ]
    ]
    assert overdue_ids == [loan["id"]]
    assert (
        await api.client.get("/api/v1/loans?overdue=false&status=active", headers=admin.headers)
    ).json()["total"] == 0
    outstanding = cents(late["outstanding_principal"])
    pool = (await api.client.get("/api/v1/admin/pool", headers=admin.headers)).json()
    assert (
        pool["active_loans"],
        cents(pool["overdue_loans_principal"]),
        pool["npl_principal"],
        pool["npl_ratio"],
    ) == (1, outstanding, "0.00", "0.0000")
    assert_problem(
        await api.client.post(f"/api/v1/loans/{loan['id']}/write-off", headers=admin.headers),
        409,
        "loan_not_writable_off",
    )
    figures = [await portfolio(api, i) for i in investors]
    assert [f["active_allocations"] for f in figures] == [1, 1, 1]
    assert sum(cents(f["overdue_principal"]) for f in figures) == outstanding
    assert all(f["npl_principal"] == "0.00" for f in figures)

    await set_date(api, admin.headers, second_due + timedelta(days=90))
    npl = (await api.client.get(f"/api/v1/loans/{loan['id']}", headers=customer.headers)).json()
    assert (npl["days_past_due"], npl["is_npl"]) == (90, True)
    pool = (await api.client.get("/api/v1/admin/pool", headers=admin.headers)).json()
    assert (cents(pool["npl_principal"]), pool["npl_ratio"]) == (outstanding, "1.0000")
    figures = [await portfolio(api, i) for i in investors]
    assert sum(cents(f["npl_principal"]) for f in figures) == outstanding
    allocations = (
        await api.client.get("/api/v1/investments/allocations", headers=investors[0].headers)
    ).json()
    assert allocations["items"][0]["days_past_due"] == 90

    written = await api.client.post(f"/api/v1/loans/{loan['id']}/write-off", headers=admin.headers)
    assert written.status_code == 200, written.text
    assert (written.json()["status"], written.json()["outstanding_principal"]) == (
        "written_off",
        "0.00",
    )
    after = [await portfolio(api, i) for i in investors]
    losses = [cents(f["losses"]) for f in after]
    assert sum(losses) == outstanding
    assert max(losses) - min(losses) <= 1  # equal parts lent, equal parts lost
    assert all(f["invested"] == "0.00" for f in after)
    assert [
        (f["active_allocations"], f["overdue_principal"], f["npl_principal"]) for f in after
    ] == [(0, "0.00", "0.00")] * 3
    assert_problem(await pay(api, customer, loan["id"], "10.00"), 409, "loan_not_active")
    assert_problem(
        await api.client.post(f"/api/v1/loans/{loan['id']}/write-off", headers=admin.headers),
        409,
        "loan_not_writable_off",
    )
    history = (
        await api.client.get(f"/api/v1/loans/{loan['id']}/history", headers=admin.headers)
    ).json()
    assert history[-1]["event"] == "written_off"
    assert history[-1]["note"] == f"90 days past due; {late['outstanding_principal']} lost"
    # the unpaid installments say what happened to them, and stay so as the date moves on
    for moved in (91, 400):
        await set_date(api, admin.headers, second_due + timedelta(days=moved))
        statuses = [
            i["status"]
            for i in (
                await api.client.get(f"/api/v1/loans/{loan['id']}/schedule", headers=admin.headers)
            ).json()["installments"]
        ]
        assert statuses == ["paid", *["written_off"] * 5]
        state = (await api.client.get(f"/api/v1/loans/{loan['id']}", headers=admin.headers)).json()
        assert (state["days_past_due"], state["is_npl"]) == (0, False)
    await verify_ok(api, admin)


@pytest.mark.parametrize("settings_overrides", DATE_OVERRIDE)
async def test_business_date_needs_a_date(api: Api) -> None:
    admin = await api.user("admin")
    for body in ({}, {"date": "tomorrow"}, {"date": "2026-02-30"}):
        response = await api.client.put(
            "/api/v1/admin/business-date", json=body, headers=admin.headers
        )
        assert_problem(response, 422, "validation_error")


async def test_the_stored_oldest_unpaid_due_date_moves_with_payments_and_is_verified(
    api: Api,
) -> None:
    """The approval stores the first due date, each payment that settles an installment moves
    it to the next, and `ledger verify` recomputes it from the schedule: a stored date that
    disagrees (tampered here) fails invariant 7, and the holdings' copy of it, which no longer
    agrees with it, invariant 8; nothing else."""
    await investor_with(api, "1000.00")
    customer, admin = await api.user("customer"), await api.user("admin")
    loan = await active_loan(api, customer, admin, amount="300.00", term_months=3)
    schedule = (
        await api.client.get(f"/api/v1/loans/{loan['id']}/schedule", headers=customer.headers)
    ).json()["installments"]

    async def stored() -> date | None:
        async with api.app.state.sessionmaker() as session:
            row = await session.get(Loan, uuid.UUID(loan["id"]))
            assert row is not None
            return row.oldest_unpaid_due

    assert await stored() == date.fromisoformat(schedule[0]["due_date"])
    assert (await pay(api, customer, loan["id"], schedule[0]["payment"])).status_code == 201
    assert await stored() == date.fromisoformat(schedule[1]["due_date"])
    await verify_ok(api, admin)
    async with api.app.state.sessionmaker() as session:
        await session.execute(text("UPDATE loan SET oldest_unpaid_due = NULL"))
        await session.commit()
    body = (await api.client.get("/api/v1/admin/ledger/verify", headers=admin.headers)).json()
    failing = {c["name"] for c in body["checks"] if not c["ok"]}
    assert failing == {"loan_oldest_unpaid_due_matches_schedule", "holding_unpaid_due_matches_loan"}
