"""Investor wallet: deposits, withdrawals, portfolio, statement."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from bank_api.common.principal import Principal
from bank_api.common.schemas import PageParams
from bank_api.common.types import utcnow
from bank_api.domain import ledger
from bank_api.errors import InsufficientFunds
from bank_api.loans.overdue import days_past_due, oldest_overdue, overdue_and_npl
from bank_api.models import (
    Allocation,
    Installment,
    InvestorAccount,
    JournalEntry,
    JournalLine,
    Loan,
    LoanStatus,
    Purpose,
)
from bank_api.uow import UnitOfWork


@dataclass(frozen=True)
class Portfolio:
    currency: str
    available: int
    invested: int
    interest_earned: int
    losses: int
    active_allocations: int
    overdue_principal: int
    npl_principal: int

    @property
    def total(self) -> int:
        return self.available + self.invested


@dataclass(frozen=True)
class InvestorAllocation:
    allocation: Allocation
    loan_status: LoanStatus
    days_past_due: int


@dataclass(frozen=True)
class Movement:
    entry: JournalEntry
    amount: int
    portfolio: Portfolio


async def portfolio(uow: UnitOfWork, *, actor: Principal, currency: str, today: date) -> Portfolio:
    account = await uow.investors.for_investor(actor.id)
    return await _portfolio(uow, account, currency, today)


async def _portfolio(
    uow: UnitOfWork, account: InvestorAccount, currency: str, today: date
) -> Portfolio:
    mine = Allocation.investor_id == account.investor_id
    outstanding = Allocation.amount - Allocation.principal_received - Allocation.loss
    active = await uow.session.scalar(
        select(func.count())
        .select_from(Allocation)
        .join(Loan, Loan.id == Allocation.loan_id)
        .where(mine, Loan.status == LoanStatus.active)
    )
    # Only this investor's loans: the grouped subquery is not narrowed by the outer join, so
    # unfiltered it would total the overdue installments of the whole loan book per request.
    late = (
        oldest_overdue(today)
        .where(Installment.loan_id.in_(select(Allocation.loan_id).where(mine)))
        .subquery()
    )
    rows = await uow.session.execute(
        select(late.c.since, outstanding)
        .join(Allocation, Allocation.loan_id == late.c.loan_id)
        .where(mine)
    )
    overdue, npl = overdue_and_npl(rows, today)
    return Portfolio(
        currency,
        account.available,
        account.invested,
        account.interest_earned,
        account.losses,
        int(active or 0),
        overdue,
        npl,
    )


async def allocations(
    uow: UnitOfWork, *, actor: Principal, status: LoanStatus | None, today: date, page: PageParams
) -> tuple[list[InvestorAllocation], int]:
    stmt = (
        select(Allocation, Loan.status)
        .join(Loan, Loan.id == Allocation.loan_id)
        .where(Allocation.investor_id == actor.id)
        .order_by(Allocation.created_at.desc(), Allocation.loan_id)
    )
    if status is not None:
        stmt = stmt.where(Loan.status == status)
    total = await uow.session.scalar(
        select(func.count()).select_from(stmt.order_by(None).subquery())
    )
    rows = (await uow.session.execute(stmt.limit(page.limit).offset(page.offset))).all()
    late = await days_past_due(uow.session, [a.loan_id for a, _ in rows], today)
    return [
        InvestorAllocation(a, loan_status, late.get(a.loan_id, 0)) for a, loan_status in rows
    ], int(total or 0)


async def deposit(
    uow: UnitOfWork, *, actor: Principal, amount: int, currency: str, today: date
) -> Movement:
    """external -> available; money waiting from now joins the back of the allocation queue."""
    account = await uow.investors.for_investor(actor.id, lock=True)
    if account.available == 0:
        account.queued_at = utcnow()
    account.available += amount
    account.updated_at = utcnow()
    entry = await uow.ledger.post(ledger.deposit_entry(actor.id, amount), investor_id=actor.id)
    movement = Movement(entry, amount, await _portfolio(uow, account, currency, today))
    await uow.commit(movement)
    return movement


async def withdraw(
    uow: UnitOfWork, *, actor: Principal, amount: int, currency: str, today: date
) -> Movement:
    """available -> external, never below zero (row lock + CHECK constraint)."""
    account = await uow.investors.for_investor(actor.id, lock=True)
    if amount > account.available:
        raise InsufficientFunds(available=account.available, requested=amount)
    account.available -= amount
    if account.available == 0:
        account.queued_at = None
    account.updated_at = utcnow()
    entry = await uow.ledger.post(ledger.withdrawal_entry(actor.id, amount), investor_id=actor.id)
    movement = Movement(entry, amount, await _portfolio(uow, account, currency, today))
    await uow.commit(movement)
    return movement


async def transactions(
    uow: UnitOfWork,
    *,
    actor: Principal,
    purpose: Purpose | None,
    since: datetime | None,
    before: datetime | None,
    page: PageParams,
) -> tuple[Sequence[JournalLine], int]:
    stmt = uow.ledger.investor_lines(actor.id, purpose, since, before)
    return await uow.ledger.page(stmt, limit=page.limit, offset=page.offset)
