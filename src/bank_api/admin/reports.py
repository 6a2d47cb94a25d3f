"""Operators' reports: the platform's revenue from the servicing fee, and the portfolio's risk
(docs/DECISIONS.md "Risk report")."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

from bank_api.domain.delinquency import BUCKETS, bucket
from bank_api.domain.schedule import add_months
from bank_api.errors import InvalidDateRange
from bank_api.loans.overdue import loan_days_past_due
from bank_api.models import LoanStatus
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
    rows = await uow.reports.fees_by_product(since, until)
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
    past_due = await uow.reports.past_due_by_loan(today)
    total, buckets = Slice(), {name: Slice() for name in BUCKETS}
    by_product: dict[str, Slice] = defaultdict(Slice)
    at_risk = {30: 0, 90: 0}
    for loan_id, loan_type, outstanding, unpaid in await uow.reports.active_loans():
        days = loan_days_past_due(LoanStatus.active, unpaid, today)
        for part in (total, buckets[bucket(days)], by_product[loan_type]):
            part.loans += 1
            part.principal += outstanding
            part.past_due += past_due.get(loan_id, 0)
        for threshold in at_risk:
            at_risk[threshold] += outstanding if days >= threshold else 0
    return RiskReport(
        as_of=today,
        total=total,
        buckets=buckets,
        by_product=dict(sorted(by_product.items())),
        par30=_ratio(at_risk[30], total.principal),
        par90=_ratio(at_risk[90], total.principal),
        written_off=await uow.reports.written_off(),
        cash_flows=await _cash_flows(uow, today),
    )


def _ratio(part: int, whole: int) -> Fraction:
    return Fraction(part, whole) if whole else Fraction(0)


async def _cash_flows(uow: UnitOfWork, today: date) -> list[tuple[str, int, int]]:
    """Unpaid principal and interest of the active loans' installments due from `today` to
    the end of the 12th month, by month (grouped by day in SQL, by month here)."""
    end = add_months(today.replace(day=1), CASH_FLOW_MONTHS)
    rows = await uow.reports.scheduled_by_day(today, end)
    months = {add_months(today.replace(day=1), k).strftime("%Y-%m"): [0, 0] for k in range(12)}
    for due, principal, interest in rows:
        month = months[due.strftime("%Y-%m")]
        month[0] += principal
        month[1] += interest
    return [(month, principal, interest) for month, (principal, interest) in months.items()]
