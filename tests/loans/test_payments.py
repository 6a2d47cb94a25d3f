from __future__ import annotations

import pytest

from tests.support.api import Api
from tests.support.flows import active_loan, investor_with, new_loan, pay, portfolio, verify_ok
from tests.support.http import assert_problem
from tests.support.money import cents, money

pytestmark = pytest.mark.usefixtures("backend")


async def test_end_to_end_every_investor_gets_principal_and_interest_back(api: Api) -> None:
    investors = [await investor_with(api, a) for a in ("1000.00", "800.00", "600.00")]
    customer = await api.user("customer")
    admin = await api.user("admin")
    loan = await active_loan(
        api, customer, admin, loan_type="personal_loan", amount="1200.00", term_months=6
    )
    schedule = (
        await api.client.get(f"/api/v1/loans/{loan['id']}/schedule", headers=customer.headers)
    ).json()
    payments = [i["payment"] for i in schedule["installments"]]
    total_interest = cents(schedule["totals"]["interest"])
    for number, amount in enumerate(payments, start=1):
        response = await pay(api, customer, loan["id"], amount)
        assert response.status_code == 201, response.text
        body = response.json()
        assert [a["number"] for a in body["applied"]] == [number]
        assert cents(body["principal"]) + cents(body["interest"]) == cents(amount)
    assert body["loan_status"] == "closed"
    assert body["outstanding"] == "0.00"
    final = (await api.client.get(f"/api/v1/loans/{loan['id']}", headers=customer.headers)).json()
    assert (final["status"], final["outstanding_principal"]) == ("closed", "0.00")
    assert final["closed_at"] is not None
    earned = []
    for investor, deposit in zip(investors, (100_000, 80_000, 60_000), strict=True):
        figures = await portfolio(api, investor)
        assert figures["invested"] == "0.00"
        interest = cents(figures["interest_earned"])
        assert cents(figures["available"]) == deposit + interest  # 400.00 lent, all back
        assert abs(interest * 3 - total_interest) <= 3  # equal thirds, within a cent each
        earned.append(interest)
    assert sum(earned) == total_interest
    schedule = (
        await api.client.get(f"/api/v1/loans/{loan['id']}/schedule", headers=customer.headers)
    ).json()
    assert {i["status"] for i in schedule["installments"]} == {"paid"}
    assert_problem(await pay(api, customer, loan["id"], "1.00"), 409, "loan_closed")
    events = [
        e["event"]
        for e in (
            await api.client.get(f"/api/v1/loans/{loan['id']}/history", headers=admin.headers)
        ).json()
    ]
    assert events == ["created", "approved", *["payment"] * 6, "closed"]
    # list items are whole payment objects: the loan as each payment left it
    listed = (
        await api.client.get(f"/api/v1/loans/{loan['id']}/payments", headers=customer.headers)
    ).json()
    assert listed["total"] == 6
    items = list(reversed(listed["items"]))  # newest first
    repaid = 0
    for item, number in zip(items, range(1, 7), strict=True):
        repaid += cents(item["principal"])
        assert [a["number"] for a in item["applied"]] == [number]
        assert item["outstanding"] == money(120_000 - repaid)
        assert item["loan_status"] == ("closed" if number == 6 else "active")
    await verify_ok(api, admin)


async def test_a_last_cent_paid_to_one_holder_closes_every_holding(api: Api) -> None:
    """The payment that closes a loan ends every investor's active holding in it, also of
    those it pays nothing (a last cent goes to one of three)."""
    investors = [await investor_with(api, "1000.00") for _ in range(3)]
    customer, admin = await api.user("customer"), await api.user("admin")
    loan = await active_loan(api, customer, admin, amount="900.00", term_months=3)
    schedule = (
        await api.client.get(f"/api/v1/loans/{loan['id']}/schedule", headers=customer.headers)
    ).json()
    total = cents(schedule["totals"]["payable"])
    assert (await pay(api, customer, loan["id"], money(total - 1))).status_code == 201
    figures = [await portfolio(api, i) for i in investors]
    assert [f["active_allocations"] for f in figures] == [1, 1, 1]
    last = await pay(api, customer, loan["id"], "0.01")
    assert (last.status_code, last.json()["loan_status"]) == (201, "closed")
    figures = [await portfolio(api, i) for i in investors]
    assert [f["active_allocations"] for f in figures] == [0, 0, 0]
    assert [f["invested"] for f in figures] == ["0.00"] * 3
    await verify_ok(api, admin)


async def test_payment_refusals(api: Api) -> None:
    await investor_with(api, "5000.00")
    owner = await api.user("customer")
    other = await api.user("customer")
    admin = await api.user("admin")
    loan = await active_loan(api, owner, admin, amount="1000.00", term_months=3)
    total = cents(loan["total_payable"])
    over = total + 1
    refused = assert_problem(await pay(api, owner, loan["id"], money(over)), 422, "overpayment")
    assert refused["detail"] == f"At most {loan['total_payable']} remains to be paid on this loan."
    assert_problem(await pay(api, other, loan["id"], "10.00"), 404, "loan_not_found")
    fresh = await new_loan(api, owner)
    assert_problem(await pay(api, owner, fresh["id"], "10.00"), 409, "loan_not_active")
    for role in ("investor", "agent"):
        account = await api.user(role)
        assert_problem(await pay(api, account, loan["id"], "10.00"), 403, "forbidden")
    for amount in ("0", "-1.00", "1.001"):
        assert_problem(await pay(api, owner, loan["id"], amount), 422, "validation_error")
    listed = (
        await api.client.get(f"/api/v1/loans/{loan['id']}/payments", headers=owner.headers)
    ).json()
    assert listed["total"] == 0
    await verify_ok(api, admin)


async def test_a_replayed_payment_has_one_effect(api: Api) -> None:
    await investor_with(api, "5000.00")
    customer = await api.user("customer")
    admin = await api.user("admin")
    loan = await active_loan(api, customer, admin, amount="1000.00", term_months=3)
    first = await pay(api, customer, loan["id"], "100.00", **{"Idempotency-Key": "pay-1"})
    again = await pay(api, customer, loan["id"], "100.00", **{"Idempotency-Key": "pay-1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    other = await pay(api, customer, loan["id"], "99.00", **{"Idempotency-Key": "pay-1"})
    assert_problem(other, 422, "idempotency_key_reused")
    listed = (
        await api.client.get(f"/api/v1/loans/{loan['id']}/payments", headers=admin.headers)
    ).json()
    assert listed["total"] == 1
    await verify_ok(api, admin)


async def test_a_page_of_payments_carries_the_running_total_of_all_before_it(api: Api) -> None:
    """Each listed payment shows the outstanding principal it left: repaid by it and by every
    payment before it, also those on other pages."""
    await investor_with(api, "5000.00")
    customer, admin = await api.user("customer"), await api.user("admin")
    loan = await active_loan(api, customer, admin, amount="1000.00", term_months=3)
    for amount in ("100.00", "150.00", "200.00"):
        assert (await pay(api, customer, loan["id"], amount)).status_code == 201
    url = f"/api/v1/loans/{loan['id']}/payments"
    whole = (await api.client.get(url, headers=customer.headers)).json()
    first, second = whole["items"][2], whole["items"][1]  # newest first
    left = cents(loan["amount"]) - cents(first["principal"]) - cents(second["principal"])
    assert second["outstanding"] == money(left)

    middle = await api.client.get(url, params={"limit": 1, "offset": 1}, headers=customer.headers)
    assert middle.json() == {"items": [second], "total": 3, "limit": 1, "offset": 1}
    past = await api.client.get(url, params={"offset": 5}, headers=customer.headers)
    assert past.json() == {"items": [], "total": 3, "limit": 50, "offset": 5}
