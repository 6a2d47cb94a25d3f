"""Investor wallet: deposits, withdrawals, portfolio, statement.

A deposit or withdrawal is one statement: the journal entry, and last the balance, which locks
the row, moves the money (never below zero) and returns the portfolio the response shows (the
balances, the figures kept beside them and the overdue ones of the day).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction
from typing import Any

from bank_api.common.principal import Principal
from bank_api.common.schemas import PageParams
from bank_api.domain import ledger
from bank_api.domain.returns import expected_interest
from bank_api.errors import InsufficientFunds
from bank_api.investments.repository import Balances, Overdue
from bank_api.ledger.repository import investor_line_values
from bank_api.loans.overdue import loan_days_past_due
from bank_api.models import Allocation, LoanStatus, Purpose
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
    fees: int

    @property
    def total(self) -> int:
        return self.available + self.invested


@dataclass(frozen=True)
class InvestorAllocation:
    allocation: Allocation
    loan_status: LoanStatus
    days_past_due: int
    expected_principal: int
    expected_interest: int


@dataclass(frozen=True)
class Movement:
    entry_id: int
    created_at: datetime
    amount: int
    portfolio: Portfolio


async def portfolio(uow: UnitOfWork, *, actor: Principal, currency: str, today: date) -> Portfolio:
    """The balances and the loan figures in one statement: one snapshot without a transaction."""
    return _portfolio(currency, *await uow.investors.portfolio(actor.id, today))


def _portfolio(currency: str, balances: Balances, overdue: Overdue) -> Portfolio:
    return Portfolio(
        currency,
        balances.available,
        balances.invested,
        balances.interest_earned,
        balances.losses,
        balances.active_allocations,
        overdue.principal,
        overdue.npl_principal,
        balances.fees,
    )


async def allocations(
    uow: UnitOfWork, *, actor: Principal, status: LoanStatus | None, today: date, page: PageParams
) -> tuple[list[InvestorAllocation], int]:
    rows, total = await uow.allocations.investor_page(
        actor.id, status, limit=page.limit, offset=page.offset
    )
    return [
        _with_expected(a, status, loan_days_past_due(status, unpaid, today), amount, interest, fee)
        for a, status, unpaid, amount, interest, fee in rows
    ], total


def _with_expected(
    allocation: Allocation,
    status: LoanStatus,
    late: int,
    loan_amount: int,
    interest: int,
    fee_ppm: int,
) -> InvestorAllocation:
    """What is still scheduled to come back: the outstanding principal and the investor's
    share of the interest not yet received, while the loan is active; nothing afterwards."""
    if status != LoanStatus.active:
        return InvestorAllocation(allocation, status, late, 0, 0)
    to_come = expected_interest(
        allocation.amount,
        loan_amount,
        interest,
        allocation.interest_received,
        allocation.fee,
        Fraction(fee_ppm, 1_000_000),
    )
    return InvestorAllocation(allocation, status, late, allocation.outstanding_principal, to_come)


async def deposit(
    uow: UnitOfWork, *, actor: Principal, amount: int, currency: str, today: date
) -> Movement:
    """external -> available; money waiting from now joins the back of the allocation queue."""
    return await _move(uow, actor, ledger.deposit_entry(actor.id, amount), amount, currency, today)


async def withdraw(
    uow: UnitOfWork, *, actor: Principal, amount: int, currency: str, today: date
) -> Movement:
    """available -> external, never below zero (the balance's own update checks it)."""
    entry = ledger.withdrawal_entry(actor.id, amount)
    return await _move(uow, actor, entry, -amount, currency, today)


async def _move(
    uow: UnitOfWork,
    actor: Principal,
    entry: ledger.Entry,
    change: int,
    currency: str,
    today: date,
) -> Movement:
    """The journal entry, and last the balance, which refuses to go below zero and answers
    with the portfolio's figures: one round trip."""
    moved = await uow.write_one(
        uow.ledger.entry(entry, value_date=today, investor_id=actor.id),
        uow.investors.moving(actor.id, change, today),
    )
    if moved is None:
        available = (await uow.investors.for_investor(actor.id)).available
        raise InsufficientFunds(available=available, requested=-change)
    entry_id, created_at, *figures = moved
    portfolio = _portfolio(currency, *uow.investors.figures(figures))
    return Movement(entry_id, created_at, abs(change), portfolio)


async def transactions(
    uow: UnitOfWork,
    *,
    actor: Principal,
    purpose: Purpose | None,
    since: datetime | None,
    before: datetime | None,
    page: PageParams,
) -> tuple[list[dict[str, Any]], int]:
    """A page of the investor's lines (`INVESTOR_LINE` mappings), newest first, and the total."""
    stmt = uow.ledger.investor_lines(actor.id, purpose, since, before)
    rows, total = await uow.ledger.page(stmt, limit=page.limit, offset=page.offset)
    return investor_line_values(rows), total
