"""Approval as a use case: who funds a loan, with how much, and what is left untouched.

The HTTP shape of an approval (status codes, fields, money strings) is in test_approval.py.
"""

from __future__ import annotations

import uuid

import pytest
from fastapi import FastAPI

from bank_api.common.clock import utc_today
from bank_api.domain.errors import AllocationNotPossible
from bank_api.loans.approval import approve_loan
from bank_api.models import Loan, LoanStatus
from tests.support.factories import make_user
from tests.support.services import (
    account_of,
    applied_loan,
    failing_checks,
    funded_investor,
    parts_of,
    run,
)

pytestmark = pytest.mark.usefixtures("backend")


async def _approve(app: FastAPI, loan_id: uuid.UUID) -> Loan:
    admin = await make_user(app, "admin")
    decision = await run(
        app,
        approve_loan,
        actor=admin.principal,
        loan_id=loan_id,
        settings=app.state.settings,
        today=utc_today(),
    )
    assert decision.executed
    return decision.loan


async def test_a_small_investor_gives_what_it_has_and_the_others_cover_the_rest(
    app: FastAPI,
) -> None:
    small = await funded_investor(app, 3_000)
    big = [await funded_investor(app, 500_000) for _ in range(2)]
    customer = await make_user(app, "customer")
    loan = await applied_loan(app, customer, amount=100_000)
    approved = await _approve(app, loan.id)
    assert (approved.status, approved.outstanding_principal) == (LoanStatus.active, 100_000)
    assert await parts_of(app, loan.id) == {small.id: 3_000, big[0].id: 48_500, big[1].id: 48_500}
    assert (await account_of(app, small)).available == 0
    assert [(a.available, a.invested) for a in [await account_of(app, b) for b in big]] == [
        (451_500, 48_500)
    ] * 2
    assert await failing_checks(app) == []


async def test_the_min_ticket_limits_the_number_of_participants(app: FastAPI) -> None:
    investors = [await funded_investor(app, 100_000) for _ in range(10)]
    customer = await make_user(app, "customer")
    loan = await applied_loan(app, customer, amount=10_000)
    await _approve(app, loan.id)
    # 25.00 is the default minimum ticket: four participants, the first four in queue order
    assert await parts_of(app, loan.id) == {i.id: 2_500 for i in investors[:4]}
    assert await failing_checks(app) == []


async def test_an_unfundable_loan_raises_and_moves_nothing(app: FastAPI) -> None:
    investor = await funded_investor(app, 40_000)
    customer = await make_user(app, "customer")
    loan = await applied_loan(app, customer, amount=50_000)
    with pytest.raises(AllocationNotPossible):
        await _approve(app, loan.id)
    assert (await account_of(app, investor)).available == 40_000
    assert await parts_of(app, loan.id) == {}
    assert await failing_checks(app) == []
