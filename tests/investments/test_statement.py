"""Investor statements by value date, in JSON and CSV (SPEC §11.2)."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pytest

from bank_api.common.clock import utc_today
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
from tests.support.money import cents, money

pytestmark = pytest.mark.usefixtures("backend")

STATEMENT = "/api/v1/investments/statement"


async def _statement(api: Api, investor: Account, **params: str) -> dict[str, Any]:
    response = await api.client.get(STATEMENT, params=params, headers=investor.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _reconciles(body: dict[str, Any]) -> None:
    """opening + movements = closing, to the cent, on both accounts."""
    t = {k: cents(v) for k, v in body["totals"].items()}
    opening, closing = body["opening"], body["closing"]
    assert cents(closing["available"]) == (
        cents(opening["available"])
        + t["deposit"]
        - t["withdrawal"]
        - t["allocation"]
        + t["principal_repayment"]
        + t["interest"]
    )
    assert cents(closing["invested"]) == (
        cents(opening["invested"]) + t["allocation"] - t["principal_repayment"] - t["write_off"]
    )


async def _history(api: Api) -> tuple[Account, Account, dict[str, Any]]:
    """An investor who deposits on 2031-03-10, funds a loan on 2031-03-20 (alone), is paid the
    first installment on 2031-04-20 and withdraws 100.00 on 2031-04-25."""
    admin = await api.user("admin")
    await set_date(api, admin.headers, date(2031, 3, 10))
    investor = await investor_with(api, "2000.00")
    customer = await api.user("customer")
    await set_date(api, admin.headers, date(2031, 3, 20))
    loan = await new_loan(api, customer, amount="1200.00", term_months=12)
    approved = await api.client.post(f"/api/v1/loans/{loan['id']}/approve", headers=admin.headers)
    assert approved.status_code == 200, approved.text
    await set_date(api, admin.headers, date(2031, 4, 20))
    paid = await pay(api, customer, loan["id"], approved.json()["monthly_payment"])
    assert paid.status_code == 201, paid.text
    await set_date(api, admin.headers, date(2031, 4, 25))
    out = await api.client.post(
        "/api/v1/investments/withdrawals", json={"amount": "100.00"}, headers=investor.headers
    )
    assert out.status_code == 201, out.text
    return admin, investor, paid.json()


@pytest.mark.parametrize("settings_overrides", DATE_OVERRIDE)
async def test_statements_reconcile_to_the_cent_and_chain_month_to_month(api: Api) -> None:
    admin, investor, payment = await _history(api)
    march = await _statement(api, investor, **{"from": "2031-03-01", "to": "2031-03-31"})
    assert (march["from"], march["to"]) == ("2031-03-01", "2031-03-31")
    assert march["opening"] == {"available": "0.00", "invested": "0.00"}
    assert march["closing"] == {"available": "800.00", "invested": "1200.00"}
    assert march["totals"] == {
        "deposit": "2000.00",
        "withdrawal": "0.00",
        "allocation": "1200.00",
        "principal_repayment": "0.00",
        "interest": "0.00",
        "write_off": "0.00",
        "fee": "0.00",
    }
    assert [
        (line["type"], line["account"], line["amount"], line["value_date"])
        for line in march["lines"]
    ] == [
        ("deposit", "available", "2000.00", "2031-03-10"),
        ("allocation", "available", "-1200.00", "2031-03-20"),
        ("allocation", "invested", "1200.00", "2031-03-20"),
    ]
    _reconciles(march)

    # the business date is 2031-04-25: by default, this month up to it
    april = await _statement(api, investor)
    assert (april["from"], april["to"]) == ("2031-04-01", "2031-04-25")
    assert april["opening"] == march["closing"]
    assert april["totals"]["principal_repayment"] == payment["principal"]
    assert april["totals"]["interest"] == payment["interest"]
    assert april["totals"]["withdrawal"] == "100.00"
    _reconciles(april)
    now = await portfolio(api, investor)
    assert april["closing"] == {"available": now["available"], "invested": now["invested"]}
    assert {line["value_date"] for line in april["lines"]} == {"2031-04-20", "2031-04-25"}

    both = await _statement(api, investor, **{"from": "2031-03-01", "to": "2031-04-30"})
    assert both["closing"] == april["closing"]
    assert len(both["lines"]) == len(march["lines"]) + len(april["lines"])
    _reconciles(both)
    await verify_ok(api, admin)


@pytest.mark.parametrize("settings_overrides", DATE_OVERRIDE)
async def test_a_statement_as_csv_has_a_header_and_every_line(api: Api) -> None:
    _, investor, _ = await _history(api)
    params = {"from": "2031-03-01", "to": "2031-04-30"}
    as_json = await _statement(api, investor, **params)
    response = await api.client.get(
        STATEMENT, params=params, headers={**investor.headers, "Accept": "text/csv"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "statement-2031-03-01-2031-04-30.csv" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == [
        "id",
        "entry_id",
        "value_date",
        "created_at",
        "type",
        "account",
        "amount",
        "loan_id",
    ]
    assert [(r["type"], r["account"], r["amount"], r["value_date"]) for r in rows] == [
        (line["type"], line["account"], line["amount"], line["value_date"])
        for line in as_json["lines"]
    ]
    assert (
        money(sum(cents(r["amount"]) for r in rows if r["account"] == "available"))
        == (as_json["closing"]["available"])
    )
    # JSON unless CSV is preferred
    mixed = "text/csv;q=0.5, application/json"
    response = await api.client.get(
        STATEMENT, params=params, headers={**investor.headers, "Accept": mixed}
    )
    assert response.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"from": "2031-05-02", "to": "2031-05-01"}, "invalid_date_range"),
        ({"from": "2030-01-01", "to": "2031-01-02"}, "date_range_too_long"),
        ({"from": "2031-02-30"}, "validation_error"),
        ({"to": "yesterday"}, "validation_error"),
    ],
)
async def test_bad_statement_periods_are_422(api: Api, params: dict[str, str], code: str) -> None:
    investor = await api.user("investor")
    response = await api.client.get(STATEMENT, params=params, headers=investor.headers)
    assert_problem(response, 422, code)


async def test_a_new_investor_has_an_empty_statement_for_this_month(api: Api) -> None:
    investor = await api.user("investor")
    body = await _statement(api, investor)
    today = utc_today()
    assert (body["from"], body["to"]) == (today.replace(day=1).isoformat(), today.isoformat())
    assert body["opening"] == body["closing"] == {"available": "0.00", "invested": "0.00"}
    assert body["lines"] == []
    assert set(body["totals"].values()) == {"0.00"}
    other = await api.user("customer")
    assert_problem(await api.client.get(STATEMENT, headers=other.headers), 403, "forbidden")
