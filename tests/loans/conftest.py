from __future__ import annotations

from typing import Any

import httpx

from tests.helpers import Account, Api


async def apply(api: Api, customer: Account, **overrides: Any) -> httpx.Response:
    body: dict[str, Any] = {"loan_type": "personal_loan", "amount": "10000.00", "term_months": 12}
    body.update(overrides)
    return await api.client.post("/api/v1/loans", json=body, headers=customer.headers)


async def new_loan(api: Api, customer: Account, **overrides: Any) -> dict[str, Any]:
    response = await apply(api, customer, **overrides)
    assert response.status_code == 201, response.text
    loan: dict[str, Any] = response.json()
    return loan
