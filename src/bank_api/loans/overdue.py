"""Overdue and NPL figures from each loan's stored `oldest_unpaid_due` (the domain's rules,
`bank_api.domain.delinquency`, applied to one column: no installment is read).

Only an active loan can be overdue: a written-off loan's unpaid installments never fall due
again, and a closed loan has none.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, case, func

from bank_api.domain.delinquency import NPL_DAYS_PAST_DUE, days_past_due
from bank_api.models import Allocation, Loan, LoanStatus
from bank_api.models.base import table_of


def loan_days_past_due(status: LoanStatus, oldest_unpaid_due: date | None, today: date) -> int:
    return days_past_due(oldest_unpaid_due, today) if status == LoanStatus.active else 0


def npl_cutoff(today: date) -> date:
    """A loan whose oldest unpaid installment fell due on this day or before is non-performing."""
    return today - timedelta(days=NPL_DAYS_PAST_DUE)


def overdue_loan(today: Any) -> Any:
    """SQL condition on `Loan`: active, with an installment due before `today` (a date or a
    bound parameter) not fully paid."""
    return and_(Loan.status == LoanStatus.active, Loan.oldest_unpaid_due < today)


def npl_loan(cutoff: Any) -> Any:
    """SQL condition on `Loan`: active and non-performing (`cutoff`: see `npl_cutoff`)."""
    return and_(Loan.status == LoanStatus.active, Loan.oldest_unpaid_due <= cutoff)


def overdue_and_npl_sums(principal: Any, today: Any, cutoff: Any) -> tuple[Any, Any]:
    """SQL totals of `principal` over the overdue loans and, of them, the non-performing ones."""
    return (
        func.coalesce(func.sum(case((overdue_loan(today), principal), else_=0)), 0),
        func.coalesce(func.sum(case((npl_loan(cutoff), principal), else_=0)), 0),
    )


# Holdings keep their loan's oldest unpaid due date while the loan is active (None otherwise),
# so the same conditions need no loan row. On the Core table: these go into Core statements
# (an ORM attribute would route them through the ORM's bulk machinery).
HOLDINGS = table_of(Allocation)
HOLDING_OUTSTANDING = HOLDINGS.c.amount - HOLDINGS.c.principal_received - HOLDINGS.c.loss


def overdue_holding(today: Any) -> Any:
    """SQL condition on a holding: its loan is overdue (see `overdue_loan`)."""
    return HOLDINGS.c.oldest_unpaid_due < today


def npl_holding(cutoff: Any) -> Any:
    """SQL condition on a holding: its loan is non-performing (see `npl_loan`)."""
    return HOLDINGS.c.oldest_unpaid_due <= cutoff
