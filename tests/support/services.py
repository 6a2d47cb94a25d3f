"""Use cases called directly, each in its own unit of work as a request would run it.

For service-level tests: no HTTP, no routing, no serialisation; the rows and balances the use
case leaves behind are read back through the same session factory.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any, TypeVar

from fastapi import FastAPI
from sqlalchemy import select

from bank_api.common.clock import utc_today
from bank_api.domain.verify import CheckResult
from bank_api.investments import service as wallet
from bank_api.ledger.service import verify_ledger
from bank_api.loans.schemas import LoanCreate
from bank_api.loans.service import apply_for_loan
from bank_api.models import Allocation, InvestorAccount, Loan
from bank_api.uow import UnitOfWork
from tests.support.factories import Account, make_user
from tests.support.money import money

T = TypeVar("T")


async def run(app: FastAPI, use_case: Callable[..., Awaitable[T]], **kwargs: Any) -> T:
    """`use_case(uow, **kwargs)` in a fresh session and unit of work, committed as its route
    commits it."""
    async with app.state.sessionmaker() as session, UnitOfWork(session) as uow:
        result = await use_case(uow, **kwargs)
        await uow.commit()
        return result


async def funded_investor(app: FastAPI, cents: int, today: date | None = None) -> Account:
    """An investor (factory-made) who has deposited `cents` through the deposit use case."""
    investor = await make_user(app, "investor")
    await run(
        app,
        wallet.deposit,
        actor=investor.principal,
        amount=cents,
        currency="USD",
        today=today or utc_today(),
    )
    return investor


async def applied_loan(
    app: FastAPI,
    customer: Account,
    *,
    amount: int,
    term_months: int = 12,
    today: date | None = None,
) -> Loan:
    data = LoanCreate(loan_type="personal_loan", amount=money(amount), term_months=term_months)
    return await run(
        app, apply_for_loan, actor=customer.principal, data=data, today=today or utc_today()
    )


async def account_of(app: FastAPI, investor: Account) -> InvestorAccount:
    async with app.state.sessionmaker() as session:
        account = await session.get(InvestorAccount, uuid.UUID(investor.id))
        assert account is not None
        return account


async def parts_of(app: FastAPI, loan_id: uuid.UUID) -> dict[str, int]:
    """Each investor's allocated cents in the loan, by investor id."""
    async with app.state.sessionmaker() as session:
        rows = await session.execute(
            select(Allocation.investor_id, Allocation.amount).where(Allocation.loan_id == loan_id)
        )
        return {str(investor_id): amount for investor_id, amount in rows}


async def failing_checks(app: FastAPI) -> list[CheckResult]:
    """The ledger checks that fail (none, when every invariant holds)."""
    checks = await run(app, verify_ledger)
    return [check for check in checks if not check.ok]
