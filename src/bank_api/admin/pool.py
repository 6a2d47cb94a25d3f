"""Pool figures and the business date (admin)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from bank_api import audit
from bank_api.common.principal import Principal
from bank_api.domain.schedule import MAX_TERM_MONTHS, check_calendar
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
    available, invested = await uow.reports.investor_totals()
    count, outstanding, overdue, npl = await uow.reports.active_totals(today)
    past_due = await uow.reports.principal_past_due(today)
    return PoolFigures(available, invested, count, outstanding, overdue, npl, past_due)


async def set_business_date(uow: UnitOfWork, value: date, *, actor: Principal) -> date:
    """Set "today"; refused (ScheduleBeyondCalendar) past the last day from which the longest
    term any product may have could still be scheduled."""
    check_calendar(value, MAX_TERM_MONTHS)
    before = await uow.reports.replace_business_date(value)
    change = {
        "date": {"from": None if before is None else before.isoformat(), "to": value.isoformat()}
    }
    audit.record(uow, actor, "business_date.set", "business_date", "1", change)
    return value
