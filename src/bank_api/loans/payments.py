"""Repayments: applied to the schedule by the domain rules, passed on to the investors exactly.

One transaction, in lock order: the loan (its owner only), its installments, its holdings;
apply the payment (oldest installment first, interest before principal) and distribute its
principal and interest to the investors cumulatively; then write the loan and its history,
and in one round trip (`UnitOfWork.write`), set-based: the payment, the installments, the
holdings, the journal entry with its lines, and last the investors' balances (locked in id
order), just before commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any

from bank_api.common.principal import Principal
from bank_api.common.schemas import PageParams
from bank_api.common.types import utcnow
from bank_api.domain import ledger
from bank_api.domain.delinquency import oldest_unpaid_due
from bank_api.domain.distribution import distribute_payment, fee_part
from bank_api.domain.payments import AppliedPart, Paid, apply_payment
from bank_api.domain.schedule import Installment as Planned
from bank_api.errors import LoanClosed, LoanNotActive, LoanNotFound
from bank_api.investments.repository import Balances
from bank_api.loans import history
from bank_api.loans.lifecycle import visible_loan
from bank_api.models import Loan, LoanEventKind, LoanStatus, Payment
from bank_api.uow import UnitOfWork


@dataclass(frozen=True)
class PaymentResult:
    payment: Payment
    loan_status: LoanStatus
    outstanding: int


@dataclass(frozen=True)
class Repayment:
    """What a payment does to the loan's schedule, as the domain rules decided it."""

    amount: int
    applied: Sequence[AppliedPart]
    principal: int
    interest: int
    paid_after: Sequence[Paid]
    closes: bool
    installments: Sequence[Planned] = ()
    """The schedule afterwards when it changes (a prepayment), from `rescheduled_from` on."""
    rescheduled_from: int | None = None


def loan_fee_rate(loan: Loan) -> Fraction:
    """The servicing fee fixed for the loan when it was funded, as a fraction of interest."""
    return Fraction(loan.fee_ppm, 1_000_000)


async def payable_loan(
    uow: UnitOfWork, actor: Principal, loan_id: uuid.UUID, *, lock: bool = True
) -> tuple[Loan, list[Planned], list[Paid]]:
    """The caller's own active loan and its schedule, locked in that order (unless only read,
    `lock=False`)."""
    loan = await uow.loans.visible(loan_id, actor, lock=lock)
    if loan is None or loan.customer_id != actor.id:
        raise LoanNotFound
    if loan.status != LoanStatus.active:
        raise LoanClosed if loan.status == LoanStatus.closed else LoanNotActive
    schedule = await uow.installments.schedule(loan.id, lock=lock)
    return loan, [p for p, _ in schedule], [paid for _, paid in schedule]


async def record_payment(
    uow: UnitOfWork,
    *,
    actor: Principal,
    loan_id: uuid.UUID,
    amount: int,
    today: date,
) -> PaymentResult:
    loan, planned, paid = await payable_loan(uow, actor, loan_id)
    application = apply_payment(planned, paid, amount)
    repayment = Repayment(
        amount,
        application.applied,
        application.principal,
        application.interest,
        application.paid_after,
        application.fully_repaid,
    )
    return await book_repayment(uow, loan, actor, planned, repayment, today)


async def book_repayment(
    uow: UnitOfWork,
    loan: Loan,
    actor: Principal,
    planned: Sequence[Planned],
    repayment: Repayment,
    today: date,
    *,
    note: str = "payment",
    terms: dict[str, Any] | None = None,
    schedule_change: dict[str, Any] | None = None,
) -> PaymentResult:
    """Store a repayment of the locked `loan` (whose schedule was `planned`) and pass it on to
    the investors, the platform keeping the loan's fee of the interest: the payment, the
    installments, the holdings, the journal entry, the loan (`terms` too) and its history, and
    last the investors' balances: after a prepayment's rewritten schedule, one round trip."""
    holdings = await uow.allocations.holdings(loan.id, lock=True)
    interest_before = sum(p.interest for p in repayment.paid_after) - repayment.interest
    fees_before = sum(h.fee for h in holdings)
    fee = fee_part(interest_before, fees_before, repayment.interest, loan_fee_rate(loan))
    shares = distribute_payment(holdings, repayment.principal, repayment.interest, fee)
    moved = [s for s in shares if s.principal or s.interest or s.fee]

    payment = Payment(
        id=uuid.uuid4(),
        loan_id=loan.id,
        payer_id=actor.id,
        amount=repayment.amount,
        principal=repayment.principal,
        interest=repayment.interest,
        fee=fee,
        applied=[
            {"number": a.number, "principal": a.principal, "interest": a.interest}
            for a in repayment.applied
        ],
        created_at=utcnow(),
    )
    after = list(repayment.installments) or list(planned)
    unpaid_due = oldest_unpaid_due(after, repayment.paid_after)
    # Every holding keeps the active loan's oldest unpaid due date (none once it closes).
    holding_due = None if repayment.closes else unpaid_due
    holders = shares if holding_due != loan.oldest_unpaid_due else moved
    paid = history.change_written(
        loan,
        actor,
        LoanEventKind.payment,
        f"{note} {payment.id}",
        extra=schedule_change,
        outstanding_principal=loan.outstanding_principal - repayment.principal,
        oldest_unpaid_due=unpaid_due,
        sign_offs=None,  # a write-off signed off before this payment judged another loan
        **(terms or {}),
    )
    written = [paid]
    if repayment.closes:
        written.append(
            history.change_written(
                loan, actor, LoanEventKind.closed, status=LoanStatus.closed, closed_at=utcnow()
            )
        )
    if repayment.rescheduled_from is not None:
        await _reschedule(uow, loan.id, repayment.rescheduled_from, repayment)
    entry = ledger.payment_entry(
        loan.id,
        repayment.principal,
        repayment.interest,
        [(s.investor_id, s.principal, s.interest) for s in moved],
        [(s.investor_id, s.fee) for s in moved if s.fee],
    )
    closed = -1 if repayment.closes else 0  # every holder has one active holding less
    credits = [
        Balances(
            s.investor_id,
            available=s.principal + s.interest,
            invested=-s.principal,
            interest_earned=s.interest,
            active_allocations=closed,
            fees=s.fee,
        )
        for s in (shares if repayment.closes else moved)
    ]
    await uow.write(
        uow.loans.update(loan.id, {k: v for w in written for k, v in w.values.items()}),
        uow.loan_events.new(*(w.event for w in written)),
        uow.payments.new(payment),
        uow.installments.paid(loan.id, _paid_parts(repayment)),
        uow.allocations.received(
            loan.id, [(s.investor_id, s.principal, s.interest, s.fee) for s in holders], holding_due
        ),
        uow.ledger.entry(entry, value_date=today, loan_id=loan.id, payment_id=payment.id),
        uow.investors.changes(credits),  # last: the most contended rows
    )
    return PaymentResult(payment, loan.status, loan.outstanding_principal)


def _paid_parts(repayment: Repayment) -> list[tuple[int, int, int]]:
    """`(number, principal, interest)` paid on the installments the schedule keeps (after a
    prepayment, those before the rewritten ones)."""
    start = repayment.rescheduled_from
    parts = [(a.number, a.principal, a.interest) for a in repayment.applied]
    return parts if start is None else [part for part in parts if part[0] < start]


async def _reschedule(
    uow: UnitOfWork, loan_id: uuid.UUID, start: int, repayment: Repayment
) -> None:
    """After a prepayment: the installments from `start` on, rewritten whole."""
    rows = [
        (installment, done)
        for installment, done in zip(repayment.installments, repayment.paid_after, strict=True)
        if installment.number >= start
    ]
    await uow.installments.replace_from(loan_id, start, rows)


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
    rows, total = await uow.payments.for_loan(loan.id, limit=page.limit, offset=page.offset)
    return [PaymentAfter(payment, loan.amount - repaid) for payment, repaid in rows], total
