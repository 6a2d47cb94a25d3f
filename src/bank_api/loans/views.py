"""Domain schedules rendered as response schemas."""

from __future__ import annotations

import uuid
from datetime import date

from bank_api.domain.delinquency import installment_status
from bank_api.domain.early import Payoff
from bank_api.domain.payments import Paid
from bank_api.domain.schedule import Installment as Planned
from bank_api.domain.schedule import Schedule
from bank_api.loans.early import Prepaid
from bank_api.loans.schemas import (
    AppliedRead,
    InstallmentRead,
    PaymentRead,
    PayoffRead,
    PrepaymentPreviewRead,
    PrepaymentRead,
    QuoteRead,
    ScheduleRead,
    ScheduleTotals,
)
from bank_api.loans.service import Terms


def _installments(schedule: Schedule) -> list[InstallmentRead]:
    return [
        InstallmentRead(
            number=i.number,
            due_date=i.due_date,
            payment=i.payment,
            principal=i.principal,
            interest=i.interest,
        )
        for i in schedule.installments
    ]


def schedule_view(loan_id: uuid.UUID, schedule: Schedule, *, preview: bool) -> ScheduleRead:
    totals = ScheduleTotals(
        principal=schedule.total_principal,
        interest=schedule.total_interest,
        payable=schedule.total_payable,
    )
    return ScheduleRead(
        loan_id=loan_id, preview=preview, installments=_installments(schedule), totals=totals
    )


def stored_schedule_view(loan_id: uuid.UUID, rows: list[tuple[Planned, Paid, str]]) -> ScheduleRead:
    """An approved loan's schedule as stored, with what is paid and each installment's status."""
    installments = [
        InstallmentRead(
            number=p.number,
            due_date=p.due_date,
            payment=p.payment,
            principal=p.principal,
            interest=p.interest,
            paid_principal=paid.principal,
            paid_interest=paid.interest,
            status=status,
        )
        for p, paid, status in rows
    ]
    principal = sum(p.principal for p, _, _ in rows)
    interest = sum(p.interest for p, _, _ in rows)
    paid_total = sum(paid.principal + paid.interest for _, paid, _ in rows)
    totals = ScheduleTotals(
        principal=principal, interest=interest, payable=principal + interest, paid=paid_total
    )
    return ScheduleRead(loan_id=loan_id, preview=False, installments=installments, totals=totals)


def quote_view(terms: Terms) -> QuoteRead:
    schedule = terms.schedule
    return QuoteRead(
        loan_type=terms.product.code,
        amount=terms.amount,
        term_months=terms.term_months,
        annual_rate=terms.product.annual_rate_bp,
        schedule_type=terms.product.schedule_type,
        monthly_payment=schedule.monthly_payment,
        total_interest=schedule.total_interest,
        total_payable=schedule.total_payable,
        installments=_installments(schedule),
    )


def payoff_view(loan_id: uuid.UUID, quote: Payoff) -> PayoffRead:
    return PayoffRead(
        loan_id=loan_id,
        on=quote.on,
        amount=quote.amount,
        principal=quote.principal,
        interest=quote.interest,
        overdue=quote.overdue,
        accrued_interest=quote.accrued_interest,
        day_count=f"actual/period: {quote.accrued_days} of {quote.period_days} days",
    )


def _new_schedule(done: Prepaid, today: date) -> ScheduleRead:
    outcome = done.repayment
    rows = [
        (i, paid, installment_status(i, paid, today, closed=outcome.closes).value)
        for i, paid in zip(outcome.installments, outcome.paid_after, strict=True)
    ]
    return stored_schedule_view(done.loan.id, rows)


def prepayment_view(done: Prepaid, today: date) -> PrepaymentRead:
    assert done.result is not None  # booked, not a preview
    paid = done.result
    read = PaymentRead.of(paid.payment, paid.loan_status, paid.outstanding)
    return PrepaymentRead(**dict(read), schedule=_new_schedule(done, today))


def prepayment_preview_view(done: Prepaid, amount: int, today: date) -> PrepaymentPreviewRead:
    outcome = done.repayment
    return PrepaymentPreviewRead(
        loan_id=done.loan.id,
        amount=amount,
        principal=outcome.principal,
        interest=outcome.interest,
        applied=[
            AppliedRead(number=a.number, principal=a.principal, interest=a.interest)
            for a in outcome.applied
        ],
        loan_status="closed" if outcome.closes else "active",
        outstanding=done.loan.outstanding_principal - outcome.principal,
        schedule=_new_schedule(done, today),
    )
