"""Early repayment over HTTP: payoff quotes, settlement, prepayments (SPEC §11.4)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from tests.support.api import Api
from tests.support.factories import Account
from tests.support.flows import (
    DATE_OVERRIDE,
    investor_with,
    new_loan,
    pay,
    portfolio,
    set_date,
    verify_ok,
)
from tests.support.http import assert_problem
from tests.support.money import cents

pytestmark = [
    pytest.mark.usefixtures("backend"),
    pytest.mark.parametrize("settings_overrides", DATE_OVERRIDE),
]

DISBURSED = date(2031, 3, 20)
TEN_DAYS_ON = DISBURSED + timedelta(days=10)


async def funded(api: Api, **terms: Any) -> tuple[Account, Account, list[Account], dict[str, Any]]:
    """A 1,200.00 personal loan over 12 months (10.75 %) disbursed on DISBURSED, funded by three
    investors; the business date is then TEN_DAYS_ON."""
    admin = await api.user("admin")
    await set_date(api, admin.headers, DISBURSED)
    investors = [await investor_with(api, "400.00") for _ in range(3)]
    customer = await api.user("customer")
    loan = await new_loan(api, customer, **{"amount": "1200.00", "term_months": 12, **terms})
    approved = await api.client.post(f"/api/v1/loans/{loan['id']}/approve", headers=admin.headers)
    assert approved.status_code == 200, approved.text
    await set_date(api, admin.headers, TEN_DAYS_ON)
    return admin, customer, investors, approved.json()


def _url(loan: dict[str, Any], what: str) -> str:
    return f"/api/v1/loans/{loan['id']}" + (f"/{what}" if what else "")


async def _schedule(api: Api, customer: Account, loan: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = (
        await api.client.get(_url(loan, "schedule"), headers=customer.headers)
    ).json()
    return body


async def test_the_payoff_is_the_principal_and_the_interest_of_the_days_so_far(api: Api) -> None:
    admin, customer, _, loan = await funded(api)
    response = await api.client.get(_url(loan, "payoff"), headers=customer.headers)
    assert response.status_code == 200, response.text
    # first period 20 March to 20 April, 31 days; its interest 1,200.00 * 10.75 % / 12 = 10.75;
    # 10 days of it: 3.4677... -> 3.47
    assert response.json() == {
        "loan_id": loan["id"],
        "on": TEN_DAYS_ON.isoformat(),
        "amount": "1203.47",
        "principal": "1200.00",
        "interest": "3.47",
        "overdue": "0.00",
        "accrued_interest": "3.47",
        "day_count": "actual/period: 10 of 31 days",
    }
    later = await api.client.get(
        _url(loan, "payoff"), params={"on": "2031-05-25"}, headers=admin.headers
    )
    body = later.json()
    first = (await _schedule(api, customer, loan))["installments"]
    assert cents(body["overdue"]) == cents(first[0]["payment"]) + cents(first[1]["payment"])
    assert body["principal"] == "1200.00"
    assert body["day_count"] == "actual/period: 5 of 31 days"
    agent = await api.user("agent")
    assert (await api.client.get(_url(loan, "payoff"), headers=agent.headers)).status_code == 200


async def test_payoff_rules_on_dates_roles_and_status(api: Api) -> None:
    _, customer, _, loan = await funded(api)
    past = await api.client.get(
        _url(loan, "payoff"), params={"on": "2031-03-29"}, headers=customer.headers
    )
    assert_problem(past, 422, "payoff_date_in_past")
    bad = await api.client.get(
        _url(loan, "payoff"), params={"on": "soon"}, headers=customer.headers
    )
    assert_problem(bad, 422, "validation_error")
    stranger = await api.user("customer")
    assert_problem(
        await api.client.get(_url(loan, "payoff"), headers=stranger.headers), 404, "loan_not_found"
    )
    investor = await api.user("investor")
    assert_problem(
        await api.client.get(_url(loan, "payoff"), headers=investor.headers), 403, "forbidden"
    )
    pending = await new_loan(api, customer)
    assert_problem(
        await api.client.get(_url(pending, "payoff"), headers=customer.headers),
        409,
        "loan_not_active",
    )


async def test_settling_pays_the_payoff_closes_the_loan_and_pays_the_investors(api: Api) -> None:
    admin, customer, investors, loan = await funded(api)
    stale = await api.client.post(
        _url(loan, "settlement"), json={"amount": "1200.00"}, headers=customer.headers
    )
    problem = assert_problem(stale, 409, "payoff_amount_changed")
    assert "1203.47" in problem["detail"]
    settled = await api.client.post(
        _url(loan, "settlement"),
        json={"amount": "1203.47"},
        headers={**customer.headers, "Idempotency-Key": "settle-1"},
    )
    assert settled.status_code == 201, settled.text
    body = settled.json()
    assert (body["amount"], body["principal"], body["interest"]) == ("1203.47", "1200.00", "3.47")
    assert (body["loan_status"], body["outstanding"]) == ("closed", "0.00")
    again = await api.client.post(
        _url(loan, "settlement"),
        json={"amount": "1203.47"},
        headers={**customer.headers, "Idempotency-Key": "settle-1"},
    )
    assert (again.status_code, again.headers["idempotent-replayed"]) == (201, "true")
    assert again.json() == body
    state = (await api.client.get(_url(loan, ""), headers=customer.headers)).json()
    assert state["status"] == "closed"
    schedule = await _schedule(api, customer, loan)
    assert {i["status"] for i in schedule["installments"]} == {"settled"}
    assert schedule["installments"][0]["paid_interest"] == "3.47"
    assert all(i["paid_principal"] == i["principal"] for i in schedule["installments"])
    figures = [await portfolio(api, i) for i in investors]
    assert [f["invested"] for f in figures] == ["0.00"] * 3
    assert sum(cents(f["interest_earned"]) for f in figures) == 347
    assert sum(cents(f["available"]) for f in figures) == 120_347
    events = (await api.client.get(_url(loan, "history"), headers=customer.headers)).json()
    assert [e["event"] for e in events[-2:]] == ["payment", "closed"]
    assert events[-2]["note"].startswith("settlement")
    assert_problem(
        await api.client.post(
            _url(loan, "settlement"), json={"amount": "1.00"}, headers=customer.headers
        ),
        409,
        "loan_closed",
    )
    await verify_ok(api, admin)


async def test_prepaying_keeps_the_term_and_lowers_the_payment(api: Api) -> None:
    admin, customer, investors, loan = await funded(api)
    before = await _schedule(api, customer, loan)
    preview = await api.client.post(
        _url(loan, "prepayments/preview"),
        json={"amount": "600.00", "keep": "term"},
        headers=customer.headers,
    )
    assert preview.status_code == 200, preview.text
    assert await _schedule(api, customer, loan) == before  # a preview stores nothing
    done = await api.client.post(
        _url(loan, "prepayments"),
        json={"amount": "600.00", "keep": "term"},
        headers={**customer.headers, "Idempotency-Key": "pre-1"},
    )
    assert done.status_code == 201, done.text
    body = done.json()
    # 3.47 of interest accrued, then 596.53 off the principal
    assert (body["principal"], body["interest"], body["outstanding"]) == (
        "596.53",
        "3.47",
        "603.47",
    )
    assert body["loan_status"] == "active"
    assert body["schedule"] == preview.json()["schedule"]
    assert (body["principal"], body["interest"]) == (
        preview.json()["principal"],
        preview.json()["interest"],
    )
    after = await _schedule(api, customer, loan)
    assert after == body["schedule"]
    rows = after["installments"]
    assert len(rows) == 12
    assert [r["due_date"] for r in rows] == [r["due_date"] for r in before["installments"]]
    assert after["totals"]["principal"] == "1200.00"
    assert cents(rows[1]["payment"]) < cents(before["installments"][1]["payment"])
    assert cents(after["totals"]["interest"]) < cents(before["totals"]["interest"])
    state = (await api.client.get(_url(loan, ""), headers=customer.headers)).json()
    assert state["monthly_payment"] == rows[1]["payment"]
    assert state["outstanding_principal"] == "603.47"
    assert state["total_interest"] == after["totals"]["interest"]
    event = (await api.client.get(_url(loan, "history"), headers=customer.headers)).json()[-1]
    assert event["note"].startswith("prepayment (keep term)")
    assert event["changes"]["monthly_payment"]["from"] == loan["monthly_payment"]
    assert len(event["changes"]["schedule"]["from"]) == 12
    assert event["changes"]["schedule"]["to"][0]["principal"] == rows[0]["principal"]
    figures = [await portfolio(api, i) for i in investors]
    assert sum(cents(f["invested"]) for f in figures) == 60_347
    # what the investors still expect follows the new schedule (each share rounded apart)
    expected = 0
    for investor in investors:
        held = await api.client.get("/api/v1/investments/allocations", headers=investor.headers)
        item = held.json()["items"][0]
        expected += cents(item["expected_interest"])
        assert item["expected_principal"] == item["outstanding_principal"]
    still = cents(after["totals"]["interest"]) - sum(cents(r["paid_interest"]) for r in rows)
    assert abs(expected - still) <= len(investors)
    # paying the new schedule to the end repays exactly what is left
    rest = sum(
        cents(r["payment"]) - cents(r["paid_principal"]) - cents(r["paid_interest"]) for r in rows
    )
    final = await pay(api, customer, loan["id"], f"{rest // 100}.{rest % 100:02d}")
    assert final.json()["loan_status"] == "closed"
    await verify_ok(api, admin)


async def test_prepaying_keeps_the_payment_with_fewer_installments(api: Api) -> None:
    admin, customer, _, loan = await funded(api)
    done = await api.client.post(
        _url(loan, "prepayments"),
        json={"amount": "600.00", "keep": "payment"},
        headers=customer.headers,
    )
    assert done.status_code == 201, done.text
    rows = done.json()["schedule"]["installments"]
    assert len(rows) < 12
    assert all(r["payment"] == loan["monthly_payment"] for r in rows[1:-1])
    state = (await api.client.get(_url(loan, ""), headers=customer.headers)).json()
    assert (state["term_months"], state["monthly_payment"]) == (len(rows), loan["monthly_payment"])
    await verify_ok(api, admin)


async def test_prepaying_more_than_the_payoff_is_422_and_the_payoff_settles(api: Api) -> None:
    admin, customer, _, loan = await funded(api)
    too_much = await api.client.post(
        _url(loan, "prepayments"),
        json={"amount": "1203.48", "keep": "term"},
        headers=customer.headers,
    )
    assert_problem(too_much, 422, "overpayment")
    for body in ({"amount": "10.00", "keep": "sometimes"}, {"amount": "10.00"}, {"keep": "term"}):
        bad = await api.client.post(_url(loan, "prepayments"), json=body, headers=customer.headers)
        assert_problem(bad, 422, "validation_error")
    exact = await api.client.post(
        _url(loan, "prepayments"),
        json={"amount": "1203.47", "keep": "term"},
        headers=customer.headers,
    )
    assert exact.status_code == 201, exact.text
    assert exact.json()["loan_status"] == "closed"
    assert {i["status"] for i in exact.json()["schedule"]["installments"]} == {"settled"}
    await verify_ok(api, admin)


async def test_only_the_owner_repays_early(api: Api) -> None:
    admin, customer, _, loan = await funded(api)
    stranger = await api.user("customer")
    for path, body in (
        ("settlement", {"amount": "1203.47"}),
        ("prepayments", {"amount": "10.00", "keep": "term"}),
        ("prepayments/preview", {"amount": "10.00", "keep": "term"}),
    ):
        response = await api.client.post(_url(loan, path), json=body, headers=stranger.headers)
        assert_problem(response, 404, "loan_not_found")
        for other in (admin, await api.user("agent"), await api.user("investor")):
            response = await api.client.post(_url(loan, path), json=body, headers=other.headers)
            assert_problem(response, 403, "forbidden")
    assert (await api.client.get(_url(loan, ""), headers=customer.headers)).json()[
        "status"
    ] == "active"
