"""Pool figures and the business date (admin)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from sqlalchemy import func, select

from bank_api import audit
from bank_api.common.principal import Principal
from bank_api.domain.schedule import MAX_TERM_MONTHS, check_calendar
from bank_api.loans.overdue import npl_cutoff, overdue_and_npl_sums
from bank_api.models import BusinessDate, Installment, InvestorAccount, Loan, LoanStatus
from bank_api.uow import UnitOfWork


@dataclass(frozen=True)
class PoolFigures:
    investors_available: int
    investors_invested: int
    active_loans: int
    outstanding_principal: int
    overdue_loans_principal: int
    """Outstanding principal of the loans with anything overdue."""
    npl_principal: int
    principal_past_due: int
    """Principal actually past due (unpaid principal of installments due before today)."""

    @property
    def npl_ratio(self) -> Fraction:
        if not self.outstanding_principal:
            return Fraction(0)
        return Fraction(self.npl_principal, self.outstanding_principal)


async def pool_figures(uow: UnitOfWork, today: date) -> PoolFigures:
    available, invested = (
        await uow.session.execute(
            select(
                func.coalesce(func.sum(InvestorAccount.available), 0),
                func.coalesce(func.sum(InvestorAccount.invested), 0),
            )
        )
    ).one()
    count, outstanding, overdue, npl = (
        await uow.session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(Loan.outstanding_principal), 0),
                *overdue_and_npl_sums(Loan.outstanding_principal, today, npl_cutoff(today)),
            ).where(Loan.status == LoanStatus.active)
        )
    ).one()
    past_due = await uow.session.scalar(
        select(func.coalesce(func.sum(Installment.principal - Installment.paid_principal), 0))
        .join(Loan, Loan.id == Installment.loan_id)
        .where(Loan.status == LoanStatus.active, Installment.due_date < today)
    )
    return PoolFigures(
        int(available),
        int(invested),
        int(count),
        int(outstanding),
        int(overdue),
        int(npl),
        int(past_due or 0),
    )


async def set_business_date(uow: UnitOfWork, value: date, *, actor: Principal) -> date:
    """Set "today"; refused (ScheduleBeyondCalendar) past the last day from which the longest
    term any product may have could still be scheduled."""
    check_calendar(value, MAX_TERM_MONTHS)
    row = await uow.session.get(BusinessDate, 1, with_for_update=True)
    before = None if row is None else row.value
    if row is None:
        uow.session.add(BusinessDate(id=1, value=value))
    else:
        row.value = value
    change = {
        "date": {"from": None if before is None else before.isoformat(), "to": value.isoformat()}
    }
    audit.record(uow, actor, "business_date.set", "business_date", "1", change)
    return value
