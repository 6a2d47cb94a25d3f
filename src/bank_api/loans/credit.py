"""Reads of an approved loan: its stored schedule with what is paid, and who funded it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import select

from bank_api.common.principal import Principal
from bank_api.domain.delinquency import installment_status
from bank_api.domain.payments import Paid
from bank_api.domain.schedule import Installment as Planned
from bank_api.loans.service import get_loan
from bank_api.models import Allocation, Installment, Loan, LoanStatus
from bank_api.uow import UnitOfWork


async def stored_schedule(uow: UnitOfWork, loan_id: uuid.UUID) -> list[tuple[Planned, Paid]]:
    rows = (
        (
            await uow.session.execute(
                select(Installment)
                .where(Installment.loan_id == loan_id)
                .order_by(Installment.number)
            )
        )
        .scalars()
        .all()
    )
    return [
        (
            Planned(r.number, r.due_date, r.principal + r.interest, r.principal, r.interest),
            Paid(r.paid_principal, r.paid_interest),
        )
        for r in rows
    ]


async def schedule_with_status(
    uow: UnitOfWork, *, actor: Principal, loan_id: uuid.UUID, today: date
) -> tuple[Loan, list[tuple[Planned, Paid, str]]]:
    loan = await get_loan(uow, actor=actor, loan_id=loan_id)
    rows = await stored_schedule(uow, loan.id)
    written_off = loan.status == LoanStatus.written_off
    return loan, [
        (p, paid, installment_status(p, paid, today, written_off=written_off).value)
        for p, paid in rows
    ]


async def allocations(
    uow: UnitOfWork, *, actor: Principal, loan_id: uuid.UUID
) -> tuple[Loan, Sequence[Allocation]]:
    loan = await get_loan(uow, actor=actor, loan_id=loan_id)
    rows = await uow.session.execute(
        select(Allocation)
        .where(Allocation.loan_id == loan.id)
        .order_by(Allocation.created_at, Allocation.investor_id)
    )
    return loan, rows.scalars().all()
