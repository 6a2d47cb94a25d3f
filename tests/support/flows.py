"""Common multi-request steps of API tests: fund investors, apply, approve, pay, read, verify."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from tests.support.api import Api
from tests.support.factories import Account

LOAN_TERMS: dict[str, Any] = {"loan_type": "personal_loan", "amount": "10000.00", "term_months": 12}
# settings_overrides for tests that move the business date
DATE_OVERRIDE = [{"allow_business_date_override": True}]


async def investor_with(api: Api, amount: str) -> Account:
    """An investor who has deposited `amount`."""
    investor = await api.user("investor")
    response = await api.client.post(
        "/api/v1/investments/deposits", json={"amount": amount}, headers=investor.headers
    )
    assert response.status_code == 201, response.text
    return investor


async def portfolio(api: Api, investor: Account) -> dict[str, Any]:
    response = await api.client.get("/api/v1/investments/portfolio", headers=investor.headers)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    return body


async def verify_ok(api: Api, admin: Account | None = None) -> dict[str, Any]:
    """The ledger verification report, asserted ok."""
    admin = admin or await api.user("admin")
    response = await api.client.get("/api/v1/admin/ledger/verify", headers=admin.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["ok"] is True, body
    return body


async def apply(api: Api, customer: Account, **overrides: Any) -> httpx.Response:
    return await api.client.post(
        "/api/v1/loans", json={**LOAN_TERMS, **overrides}, headers=customer.headers
    )


async def new_loan(api: Api, customer: Account, **overrides: Any) -> dict[str, Any]:
    response = await apply(api, customer, **overrides)
    assert response.status_code == 201, response.text
    loan: dict[str, Any] = response.json()
    return loan


async def active_loan(api: Api, customer: Account, admin: Account, **terms: Any) -> dict[str, Any]:
    loan = await new_loan(api, customer, **terms)
    approved = await api.client.post(f"/api/v1/loans/{loan['id']}/approve", headers=admin.headers)
    assert approved.status_code == 200, approved.text
    body: dict[str, Any] = approved.json()
    return body


async def pay(api: Api, customer: Account, loan_id: str, amount: str, **headers: str) -> Any:
    return await api.client.post(
        f"/api/v1/loans/{loan_id}/payments",
        json={"amount": amount},
        headers={**customer.headers, **headers},
    )


async def set_date(api: Api, headers: dict[str, str], day: date) -> httpx.Response:
    return await api.client.put(
        "/api/v1/admin/business-date", json={"date": day.isoformat()}, headers=headers
    )
