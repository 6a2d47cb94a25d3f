"""Domain schedules rendered as response schemas."""

from __future__ import annotations

import uuid

from bank_api.domain.schedule import Schedule
from bank_api.loans.schemas import InstallmentRead, QuoteRead, ScheduleRead, ScheduleTotals
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
