"""A settlement racing a payment or a write-off: exactly one of them happens (PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from tests.loans.test_early_repayment import DISBURSED, funded
from tests.support.api import Api
from tests.support.flows import DATE_OVERRIDE, pay, set_date, verify_ok

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.real_commits,
    pytest.mark.usefixtures("backend"),
    pytest.mark.parametrize("settings_overrides", DATE_OVERRIDE),
]


async def test_a_settlement_racing_a_payment_leaves_exactly_one(api: Api) -> None:
    admin, customer, _, loan = await funded(api)
    quote = (
        await api.client.get(f"/api/v1/loans/{loan['id']}/payoff", headers=customer.headers)
    ).json()
    settle = api.client.post(
        f"/api/v1/loans/{loan['id']}/settlement",
        json={"amount": quote["amount"]},
        headers=customer.headers,
    )
    settled, paid = await asyncio.gather(settle, pay(api, customer, loan["id"], "100.00"))
    outcomes = sorted((settled.status_code, paid.status_code))
    assert outcomes == [201, 409], (settled.text, paid.text)
    if settled.status_code == 201:
        assert paid.json()["code"] == "loan_closed"
    else:
        assert settled.json()["code"] == "payoff_amount_changed"
    await verify_ok(api, admin)


async def test_a_settlement_racing_a_write_off_leaves_exactly_one(api: Api) -> None:
    admin, customer, _, loan = await funded(api)
    late = DISBURSED + timedelta(days=31 + 95)  # the first installment 95 days past due
    await set_date(api, admin.headers, late)
    quote = (
        await api.client.get(f"/api/v1/loans/{loan['id']}/payoff", headers=customer.headers)
    ).json()
    settle = api.client.post(
        f"/api/v1/loans/{loan['id']}/settlement",
        json={"amount": quote["amount"]},
        headers=customer.headers,
    )
    write_off = api.client.post(f"/api/v1/loans/{loan['id']}/write-off", headers=admin.headers)
    settled, written = await asyncio.gather(settle, write_off)
    pair = (settled.status_code, written.status_code)
    assert pair in ((201, 409), (409, 200)), (settled.text, written.text)
    refused = written if settled.status_code == 201 else settled
    assert refused.json()["code"] == (
        "loan_not_writable_off" if settled.status_code == 201 else "loan_not_active"
    )
    state = (await api.client.get(f"/api/v1/loans/{loan['id']}", headers=admin.headers)).json()
    assert state["status"] == ("closed" if settled.status_code == 201 else "written_off")
    await verify_ok(api, admin)
