"""Repayments: applied to the schedule by the domain rules, passed on to the investors exactly.

One transaction, in lock order: the loan (its owner only), its installments, its holdings;
apply the payment (oldest installment first, interest before principal) and distribute its
principal and interest to the investors cumulatively; then write, set-based: the payment, the
installments, the holdings, the journal entry with its lines, the loan and its history, and
last the investors' balances (one statement, locked in id order), just before commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from bank_api.common.principal import Principal
from bank_api.common.schemas import PageParams
from bank_api.common.types import utcnow
from bank_api.domain import ledger
from bank_api.domain.delinquency import oldest_unpaid_due
from bank_api.domain.distribution import distribute_payment
from bank_api.domain.payments import apply_payment
from bank_api.errors import LoanClosed, LoanNotActive, LoanNotFound
from bank_api.loans import history
from bank_api.loans.lifecycle import visible_loan
from bank_api.models import LoanEventKind, LoanStatus, Payment
from bank_api.uow import UnitOfWork


@dataclass(frozen=True)
class PaymentResult:
    payment: Payment
    loan_status: LoanStatus
    outstanding: int


async def record_payment(
    uow: UnitOfWork, *, actor: Principal, loan_id: uuid.UUID, amount: int, today: date
) -> PaymentResult:
    loan = await uow.loans.visible(loan_id, actor, lock=True)
    if loan is None or loan.customer_id != actor.id:
        raise LoanNotFound
    if loan.status != LoanStatus.active:
        raise LoanClosed if loan.status == LoanStatus.closed else LoanNotActive
    schedule = await uow.installments.schedule(loan.id, lock=True)
    planned = [p for p, _ in schedule]
    application = apply_payment(planned, [paid for _, paid in schedule], amount)
    holdings = await uow.allocations.holdings(loan.id, lock=True)
    shares = distribute_payment(holdings, application.principal, application.interest)
    moved = [(s.investor_id, s.principal, s.interest) for s in shares if s.principal or s.interest]

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
        created_at=utcnow(),
    )
    await uow.payments.insert(payment)
    await uow.installments.add_paid(
        loan.id, [(a.number, a.principal, a.interest) for a in application.applied]
    )
    await uow.allocations.add_received(loan.id, moved)
    entry = ledger.payment_entry(loan.id, application.principal, application.interest, moved)
    await uow.ledger.post(entry, value_date=today, loan_id=loan.id, payment_id=payment.id)

    outstanding = loan.outstanding_principal - application.principal
    history.change(
        uow,
        loan,
        actor,
        LoanEventKind.payment,
        f"payment {payment.id}",
        outstanding_principal=outstanding,
        oldest_unpaid_due=oldest_unpaid_due(planned, application.paid_after),
    )
    if application.fully_repaid:
        history.change(
            uow, loan, actor, LoanEventKind.closed, status=LoanStatus.closed, closed_at=utcnow()
        )
    await uow.session.flush()  # the loan and its history, before the balances
    credits = [(investor, p + i, -p, i, 0) for investor, p, i in moved]
    await uow.investors.change_many(credits)
    return PaymentResult(payment, loan.status, loan.outstanding_principal)


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
    loan = await visible_loan(uow, actor, loan_id)
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
