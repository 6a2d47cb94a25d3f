"""Investor wallet: deposits, withdrawals, portfolio, statement.

A deposit or withdrawal reads the portfolio's loan figures first (nothing it changes), writes
the journal entry, and changes the balance last, in one statement that locks the row, moves
the money (never below zero) and returns the balances the response shows.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction
from typing import Any

from sqlalchemy import Date, bindparam, select, true

from bank_api.common.principal import Principal
from bank_api.common.schemas import PageParams
from bank_api.domain import ledger
from bank_api.domain.returns import expected_interest
from bank_api.errors import InsufficientFunds
from bank_api.investments.repository import ACCOUNTS, BALANCES, Balances
from bank_api.loans.overdue import (
    holdings_overdue_and_npl_sums,
    loan_days_past_due,
    npl_cutoff,
    overdue_holding,
)
from bank_api.models import (
    Allocation,
    JournalLine,
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


@dataclass(frozen=True)
class Overdue:
    """How much of the investor's principal is in overdue loans and, of it, non-performing."""

    principal: int
    npl_principal: int


async def portfolio(uow: UnitOfWork, *, actor: Principal, currency: str, today: date) -> Portfolio:
    """The balances and the loan figures in one statement: one snapshot without a transaction."""
    row = (await uow.session.execute(_PORTFOLIO, _overdue_values(actor.id, today))).one()
    balances, overdue = Balances(*row[: len(BALANCES)]), row[len(BALANCES) :]
    return _portfolio(currency, balances, Overdue(*(int(f) for f in overdue)))


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


# The figures the writes keep are on the account row; the overdue ones depend on the day, so
# they are summed here, over the investor's overdue holdings alone (an index range of
# `ix_allocation_investor_unpaid_due`: however large the portfolio, only what is overdue is
# read). Built once, since every portfolio, deposit and withdrawal sends it.
_TODAY = bindparam("today", type_=Date())
_OVERDUE = (
    select(*holdings_overdue_and_npl_sums(_TODAY, bindparam("npl_cutoff", type_=Date())))
    .select_from(Allocation)
    .where(Allocation.investor_id == bindparam("investor_id"), overdue_holding(_TODAY))
)
_OVERDUE_ROW = _OVERDUE.subquery("overdue")
_PORTFOLIO = (
    select(*BALANCES, *_OVERDUE_ROW.c)
    .select_from(ACCOUNTS.join(_OVERDUE_ROW, true()))  # the sums are one row
    .where(ACCOUNTS.c.investor_id == bindparam("investor_id"))
)


def _overdue_values(investor_id: uuid.UUID, today: date) -> dict[str, Any]:
    return {"investor_id": investor_id, "today": today, "npl_cutoff": npl_cutoff(today)}


async def _overdue(uow: UnitOfWork, investor_id: uuid.UUID, today: date) -> Overdue:
    row = (await uow.session.execute(_OVERDUE, _overdue_values(investor_id, today))).one()
    return Overdue(*(int(figure) for figure in row))


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
    """The portfolio's overdue figures (nothing here changes them), the journal entry, and last
    the balance, which refuses to go below zero and returns the other figures."""
    overdue = await _overdue(uow, actor.id, today)
    entry_id, created_at = await uow.ledger.post(entry, value_date=today, investor_id=actor.id)
    balances = await uow.investors.move(actor.id, change)
    if balances is None:
        available = (await uow.investors.for_investor(actor.id)).available
        raise InsufficientFunds(available=available, requested=-change)
    portfolio = _portfolio(currency, balances, overdue)
    return Movement(entry_id, created_at, abs(change), portfolio)


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
