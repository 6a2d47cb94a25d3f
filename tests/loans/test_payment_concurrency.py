from __future__ import annotations

import asyncio

import pytest

from tests.helpers import Api
from tests.loans.test_approval import investor_with, verify_ok
from tests.loans.test_payments import active_loan, cents, pay

pytestmark = [pytest.mark.postgres_only, pytest.mark.usefixtures("backend")]


async def test_simultaneous_payments_never_overpay(api: Api) -> None:
    await investor_with(api, "5000.00")
    customer = await api.user("customer")
    admin = await api.user("admin")
    loan = await active_loan(api, customer, admin, amount="1000.00", term_months=3)
    total = cents(loan["total_payable"])
    share = total // 2 + 1  # two of these would overpay
    amount = f"{share // 100}.{share % 100:02d}"
    responses = await asyncio.gather(*(pay(api, customer, loan["id"], amount) for _ in range(4)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 422, 422, 422]
    assert {r.json()["code"] for r in responses if r.status_code == 422} == {"overpayment"}
    state = (await api.client.get(f"/api/v1/loans/{loan['id']}", headers=admin.headers)).json()
    assert state["status"] == "active"
    await verify_ok(api, admin)
