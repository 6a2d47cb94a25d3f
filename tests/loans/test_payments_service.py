"""Payments as a use case: which installments a payment settles, and refusals that change nothing.

The HTTP shape of a payment and its refusal codes are in test_payments.py.
"""

from __future__ import annotations

import uuid

import pytest
from fastapi import FastAPI

from bank_api.common.clock import utc_today
from bank_api.domain.errors import Overpayment
from bank_api.loans.approval import approve_loan
from bank_api.loans.payments import record_payment
from bank_api.uow import UnitOfWork
from tests.support.factories import Account, make_user
from tests.support.services import account_of, applied_loan, failing_checks, funded_investor, run

pytestmark = pytest.mark.usefixtures("backend")


async def _active_loan(app: FastAPI, amount: int, term_months: int) -> tuple[Account, uuid.UUID]:
    customer = await make_user(app, "customer")
    admin = await make_user(app, "admin")
    loan = await applied_loan(app, customer, amount=amount, term_months=term_months)
    await run(
        app,
        approve_loan,
        actor=admin.principal,
        loan_id=loan.id,
        settings=app.state.settings,
        today=utc_today(),
    )
    return customer, loan.id


async def _schedule(app: FastAPI, loan_id: uuid.UUID) -> list[tuple[int, int, int, int]]:
    """(principal, interest, paid principal, paid interest) per installment."""

    async def read(uow: UnitOfWork) -> list[tuple[int, int, int, int]]:
        return [
            (planned.principal, planned.interest, paid.principal, paid.interest)
            for planned, paid in await uow.installments.schedule(loan_id)
        ]

    return await run(app, read)


async def test_a_payment_spans_installments_oldest_first_interest_before_principal(
    app: FastAPI,
) -> None:
    await funded_investor(app, 500_000)
    customer, loan_id = await _active_loan(app, 120_000, 6)
    plan = await _schedule(app, loan_id)
    two_and_a_bit = sum(p + i for p, i, _, _ in plan[:2]) + 1_000
    result = await run(
        app,
        record_payment,
        actor=customer.principal,
        loan_id=loan_id,
        amount=two_and_a_bit,
        today=utc_today(),
    )
    third_interest = plan[2][1]
    assert result.payment.amount == two_and_a_bit
    after = await _schedule(app, loan_id)
    assert [(pp, pi) for _, _, pp, pi in after[:2]] == [(p, i) for p, i, _, _ in plan[:2]]
    assert after[2][2:] == (max(0, 1_000 - third_interest), min(1_000, third_interest))
    assert [row[2:] for row in after[3:]] == [(0, 0)] * 3
    assert await failing_checks(app) == []


async def test_an_overpayment_raises_and_changes_nothing(app: FastAPI) -> None:
    investor = await funded_investor(app, 500_000)
    customer, loan_id = await _active_loan(app, 100_000, 3)
    plan = await _schedule(app, loan_id)
    remaining = sum(p + i for p, i, _, _ in plan)
    before = await account_of(app, investor)
    with pytest.raises(Overpayment):
        await run(
            app,
            record_payment,
            actor=customer.principal,
            loan_id=loan_id,
            amount=remaining + 1,
            today=utc_today(),
        )
    assert await _schedule(app, loan_id) == plan
    after = await account_of(app, investor)
    assert (after.available, after.invested) == (before.available, before.invested)
    assert await failing_checks(app) == []
