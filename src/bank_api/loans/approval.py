"""Approval: fund a loan from the investors' waiting money, disburse it, fix its schedule.

One transaction, in this order, so the most contended lock (the allocation queue's turn:
approvals fund from the same head of the queue one after another) is held for the fewest
round trips:

1. lock the loan and check it may become active; store its schedule, its new terms, its
   history event and its audit record, in one round trip (none of this needs anybody's money,
   so approvals of different loans overlap here), and set a savepoint;
2. take the queue's turn (an advisory lock), read only the head of the queue that the amount
   can reach, and allocate with the domain rules;
3. write the allocations, the disbursement entry and the debits of the investors' balances,
   in one round trip (`UnitOfWork.write`: on PostgreSQL one statement), the debits locking the
   balances in id order and moving money only if every one of them still has their part. A
   concurrent withdrawal may have taken it: then the attempt is rolled back to
   the savepoint, which gives back the turn and the rows it locked, and runs again on a fresh
   read. A successful attempt leaves the savepoint for the commit to end (no RELEASE while the
   turn is held); the route stores its answer with the idempotency key and commits, which ends
   the turn.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from bank_api import audit
from bank_api.common.principal import Principal
from bank_api.common.types import utcnow
from bank_api.config import Settings
from bank_api.domain import ledger
from bank_api.domain.allocation import (
    AllocationPolicy,
    QueueHeadTooShort,
    allocate,
    queue_head,
)
from bank_api.domain.schedule import build_schedule
from bank_api.errors import AllocationConflict, LoanNotApprovable
from bank_api.investments.repository import Balances
from bank_api.loans import four_eyes, history
from bank_api.loans.lifecycle import can_become, visible_loan
from bank_api.models import Loan, LoanEventKind, LoanStatus
from bank_api.uow import UnitOfWork

ATTEMPTS = 5


def policy(settings: Settings) -> AllocationPolicy:
    max_share = None if settings.max_share is None else Fraction(settings.max_share)
    return AllocationPolicy(min_ticket=settings.min_ticket_cents, max_share=max_share)


@dataclass(frozen=True)
class Decision:
    loan: Loan
    executed: bool
    """False when this was the first of two admins' sign-offs (four-eyes)."""


async def approve_loan(
    uow: UnitOfWork, *, actor: Principal, loan_id: uuid.UUID, settings: Settings, today: date
) -> Decision:
    loan = await visible_loan(uow, actor, loan_id, lock=True)
    if not can_become(loan, LoanStatus.active):
        raise LoanNotApprovable
    if four_eyes.required(settings, loan) and not four_eyes.sign_off(uow, loan, actor, "approve"):
        return Decision(loan, executed=False)
    schedule = build_schedule(
        loan.amount,
        loan.annual_rate_bp,
        loan.term_months,
        today,
        loan.schedule_type,
    )
    approved = history.change_written(
        loan,
        actor,
        LoanEventKind.approved,
        status=LoanStatus.active,
        approved_at=utcnow(),
        outstanding_principal=loan.amount,
        oldest_unpaid_due=schedule.installments[0].due_date,  # the holdings keep it too
        disbursed_on=today,
        fee_ppm=settings.fee_ppm,
        monthly_payment=schedule.monthly_payment,
        total_interest=schedule.total_interest,
        total_payable=schedule.total_payable,
        sign_offs=None,  # four-eyes sign-offs are spent by the decision they were for
    )
    await uow.write(
        uow.installments.new_schedule(loan.id, schedule.installments),
        uow.loans.update(loan.id, approved.values),
        uow.loan_events.new(approved.event),
        audit.written(actor, "loan.approve", "loan", loan.id, approved.changes),
    )
    await _fund(uow, loan, policy(settings), today, schedule.installments[0].due_date)
    return Decision(loan, executed=True)


async def _fund(
    uow: UnitOfWork, loan: Loan, rules: AllocationPolicy, today: date, first_due: date
) -> None:
    attempt = await uow.savepoint()
    for _ in range(ATTEMPTS):
        await uow.investors.lock_allocation_queue()
        parts = await _allocate(uow, loan, rules)
        entry = ledger.disbursement_entry(loan.id, parts)
        debits = [
            Balances(investor, available=-part, invested=part, active_allocations=1)
            for investor, part in parts
        ]
        debited = await uow.write(
            uow.allocations.funded(loan.id, parts, first_due),
            uow.ledger.entry(entry, value_date=today, loan_id=loan.id),
            uow.investors.changes(debits, require_available=True),
        )
        if len(debited) == len(parts):
            return
        await attempt.rollback()
    raise AllocationConflict


async def _allocate(
    uow: UnitOfWork, loan: Loan, rules: AllocationPolicy
) -> list[tuple[uuid.UUID, int]]:
    """Allocate from the head of the queue of the loan's candidates, reading more of it only
    when the head was too short (small caps at the front); pro rata reads all of it."""
    size = queue_head(loan.amount, rules)
    while True:
        head = await uow.investors.allocation_queue(loan.loan_type, size)
        try:
            allocation = allocate(loan.amount, head, rules, complete=len(head) < size)
        except QueueHeadTooShort:
            size *= 4
            continue
        return [(part.investor_id, part.amount) for part in allocation.parts]
