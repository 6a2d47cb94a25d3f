"""Repayments: applied to the schedule by the domain rules, passed on to the investors exactly.

One transaction: lock the loan (owner only), its installments and its allocations; apply the
payment (oldest installment first, interest before principal); distribute principal and
interest to the investors cumulatively; then write set-based: installments, allocations and
investor balances each with one `UPDATE ... FROM (VALUES ...)`, the journal lines with one
multi-row insert. The loan closes when nothing remains due.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Integer, Uuid, case, func, select
from sqlalchemy.types import TypeEngine

from bank_api.common.bulk import update_from_values
from bank_api.common.principal import Principal
from bank_api.common.schemas import PageParams
from bank_api.common.types import utcnow
from bank_api.domain import ledger
from bank_api.domain.distribution import Holding, InvestorPayment, distribute_payment
from bank_api.domain.payments import PaymentApplication, apply_payment
from bank_api.errors import LoanClosed, LoanNotActive, LoanNotFound
from bank_api.loans.credit import stored_schedule
from bank_api.loans.service import changes_between, get_loan, record_event, snapshot
from bank_api.models import (
    Allocation,
    Installment,
    InvestorAccount,
    Loan,
    LoanEventKind,
    LoanStatus,
    Payment,
)
from bank_api.uow import UnitOfWork


@dataclass(frozen=True)
class PaymentResult:
    payment: Payment
    loan: Loan


async def record_payment(
    uow: UnitOfWork, *, actor: Principal, loan_id: uuid.UUID, amount: int
) -> PaymentResult:
    loan = await uow.loans.visible(loan_id, actor, lock=True)
    if loan is None or loan.customer_id != actor.id:
        raise LoanNotFound
    if loan.status != LoanStatus.active:
        raise LoanClosed if loan.status == LoanStatus.closed else LoanNotActive
    await _lock_rows(uow, loan.id)
    rows = await stored_schedule(uow, loan.id)
    application = apply_payment([p for p, _ in rows], [paid for _, paid in rows], amount)
    holdings = await _holdings(uow, loan.id)
    shares = distribute_payment(holdings, application.principal, application.interest)
    payment = await _write(uow, loan, actor, amount, application, shares)
    await _advance_loan(uow, loan, actor, application, payment)
    result = PaymentResult(payment, loan)
    await uow.commit(result)
    return result


async def _lock_rows(uow: UnitOfWork, loan_id: uuid.UUID) -> None:
    await uow.session.execute(
        select(Installment.number)
        .where(Installment.loan_id == loan_id)
        .order_by(Installment.number)
        .with_for_update()
    )


async def _holdings(uow: UnitOfWork, loan_id: uuid.UUID) -> list[Holding[uuid.UUID]]:
    stmt = (
        select(
            Allocation.investor_id,
            Allocation.amount,
            Allocation.principal_received,
            Allocation.interest_received,
        )
        .where(Allocation.loan_id == loan_id)
        .order_by(Allocation.investor_id)
        .with_for_update()
    )
    return [Holding(row[0], row[1], row[2], row[3]) for row in await uow.session.execute(stmt)]


async def _write(
    uow: UnitOfWork,
    loan: Loan,
    actor: Principal,
    amount: int,
    application: PaymentApplication,
    shares: Sequence[InvestorPayment[uuid.UUID]],
) -> Payment:
    now = utcnow()
    payment = Payment(
        id=uuid.uuid4(),
        loan_id=loan.id,
        payer_id=actor.id,
        amount=amount,
        principal=application.principal,
        interest=application.interest,
        applied=[
            {"number": a.number, "principal": a.principal, "interest": a.interest}
            for a in application.applied
        ],
        created_at=now,
    )
    uow.session.add(payment)
    await uow.session.flush()
    await update_from_values(
        uow.session,
        Installment,
        [("number", Integer()), ("principal", BigInteger()), ("interest", BigInteger())],
        [(a.number, a.principal, a.interest) for a in application.applied],
        lambda v: (Installment.loan_id == loan.id) & (Installment.number == v.c.number),
        lambda v: {
            "paid_principal": Installment.paid_principal + v.c.principal,
            "paid_interest": Installment.paid_interest + v.c.interest,
        },
    )
    moved = [(s.investor_id, s.principal, s.interest) for s in shares if s.principal or s.interest]
    cents: list[tuple[str, TypeEngine[Any]]] = [
        ("investor_id", Uuid()),
        ("principal", BigInteger()),
        ("interest", BigInteger()),
    ]
    await update_from_values(
        uow.session,
        Allocation,
        cents,
        moved,
        lambda v: (Allocation.loan_id == loan.id) & (Allocation.investor_id == v.c.investor_id),
        lambda v: {
            "principal_received": Allocation.principal_received + v.c.principal,
            "interest_received": Allocation.interest_received + v.c.interest,
        },
    )
    await uow.investors.lock_in_order([investor for investor, _, _ in moved])
    await update_from_values(
        uow.session,
        InvestorAccount,
        cents,
        moved,
        lambda v: InvestorAccount.investor_id == v.c.investor_id,
        lambda v: {
            "available": InvestorAccount.available + v.c.principal + v.c.interest,
            "invested": InvestorAccount.invested - v.c.principal,
            "interest_earned": InvestorAccount.interest_earned + v.c.interest,
            # money rising from zero joins the back of the allocation queue
            "queued_at": case(
                (InvestorAccount.available == 0, now), else_=InvestorAccount.queued_at
            ),
            "updated_at": now,
        },
    )
    entry = ledger.payment_entry(loan.id, application.principal, application.interest, moved)
    journal = await uow.ledger.post(entry, loan_id=loan.id)
    journal.payment_id = payment.id
    return payment


async def _advance_loan(
    uow: UnitOfWork, loan: Loan, actor: Principal, application: PaymentApplication, payment: Payment
) -> None:
    before = snapshot(loan)
    now = utcnow()
    loan.outstanding_principal -= application.principal
    loan.updated_at = now
    note = f"payment {payment.id}"
    record_event(
        uow,
        loan,
        actor,
        LoanEventKind.payment,
        {
            "outstanding_principal": {
                "from": loan.outstanding_principal + application.principal,
                "to": loan.outstanding_principal,
            }
        },
        note,
    )
    if application.fully_repaid:
        loan.status, loan.closed_at = LoanStatus.closed, now
        record_event(
            uow, loan, actor, LoanEventKind.closed, changes_between(before, snapshot(loan))
        )


@dataclass(frozen=True)
class PaymentAfter:
    """A stored payment and the loan as that payment left it."""

    payment: Payment
    outstanding: int

    @property
    def loan_status(self) -> LoanStatus:
        # Installments are paid oldest first, interest before principal: the principal is all
        # repaid only once the last installment is, which is when the loan closes.
        return LoanStatus.closed if self.outstanding == 0 else LoanStatus.active


async def list_payments(
    uow: UnitOfWork, *, actor: Principal, loan_id: uuid.UUID, page: PageParams
) -> tuple[list[PaymentAfter], int]:
    """The loan's payments, newest first, each with the outstanding principal it left (the
    running total of principal repaid, over all of the loan's payments)."""
    loan = await get_loan(uow, actor=actor, loan_id=loan_id)
    order = (Payment.created_at, Payment.id)
    repaid = func.sum(Payment.principal).over(order_by=order).label("repaid")
    running = select(Payment.id, repaid).where(Payment.loan_id == loan.id).subquery()
    stmt = (
        select(Payment, running.c.repaid)
        .join(running, running.c.id == Payment.id)
        .order_by(Payment.created_at.desc(), Payment.id)
    )
    total = await uow.session.scalar(
        select(func.count()).select_from(Payment).where(Payment.loan_id == loan.id)
    )
    rows = await uow.session.execute(stmt.limit(page.limit).offset(page.offset))
    return [PaymentAfter(p, loan.amount - int(r)) for p, r in rows], int(total or 0)
