"""Competing approvals on PostgreSQL: the pool is never over-committed."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bank_api.common.bulk import Write
from bank_api.domain.allocation import Allocation, AllocationPart
from bank_api.investments.repository import ALLOCATION_QUEUE_LOCK as QUEUE_KEY
from bank_api.loans import approval
from bank_api.uow import UnitOfWork
from tests.support.api import Api
from tests.support.flows import investor_with, new_loan, verify_ok

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.real_commits,
    pytest.mark.usefixtures("backend"),
]


async def test_five_approvals_for_a_pool_that_funds_three(api: Api) -> None:
    investors = [await investor_with(api, "1000.00") for _ in range(3)]  # 3,000.00 in all
    customer = await api.user("customer")
    admin = await api.user("admin")
    loans = [await new_loan(api, customer, amount="1000.00") for _ in range(5)]
    responses = await asyncio.gather(
        *(
            api.client.post(f"/api/v1/loans/{loan['id']}/approve", headers=admin.headers)
            for loan in loans
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 200, 200, 409, 409], [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} <= {
        "allocation_not_possible",
        "allocation_conflict",
    }
    for investor in investors:
        figures = (
            await api.client.get("/api/v1/investments/portfolio", headers=investor.headers)
        ).json()
        assert (figures["available"], figures["invested"]) == ("0.00", "1000.00")
    active = (await api.client.get("/api/v1/loans?status=active", headers=admin.headers)).json()
    assert active["total"] == 3
    await verify_ok(api, admin)


async def test_withdrawals_racing_an_approval_never_overdraw(api: Api) -> None:
    investors = [await investor_with(api, "500.00") for _ in range(4)]
    customer = await api.user("customer")
    admin = await api.user("admin")
    loan = await new_loan(api, customer, amount="1000.00")
    calls = [api.client.post(f"/api/v1/loans/{loan['id']}/approve", headers=admin.headers)]
    calls += [
        api.client.post(
            "/api/v1/investments/withdrawals", json={"amount": "500.00"}, headers=i.headers
        )
        for i in investors[:2]
    ]
    approve, *withdrawals = await asyncio.gather(*calls)
    assert approve.status_code in (200, 409)
    assert all(w.status_code in (201, 409) for w in withdrawals)
    total_available = 0
    for investor in investors:
        figures = (
            await api.client.get("/api/v1/investments/portfolio", headers=investor.headers)
        ).json()
        assert not figures["available"].startswith("-")
        total_available += int(figures["available"].replace(".", ""))
    withdrawn = sum(50_000 for w in withdrawals if w.status_code == 201)
    lent = 100_000 if approve.status_code == 200 else 0
    assert total_available == 200_000 - withdrawn - lent
    await verify_ok(api, admin)


async def test_a_failed_allocation_attempt_releases_its_locks_before_the_next(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the money moved between allocating and debiting, the approval allocates again;
    the first attempt's row locks must be gone by then (rolled back to a savepoint), or it
    would hold one set of locks while taking another, out of id order, and could deadlock."""
    first, second = [await investor_with(api, "1000.00") for _ in range(2)]
    customer = await api.user("customer")
    admin = await api.user("admin")
    loan = await new_loan(api, customer, amount="500.00")
    plans = iter(
        [
            # more than `first` has: the debit, which checks under the lock, moves nothing
            Allocation((AllocationPart(uuid.UUID(first.id), 200_000),), None),
            Allocation((AllocationPart(uuid.UUID(second.id), 50_000),), None),
        ]
    )
    monkeypatch.setattr(approval, "allocate", lambda *_, **__: next(plans))
    real_write = UnitOfWork.write
    lockable: list[bool] = []

    async def write(self: Any, *writes: Write) -> Any:
        # The funding's writes end with the balances' debits (the approval's bookkeeping
        # before it ends with the audit record, one row with no rows CTE).
        debits = writes[-1].rows if writes[-1].columns else []
        if [row[0] for row in debits] == [uuid.UUID(second.id)]:  # the second attempt
            async with api.app.state.sessionmaker() as other:  # is `first` free again?
                try:
                    await other.execute(
                        text(
                            "SELECT 1 FROM investor_account WHERE investor_id = :id "
                            "FOR UPDATE NOWAIT"
                        ),
                        {"id": uuid.UUID(first.id)},
                    )
                    lockable.append(True)
                except DBAPIError:
                    lockable.append(False)
                await other.rollback()
        return await real_write(self, *writes)

    monkeypatch.setattr(UnitOfWork, "write", write)
    approved = await api.client.post(f"/api/v1/loans/{loan['id']}/approve", headers=admin.headers)
    assert approved.status_code == 200, approved.text
    assert lockable == [True]
    await verify_ok(api, admin)


async def test_approvals_take_turns_on_the_allocation_queue(api: Api) -> None:
    """An approval waits for the queue's advisory lock, so it allocates from a queue no other
    approval is changing (no stale read, no re-allocation, no conflict)."""
    await investor_with(api, "1000.00")
    customer = await api.user("customer")
    admin = await api.user("admin")
    loan = await new_loan(api, customer, amount="500.00")
    async with api.app.state.sessionmaker() as holder:
        await holder.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": QUEUE_KEY})
        approving = asyncio.ensure_future(
            api.client.post(f"/api/v1/loans/{loan['id']}/approve", headers=admin.headers)
        )
        # Wait (without a clock in the assertion) until the approval queues on the lock; only
        # this database's locks count, other test workers share the server.
        waiting = 0
        for _ in range(1200):
            waiting = await holder.scalar(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                    " AND database = (SELECT oid FROM pg_database"
                    " WHERE datname = current_database())"
                )
            )
            if waiting or approving.done():
                break
            await asyncio.sleep(0.05)
        assert not approving.done()
        assert waiting == 1
        await holder.rollback()  # releases the advisory lock
    approved = await approving
    assert approved.status_code == 200, approved.text
    await verify_ok(api, admin)
