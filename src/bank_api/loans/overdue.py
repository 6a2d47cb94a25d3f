"""Overdue and NPL figures in SQL, for lists and totals (the domain's rules, set-wise).

An installment is overdue when its due date is before the business date and it is not fully
paid; a loan's days past due count from its oldest overdue installment; NPL from 90 days.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, select

from bank_api.domain.delinquency import NPL_DAYS_PAST_DUE
from bank_api.models import Installment, Loan, LoanStatus


def unpaid_before(today: date) -> Any:
    return and_(
        Installment.due_date < today,
        or_(
            Installment.paid_principal < Installment.principal,
            Installment.paid_interest < Installment.interest,
        ),
    )


def is_overdue(today: date) -> Any:
    """SQL condition on `Loan`: active with at least one overdue installment."""
    return and_(
        Loan.status == LoanStatus.active,
        exists().where(Installment.loan_id == Loan.id, unpaid_before(today)),
    )


def oldest_overdue(today: date) -> Any:
    """(loan_id, oldest overdue due date) for every active loan that is overdue."""
    return (
        select(Installment.loan_id, func.min(Installment.due_date).label("since"))
        .join(Loan, Loan.id == Installment.loan_id)
        .where(Loan.status == LoanStatus.active, unpaid_before(today))
        .group_by(Installment.loan_id)
    )


def npl_cutoff(today: date) -> date:
    """Loans overdue since this date or earlier are non-performing."""
    return today - timedelta(days=NPL_DAYS_PAST_DUE)


def overdue_and_npl(rows: Iterable[Any], today: date) -> tuple[int, int]:
    """Sum principal over (oldest overdue due date, principal) rows: (overdue, of it NPL)."""
    overdue = npl = 0
    for since, principal in rows:
        overdue += principal
        npl += principal if since <= npl_cutoff(today) else 0
    return overdue, npl


async def days_past_due(
    session: Any, loan_ids: Iterable[uuid.UUID], today: date
) -> dict[uuid.UUID, int]:
    ids = list(loan_ids)
    if not ids:
        return {}
    stmt = oldest_overdue(today).where(Installment.loan_id.in_(ids))
    return {row[0]: (today - row[1]).days for row in await session.execute(stmt)}
