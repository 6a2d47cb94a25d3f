"""The operators' reads over the whole book (pool figures, revenue, the risk report) and the
business date's row."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select

from bank_api.common.repository import Repository
from bank_api.loans.overdue import npl_cutoff, overdue_and_npl_sums
from bank_api.models import (
    AccountKind,
    Allocation,
    BusinessDate,
    Installment,
    InvestorAccount,
    JournalLine,
    Loan,
    LoanStatus,
)

_ACTIVE = Loan.status == LoanStatus.active
_UNPAID_PRINCIPAL = Installment.principal - Installment.paid_principal


def _of_active_loans(*columns: Any) -> Select[Any]:
    """`columns` of the installments of active loans."""
    return select(*columns).join(Loan, Loan.id == Installment.loan_id).where(_ACTIVE)


class ReportRepository(Repository[Loan]):
    model = Loan

    async def investor_totals(self) -> tuple[int, int]:
        """Every investor's available and invested money, summed."""
        stmt = select(
            func.coalesce(func.sum(InvestorAccount.available), 0),
            func.coalesce(func.sum(InvestorAccount.invested), 0),
        )
        available, invested = (await self.session.execute(stmt)).one()
        return int(available), int(invested)

    async def active_totals(self, today: date) -> tuple[int, int, int, int]:
        """The active loans on `today`: how many, their outstanding principal, and of it the
        principal of those with anything overdue and of the non-performing ones."""
        stmt = select(
            func.count(),
            func.coalesce(func.sum(Loan.outstanding_principal), 0),
            *overdue_and_npl_sums(Loan.outstanding_principal, today, npl_cutoff(today)),
        ).where(_ACTIVE)
        count, outstanding, overdue, npl = (await self.session.execute(stmt)).one()
        return int(count), int(outstanding), int(overdue), int(npl)

    async def active_loans(self) -> list[tuple[uuid.UUID, str, int, date | None]]:
        """`(id, product, outstanding principal, oldest unpaid due date)` of every active loan."""
        stmt = select(
            Loan.id, Loan.loan_type, Loan.outstanding_principal, Loan.oldest_unpaid_due
        ).where(_ACTIVE)
        rows = await self.session.execute(stmt)
        return [(loan_id, product, outstanding, due) for loan_id, product, outstanding, due in rows]

    async def principal_past_due(self, today: date) -> int:
        """The active loans' unpaid principal of installments due before `today`."""
        stmt = _of_active_loans(func.coalesce(func.sum(_UNPAID_PRINCIPAL), 0)).where(
            Installment.due_date < today
        )
        return int(await self.session.scalar(stmt) or 0)

    async def past_due_by_loan(self, today: date) -> dict[uuid.UUID, int]:
        """`principal_past_due`, per active loan that has any."""
        stmt = (
            _of_active_loans(Installment.loan_id, func.sum(_UNPAID_PRINCIPAL))
            .where(Installment.due_date < today)
            .group_by(Installment.loan_id)
        )
        return {loan_id: int(amount) for loan_id, amount in await self.session.execute(stmt)}

    async def scheduled_by_day(self, since: date, before: date) -> list[tuple[date, int, int]]:
        """The active loans' unpaid principal and interest of installments due from `since`
        to the day before `before`, by due date."""
        unpaid_interest = Installment.interest - Installment.paid_interest
        stmt = (
            _of_active_loans(
                Installment.due_date, func.sum(_UNPAID_PRINCIPAL), func.sum(unpaid_interest)
            )
            .where(Installment.due_date >= since, Installment.due_date < before)
            .group_by(Installment.due_date)
        )
        rows = await self.session.execute(stmt)
        return [(due, int(principal), int(interest)) for due, principal, interest in rows]

    async def written_off(self) -> int:
        """Every principal lost to write-offs so far."""
        stmt = select(func.coalesce(func.sum(Allocation.loss), 0))
        return int(await self.session.scalar(stmt) or 0)

    async def fees_by_product(
        self, since: date | None, until: date | None
    ) -> list[tuple[str, int]]:
        """The fees booked into `platform_revenue` on value dates in [since, until] (either
        open), by loan product."""
        stmt = (
            select(Loan.loan_type, func.sum(JournalLine.amount))
            .join(Loan, Loan.id == JournalLine.loan_id)
            .where(JournalLine.account_kind == AccountKind.PLATFORM_REVENUE)
            .group_by(Loan.loan_type)
            .order_by(Loan.loan_type)
        )
        if since is not None:
            stmt = stmt.where(JournalLine.value_date >= since)
        if until is not None:
            stmt = stmt.where(JournalLine.value_date <= until)
        return [(loan_type, int(fee)) for loan_type, fee in await self.session.execute(stmt)]

    async def replace_business_date(self, value: date) -> date | None:
        """Set the business date to `value` (its row locked until commit); the date it
        replaces, if one was set."""
        row = await self.session.get(BusinessDate, 1, with_for_update=True)
        if row is None:
            self.session.add(BusinessDate(id=1, value=value))
            return None
        before, row.value = row.value, value
        return before
