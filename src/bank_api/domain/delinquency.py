"""Overdue installments, days past due and non-performing loans (docs/CONTRACT.md §3).

An installment is overdue when its due date is before the business date and it is not fully
paid. ``days_past_due`` counts the days since the oldest overdue installment's due date (0 when
none is overdue); a loan with ``days_past_due >= 90`` is non-performing.

Payments settle installments oldest first, so the unpaid installments are always the end of the
schedule: the oldest unpaid installment's due date (``oldest_unpaid_due``) is all a loan needs
to store for every one of these figures on any later day (it changes only with a payment).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from bank_api.domain.payments import Paid, check_paid, is_settled
from bank_api.domain.schedule import Installment

NPL_DAYS_PAST_DUE: Final = 90


class InstallmentStatus(StrEnum):
    PENDING = "pending"
    PARTIAL = "partial"
    PAID = "paid"
    OVERDUE = "overdue"
    WRITTEN_OFF = "written_off"
    SETTLED = "settled"


@dataclass(frozen=True, slots=True)
class Delinquency:
    overdue_numbers: tuple[int, ...]
    days_past_due: int
    is_npl: bool
    overdue_principal: int
    """Unpaid principal of the overdue installments."""
    overdue_interest: int
    """Unpaid interest of the overdue installments."""


def oldest_unpaid_due(installments: Sequence[Installment], paid: Sequence[Paid]) -> dt.date | None:
    """The due date of the oldest installment not fully paid; None once all are."""
    check_paid(installments, paid)
    return next(
        (i.due_date for i, p in zip(installments, paid, strict=True) if not is_settled(i, p)),
        None,
    )


def days_past_due(oldest_unpaid: dt.date | None, business_date: dt.date) -> int:
    """Days since the oldest unpaid installment fell due; 0 while it is not yet overdue."""
    if oldest_unpaid is None or oldest_unpaid >= business_date:
        return 0
    return (business_date - oldest_unpaid).days


def is_npl(days: int) -> bool:
    return days >= NPL_DAYS_PAST_DUE


def installment_status(
    installment: Installment,
    paid: Paid,
    business_date: dt.date,
    *,
    written_off: bool = False,
    closed: bool = False,
) -> InstallmentStatus:
    """``paid`` if fully paid; else ``written_off`` if the loan was written off (what was not
    paid never falls due again); else ``settled`` if the loan is closed (paid off early: the
    rest of its interest is never owed); else ``overdue`` if due before ``business_date``; else
    ``partial`` if anything is paid; else ``pending``."""
    if is_settled(installment, paid):
        return InstallmentStatus.PAID
    if written_off:
        return InstallmentStatus.WRITTEN_OFF
    if closed:
        return InstallmentStatus.SETTLED
    if installment.due_date < business_date:
        return InstallmentStatus.OVERDUE
    if paid.principal or paid.interest:
        return InstallmentStatus.PARTIAL
    return InstallmentStatus.PENDING


def delinquency(
    installments: Sequence[Installment], paid: Sequence[Paid], business_date: dt.date
) -> Delinquency:
    """The loan's overdue installments, days past due and NPL flag on ``business_date``."""
    check_paid(installments, paid)
    overdue = [
        (i, p)
        for i, p in zip(installments, paid, strict=True)
        if installment_status(i, p, business_date) is InstallmentStatus.OVERDUE
    ]
    days = days_past_due(overdue[0][0].due_date if overdue else None, business_date)
    return Delinquency(
        overdue_numbers=tuple(i.number for i, _ in overdue),
        days_past_due=days,
        is_npl=is_npl(days),
        overdue_principal=sum(i.principal - p.principal for i, p in overdue),
        overdue_interest=sum(i.interest - p.interest for i, p in overdue),
    )


BUCKETS: Final = ("current", "1-30", "31-60", "61-90", "90+")
"""Delinquency buckets by days past due: 0; 1 to 30; 31 to 60; 61 to 89; 90 and more (the
non-performing loans, so 90 itself is in ``90+``)."""


def bucket(days: int) -> str:
    if days <= 0:
        return BUCKETS[0]
    if days >= NPL_DAYS_PAST_DUE:
        return BUCKETS[4]
    return BUCKETS[min(3, 1 + (days - 1) // 30)]
