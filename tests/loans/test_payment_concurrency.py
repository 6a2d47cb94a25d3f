from __future__ import annotations

import asyncio
import re
from datetime import date, timedelta
from typing import Any

import pytest

from tests.support.api import Api
from tests.support.factories import Account
from tests.support.flows import DATE_OVERRIDE, active_loan, investor_with, pay, set_date, verify_ok
from tests.support.http import captured_sql
from tests.support.money import cents, money

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.real_commits,
    pytest.mark.usefixtures("backend"),
]


async def test_simultaneous_payments_never_overpay(api: Api) -> None:
    await investor_with(api, "5000.00")
    customer = await api.user("customer")
    admin = await api.user("admin")
    loan = await active_loan(api, customer, admin, amount="1000.00", term_months=3)
    total = cents(loan["total_payable"])
    share = total // 2 + 1  # two of these would overpay
    amount = money(share)
    responses = await asyncio.gather(*(pay(api, customer, loan["id"], amount) for _ in range(4)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 422, 422, 422]
    assert {r.json()["code"] for r in responses if r.status_code == 422} == {"overpayment"}
    state = (await api.client.get(f"/api/v1/loans/{loan['id']}", headers=admin.headers)).json()
    assert state["status"] == "active"
    await verify_ok(api, admin)


async def test_payments_on_loans_sharing_investors_all_succeed(api: Api) -> None:
    """Loans of different sizes funded from the head of the same queue: paying them all at
    once must not deadlock on the shared investors' balances (they are locked in id order)."""
    for _ in range(30):
        await investor_with(api, "2000.00")
    customer = await api.user("customer")
    admin = await api.user("admin")
    loans = [
        await active_loan(api, customer, admin, amount=amount, term_months=6)
        for amount in ("750.00", "400.00", "250.00", "1000.00", "600.00", "300.00")
    ]
    for _ in range(3):
        responses = await asyncio.gather(
            *(pay(api, customer, loan["id"], loan["monthly_payment"]) for loan in loans)
        )
        assert [r.status_code for r in responses] == [201] * len(loans), [r.text for r in responses]
    await verify_ok(api, admin)


async def funded_loan(api: Api, *, investors: int, amount: str) -> tuple[Account, Account, Any]:
    """An active 6-month loan funded by `investors` investors of 1,000.00 each."""
    for _ in range(investors):
        await investor_with(api, "1000.00")
    customer = await api.user("customer")
    admin = await api.user("admin")
    return customer, admin, await active_loan(api, customer, admin, amount=amount, term_months=6)


@pytest.mark.parametrize("settings_overrides", DATE_OVERRIDE)
async def test_balance_updates_lock_investor_rows_in_id_order_last(api: Api) -> None:
    """A set-based UPDATE alone locks rows in its join plan's order, so payments and
    write-offs change the investors' balances with one statement that first locks them in id
    order (a materialized, ordered SELECT ... FOR UPDATE it joins); and it is the last
    statement before the idempotency record, the one the other writes sent with it are CTEs of,
    so the most contended rows are held for the least time."""
    customer, admin, loan = await funded_loan(api, investors=3, amount="900.00")
    with captured_sql(api.app) as payment_statements:
        assert (await pay(api, customer, loan["id"], loan["monthly_payment"])).status_code == 201
    late = date.today() + timedelta(days=200)
    assert (await set_date(api, admin.headers, late)).status_code == 200
    with captured_sql(api.app) as statements:
        written_off = await api.client.post(
            f"/api/v1/loans/{loan['id']}/write-off", headers=admin.headers
        )
    assert written_off.status_code == 200, written_off.text
    # The balances' UPDATE is the statement; the other writes sent with it are its CTEs.
    ordered = re.compile(
        r"locked AS MATERIALIZED \(SELECT investor_account\.investor_id( AS investor_id)? "
        r"FROM investor_account "
        r"WHERE .* ORDER BY investor_account\.investor_id FOR UPDATE\)(, .*)? "
        r"UPDATE investor_account SET .* FROM \w+, locked WHERE"
    )
    for trace in (payment_statements, statements):
        updates = [s for s in trace if "UPDATE investor_account" in s]
        assert len(updates) == 1, trace
        assert ordered.search(updates[0]), updates[0]
        later = trace[trace.index(updates[0]) + 1 :]
        assert all(s.startswith("INSERT INTO idempotency_record") for s in later), later


async def test_a_payment_writes_all_its_journal_lines_in_one_insert(api: Api) -> None:
    """Lines with and without an owner (external) go in one batched INSERT, not one per run."""
    customer, _, loan = await funded_loan(api, investors=4, amount="100.00")
    with captured_sql(api.app) as statements:
        assert (await pay(api, customer, loan["id"], loan["monthly_payment"])).status_code == 201
    inserts = [s for s in statements if "INSERT INTO journal_line" in s]
    assert len(inserts) == 1, inserts
