"""Operators' reports: the platform's revenue from the servicing fee, and the portfolio's risk
(docs/DECISIONS.md "Risk report")."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

from sqlalchemy import func, select

from bank_api.domain.delinquency import BUCKETS, bucket
from bank_api.domain.schedule import add_months
from bank_api.errors import InvalidDateRange
from bank_api.loans.overdue import loan_days_past_due
from bank_api.models import AccountKind, Allocation, Installment, JournalLine, Loan, LoanStatus
from bank_api.uow import UnitOfWork

CASH_FLOW_MONTHS = 12


@dataclass(frozen=True)
class Revenue:
    from_: date | None
    to: date | None
    total: int
    by_product: list[tuple[str, int]]


async def revenue(uow: UnitOfWork, *, since: date | None, until: date | None) -> Revenue:
    """Fees booked into `platform_revenue` on value dates in [since, until], by loan product."""
    if since is not None and until is not None and since > until:
        raise InvalidDateRange
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
    rows = [(loan_type, int(fee)) for loan_type, fee in await uow.session.execute(stmt)]
    return Revenue(since, until, sum(fee for _, fee in rows), rows)


@dataclass
class Slice:
    """Loans counted, their outstanding principal, and of it what is actually past due."""

    loans: int = 0
    principal: int = 0
    past_due: int = 0


@dataclass
class RiskReport:
    as_of: date
    total: Slice
    buckets: dict[str, Slice]
    by_product: dict[str, Slice]
    par30: Fraction
    par90: Fraction
    written_off: int
    cash_flows: list[tuple[str, int, int]] = field(default_factory=list)
    """``(YYYY-MM, principal, interest)`` still scheduled in each of the next 12 months."""


async def risk_report(uow: UnitOfWork, *, today: date) -> RiskReport:
    """The active loans by delinquency bucket and product on the business date `today`, PAR30
    and PAR90, write-offs to date and the scheduled cash flows of the next 12 months."""
    past_due = await _past_due(uow, today)
    total, buckets = Slice(), {name: Slice() for name in BUCKETS}
    by_product: dict[str, Slice] = defaultdict(Slice)
    at_risk = {30: 0, 90: 0}
    loans = await uow.session.execute(
        select(Loan.id, Loan.loan_type, Loan.outstanding_principal, Loan.oldest_unpaid_due).where(
            Loan.status == LoanStatus.active
        )
    )
    for loan_id, loan_type, outstanding, unpaid in loans:
        days = loan_days_past_due(LoanStatus.active, unpaid, today)
        for part in (total, buckets[bucket(days)], by_product[loan_type]):
            part.loans += 1
            part.principal += outstanding
            part.past_due += past_due.get(loan_id, 0)
        for threshold in at_risk:
            at_risk[threshold] += outstanding if days >= threshold else 0
    written_off = await uow.session.scalar(select(func.coalesce(func.sum(Allocation.loss), 0)))
    return RiskReport(
        as_of=today,
        total=total,
        buckets=buckets,
        by_product=dict(sorted(by_product.items())),
        par30=_ratio(at_risk[30], total.principal),
        par90=_ratio(at_risk[90], total.principal),
        written_off=int(written_off or 0),
        cash_flows=await _cash_flows(uow, today),
    )


def _ratio(part: int, whole: int) -> Fraction:
    return Fraction(part, whole) if whole else Fraction(0)


async def _past_due(uow: UnitOfWork, today: date) -> dict[object, int]:
    """Per active loan: the principal of its installments due before `today` not yet paid."""
    rows = await uow.session.execute(
        select(Installment.loan_id, func.sum(Installment.principal - Installment.paid_principal))
        .join(Loan, Loan.id == Installment.loan_id)
        .where(Loan.status == LoanStatus.active, Installment.due_date < today)
        .group_by(Installment.loan_id)
    )
    return {loan_id: int(amount) for loan_id, amount in rows}


async def _cash_flows(uow: UnitOfWork, today: date) -> list[tuple[str, int, int]]:
    """Unpaid principal and interest of the active loans' installments due from `today` to
    the end of the 12th month, by month (grouped by day in SQL, by month here)."""
    end = add_months(today.replace(day=1), CASH_FLOW_MONTHS)
    rows = await uow.session.execute(
        select(
            Installment.due_date,
            func.sum(Installment.principal - Installment.paid_principal),
            func.sum(Installment.interest - Installment.paid_interest),
        )
        .join(Loan, Loan.id == Installment.loan_id)
        .where(
            Loan.status == LoanStatus.active,
            Installment.due_date >= today,
            Installment.due_date < end,
        )
        .group_by(Installment.due_date)
    )
    months = {add_months(today.replace(day=1), k).strftime("%Y-%m"): [0, 0] for k in range(12)}
    for due, principal, interest in rows:
        month = months[due.strftime("%Y-%m")]
        month[0] += int(principal)
        month[1] += int(interest)
    return [(month, principal, interest) for month, (principal, interest) in months.items()]
