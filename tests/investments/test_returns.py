"""Investor returns: XIRR over the cash flows with the loans (SPEC §11.2), checked against an
independent implementation (pyxirr) fed from the investor's own transaction lines."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import pyxirr

from bank_api.domain.schedule import add_months
from tests.support.api import Api
from tests.support.factories import Account
from tests.support.flows import DATE_OVERRIDE, investor_with, new_loan, pay, set_date
from tests.support.http import assert_problem
from tests.support.money import cents

pytestmark = [
    pytest.mark.usefixtures("backend"),
    pytest.mark.parametrize("settings_overrides", DATE_OVERRIDE),
]

RETURNS = "/api/v1/investments/returns"
START = date(2031, 3, 20)


async def _returns(api: Api, investor: Account, **params: str) -> dict[str, Any]:
    response = await api.client.get(RETURNS, params=params, headers=investor.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _lines(api: Api, investor: Account) -> list[dict[str, Any]]:
    response = await api.client.get(
        "/api/v1/investments/transactions", params={"limit": 200}, headers=investor.headers
    )
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _independent(lines: list[dict[str, Any]], terminal: tuple[date, int] | None) -> float:
    """pyxirr over the flows a reader of the transaction list would write down."""
    flows: list[tuple[date, float]] = []
    for line in lines:
        kind, account, amount = line["type"], line["account"], cents(line["amount"])
        on = date.fromisoformat(line["value_date"])
        if (kind, account) == ("allocation", "invested"):
            flows.append((on, -amount / 100))
        elif kind in ("principal_repayment", "interest") and account == "available":
            flows.append((on, amount / 100))
    if terminal is not None:
        flows.append((terminal[0], terminal[1] / 100))
    rate = pyxirr.xirr([d for d, _ in flows], [a for _, a in flows])
    assert rate is not None
    return float(rate)


async def _funded_alone(api: Api) -> tuple[Account, Account, Account, dict[str, Any]]:
    """One investor funds a 1,200.00, 12-month personal loan alone on START."""
    admin = await api.user("admin")
    await set_date(api, admin.headers, START)
    investor = await investor_with(api, "1200.00")
    customer = await api.user("customer")
    loan = await new_loan(api, customer, amount="1200.00", term_months=12)
    approved = await api.client.post(f"/api/v1/loans/{loan['id']}/approve", headers=admin.headers)
    assert approved.status_code == 200, approved.text
    return admin, investor, customer, approved.json()


async def _pay_on_due_dates(
    api: Api, admin: Account, customer: Account, loan: dict[str, Any], count: int
) -> None:
    schedule = (
        await api.client.get(f"/api/v1/loans/{loan['id']}/schedule", headers=customer.headers)
    ).json()
    for installment in schedule["installments"][:count]:
        await set_date(api, admin.headers, date.fromisoformat(installment["due_date"]))
        paid = await pay(api, customer, loan["id"], installment["payment"])
        assert paid.status_code == 201, paid.text


async def test_a_loan_repaid_on_schedule_returns_its_rate_compounded(api: Api) -> None:
    admin, investor, customer, loan = await _funded_alone(api)
    await _pay_on_due_dates(api, admin, customer, loan, 12)
    body = await _returns(api, investor)
    lines = await _lines(api, investor)
    ours = Decimal(body["xirr"])
    assert abs(float(ours) - _independent(lines, None)) <= 0.00005 + 1e-9
    # 10.75 % a year paid monthly is 11.32 % compounded; Actual/365 moves it a little
    assert Decimal("0.1120") <= ours <= Decimal("0.1145")
    interest = sum(cents(x["amount"]) for x in lines if x["type"] == "interest")
    assert cents(body["interest_earned"]) == interest == cents(loan["total_interest"])
    assert (body["losses"], body["fees"]) == ("0.00", "0.00")
    assert body["net_profit"] == body["interest_earned"]
    assert (body["from"], body["to"]) == (START.isoformat(), lines[0]["value_date"])


async def test_what_is_still_lent_out_counts_at_par_on_the_last_day(api: Api) -> None:
    admin, investor, customer, loan = await _funded_alone(api)
    await _pay_on_due_dates(api, admin, customer, loan, 4)
    to = add_months(START, 4)
    body = await _returns(api, investor, to=to.isoformat())
    outstanding = cents(
        (await api.client.get("/api/v1/investments/portfolio", headers=investor.headers)).json()[
            "invested"
        ]
    )
    expected = _independent(await _lines(api, investor), (to, outstanding))
    assert abs(float(Decimal(body["xirr"])) - expected) <= 0.00005 + 1e-9
    assert Decimal(body["xirr"]) > Decimal("0.10")

    # from the middle: the principal lent out on `from` is money out on that day
    since = add_months(START, 2)
    middle = await _returns(api, investor, **{"from": since.isoformat(), "to": to.isoformat()})
    later = [x for x in await _lines(api, investor) if x["value_date"] >= since.isoformat()]
    at_start = cents(loan["amount"]) - sum(
        cents(x["amount"])
        for x in await _lines(api, investor)
        if x["type"] == "principal_repayment"
        and x["account"] == "available"
        and x["value_date"] < since.isoformat()
    )
    flows = [(since, -at_start / 100)]
    for x in later:
        if x["account"] == "available" and x["type"] in ("principal_repayment", "interest"):
            flows.append((date.fromisoformat(x["value_date"]), cents(x["amount"]) / 100))
    flows.append((to, outstanding / 100))
    independent = float(pyxirr.xirr([d for d, _ in flows], [a for _, a in flows]) or 0)
    assert abs(float(Decimal(middle["xirr"])) - independent) <= 0.00005 + 1e-9
    assert middle["from"] == since.isoformat()


async def test_a_non_performing_loan_counts_as_nothing_and_the_return_is_negative(
    api: Api,
) -> None:
    admin, investor, customer, loan = await _funded_alone(api)
    await _pay_on_due_dates(api, admin, customer, loan, 6)
    late = add_months(START, 10)  # the seventh installment is 90+ days past due
    await set_date(api, admin.headers, late)
    body = await _returns(api, investor)
    assert Decimal(body["xirr"]) < Decimal("-0.5")
    expected = _independent(await _lines(api, investor), None)
    assert abs(float(Decimal(body["xirr"])) - expected) <= 0.00005 + 1e-9
    # written off, the loss shows and net profit goes below zero
    written = await api.client.post(f"/api/v1/loans/{loan['id']}/write-off", headers=admin.headers)
    assert written.status_code == 200, written.text
    after = await _returns(api, investor)
    assert cents(after["losses"]) > 0
    assert cents(after["net_profit"]) == cents(after["interest_earned"]) - cents(after["losses"])
    assert after["xirr"] == body["xirr"]


async def test_no_cash_flows_no_rate(api: Api) -> None:
    investor = await investor_with(api, "100.00")  # a deposit is not a flow with a loan
    body = await _returns(api, investor)
    assert (body["xirr"], body["from"], body["net_profit"]) == (None, None, "0.00")
    bad = await api.client.get(
        RETURNS, params={"from": "2031-05-02", "to": "2031-05-01"}, headers=investor.headers
    )
    assert_problem(bad, 422, "invalid_date_range")
    edge = await _returns(api, investor, **{"from": "0001-01-01", "to": "9999-12-31"})
    assert edge["xirr"] is None
