"""Operators' reports: the platform's revenue from the servicing fee."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from bank_api.errors import InvalidDateRange
from bank_api.models import AccountKind, JournalLine, Loan
from bank_api.uow import UnitOfWork


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
