"""Approval: fund a loan from the investors' waiting money, disburse it, fix its schedule.

One transaction: lock the loan; read the allocation queue; allocate with the domain rules;
lock the chosen investors' balances in id order and re-check them (retrying the allocation if
a concurrent withdrawal or approval got there first); then write everything set-based: one
multi-row insert of allocations, one `UPDATE ... FROM (VALUES ...)` of balances, one
multi-row insert of journal lines and one of installments.
"""

from __future__ import annotations

import uuid
from fractions import Fraction

from sqlalchemy import BigInteger, Uuid, case, insert, select

from bank_api.common.bulk import update_from_values
from bank_api.common.clock import business_date
from bank_api.common.principal import Principal
from bank_api.common.types import utcnow
from bank_api.config import Settings
from bank_api.domain import ledger
from bank_api.domain.allocation import AllocationPolicy, allocate
from bank_api.domain.schedule import ScheduleType, build_schedule
from bank_api.errors import AllocationConflict, LoanNotApprovable
from bank_api.loans.service import EDITABLE, changes_between, locked_loan, record_event, snapshot
from bank_api.models import (
    Allocation,
    Installment,
    InvestorAccount,
    Loan,
    LoanEventKind,
    LoanStatus,
)
from bank_api.uow import UnitOfWork

ATTEMPTS = 5


def policy(settings: Settings) -> AllocationPolicy:
    max_share = None if settings.max_share is None else Fraction(settings.max_share)
    return AllocationPolicy(min_ticket=settings.min_ticket_cents, max_share=max_share)


async def _queue(uow: UnitOfWork) -> list[tuple[uuid.UUID, int]]:
    stmt = (
        select(InvestorAccount.investor_id, InvestorAccount.available)
        .where(InvestorAccount.available > 0)
        .order_by(InvestorAccount.queued_at, InvestorAccount.investor_id)
    )
    return [(row[0], row[1]) for row in await uow.session.execute(stmt)]


async def _funded_parts(
    uow: UnitOfWork, amount: int, rules: AllocationPolicy
) -> list[tuple[uuid.UUID, int]]:
    """Allocate, then hold the participants' rows; allocate again if they moved meanwhile.

    Each attempt locks inside a savepoint and rolls back to it when the money moved, which
    releases that attempt's row locks: holding them while locking the next attempt's set
    would take locks out of id order, and concurrent approvals then deadlock."""
    for _ in range(ATTEMPTS):
        allocation = allocate(amount, await _queue(uow), rules)
        parts = [(part.investor_id, part.amount) for part in allocation.parts]
        attempt = await uow.session.begin_nested()
        locked = await uow.investors.lock_in_order([investor for investor, _ in parts])
        if all(locked.get(investor, 0) >= part for investor, part in parts):
            await attempt.commit()  # releases the savepoint; the locks stay with the transaction
            return parts
        await attempt.rollback()
    raise AllocationConflict


async def approve_loan(
    uow: UnitOfWork, *, actor: Principal, loan_id: uuid.UUID, settings: Settings
) -> Loan:
    loan = await locked_loan(uow, loan_id, actor)
    if loan.status not in EDITABLE:
        raise LoanNotApprovable
    await uow.investors.lock_allocation_queue()
    parts = await _funded_parts(uow, loan.amount, policy(settings))
    await _move_money(uow, loan, parts)
    start = await business_date(uow.session, settings)
    schedule = build_schedule(
        loan.amount,
        loan.annual_rate_bp,
        loan.term_months,
        start,
        ScheduleType(loan.schedule_type.value),
    )
    await uow.session.execute(
        insert(Installment),
        [
            {
                "loan_id": loan.id,
                "number": i.number,
                "due_date": i.due_date,
                "principal": i.principal,
                "interest": i.interest,
                "paid_principal": 0,
                "paid_interest": 0,
            }
            for i in schedule.installments
        ],
    )
    before = snapshot(loan)
    now = utcnow()
    loan.status, loan.approved_at, loan.updated_at = LoanStatus.active, now, now
    loan.outstanding_principal = loan.amount
    loan.monthly_payment = schedule.monthly_payment
    loan.total_interest, loan.total_payable = schedule.total_interest, schedule.total_payable
    record_event(
        uow,
        loan,
        actor,
        LoanEventKind.approved,
        changes_between(before, snapshot(loan)),
        f"funded by {len(parts)} investors",
    )
    await uow.commit(loan)
    return loan


async def _move_money(uow: UnitOfWork, loan: Loan, parts: list[tuple[uuid.UUID, int]]) -> None:
    now = utcnow()
    await uow.session.execute(
        insert(Allocation),
        [
            {
                "loan_id": loan.id,
                "investor_id": investor,
                "amount": part,
                "principal_received": 0,
                "interest_received": 0,
                "loss": 0,
                "created_at": now,
            }
            for investor, part in parts
        ],
    )
    await update_from_values(
        uow.session,
        InvestorAccount,
        [("investor_id", Uuid()), ("part", BigInteger())],
        parts,
        lambda v: InvestorAccount.investor_id == v.c.investor_id,
        lambda v: {
            "available": InvestorAccount.available - v.c.part,
            "invested": InvestorAccount.invested + v.c.part,
            "queued_at": case(
                (InvestorAccount.available == v.c.part, None), else_=InvestorAccount.queued_at
            ),
            "updated_at": now,
        },
    )
    await uow.ledger.post(ledger.disbursement_entry(loan.id, parts), loan_id=loan.id)
