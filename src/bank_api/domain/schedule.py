"""Repayment schedules: annuity (equal payments) and equal principal.

Rates are integers in basis points of a percent: 6.90 % a year is ``annual_rate_bp=690``.
The monthly rate is exact: ``r = annual_rate_bp / 10_000 / 12 = annual_rate_bp / 120_000``.

Invariants of every :class:`Schedule` (tested by property):

* ``sum(principal) == amount``; the last installment takes whatever principal remains;
* ``payment == principal + interest`` in every installment, and no amount is negative;
* ``total_interest`` and ``total_payable`` are the sums of the installments themselves.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from typing import Final

from bank_api.domain.errors import InvalidTerms, ScheduleBeyondCalendar
from bank_api.domain.money import MAX_AMOUNT_CENTS, round_cents

MIN_TERM_MONTHS: Final = 1
MAX_TERM_MONTHS: Final = 360
MAX_ANNUAL_RATE_BP: Final = 100_000
"""1000.00 % a year: a sanity bound, far above any product."""


class ScheduleKind(StrEnum):
    ANNUITY = "annuity"
    EQUAL_PRINCIPAL = "equal_principal"


@dataclass(frozen=True, slots=True)
class Installment:
    number: int
    due_date: dt.date
    payment: int
    principal: int
    interest: int


@dataclass(frozen=True, slots=True)
class Schedule:
    installments: tuple[Installment, ...]
    total_principal: int
    total_interest: int
    total_payable: int
    monthly_payment: int
    """The first installment's payment (what a borrower is quoted)."""


def monthly_rate(annual_rate_bp: int) -> Fraction:
    """``r = annual_rate_bp / 10_000 / 12``, exact."""
    return Fraction(annual_rate_bp, 120_000)


def add_months(start: dt.date, months: int) -> dt.date:
    """``start`` moved ``months`` calendar months ahead, keeping its day of month.

    The day is clamped to the target month's end, and always computed from ``start``'s own
    day, not chained: Jan 31 -> Feb 28 (29 in a leap year) -> Mar 31 -> Apr 30.
    """
    month_index = start.year * 12 + start.month - 1 + months
    year, month = divmod(month_index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(start.day, last_day))


def latest_start(term_months: int) -> dt.date:
    """The last disbursement date from which a ``term_months`` schedule stays in the calendar:
    its last installment, ``add_months(start, term_months)``, is due by 9999-12-31."""
    month_index = dt.date.max.year * 12 + dt.date.max.month - 1 - term_months
    year, month = divmod(month_index, 12)
    return dt.date(year, month + 1, calendar.monthrange(year, month + 1)[1])


def check_calendar(start_date: dt.date, term_months: int) -> None:
    """Raises ScheduleBeyondCalendar when a schedule from ``start_date`` would leave it."""
    last = latest_start(term_months)
    if start_date > last:
        raise ScheduleBeyondCalendar(start_date, term_months, last)


def annuity_payment(amount: int, annual_rate_bp: int, term_months: int) -> int:
    """The level payment ``P * r / (1 - (1 + r) ** -n)``, or ``P / n`` when ``r == 0``.

    Computed exactly, then rounded half-even to the cent. With ``r = bp / 120_000``,
    ``g = (120_000 + bp) ** n`` and ``h = 120_000 ** n`` it is ``P bp g / (120_000 (g - h))``.
    """
    _check_terms(amount, annual_rate_bp, term_months)
    if annual_rate_bp == 0:
        return round_cents(Fraction(amount, term_months))
    growth = (120_000 + annual_rate_bp) ** term_months
    base = 120_000**term_months
    return round_cents(Fraction(amount * annual_rate_bp * growth, 120_000 * (growth - base)))


def build_schedule(
    amount: int,
    annual_rate_bp: int,
    term_months: int,
    start_date: dt.date,
    schedule_type: ScheduleKind = ScheduleKind.ANNUITY,
) -> Schedule:
    """The schedule for ``amount`` cents over ``term_months`` months from ``start_date``.

    Installment ``k`` (1-based) is due ``add_months(start_date, k)``. Each month
    ``interest = round_half_even(remaining * r)``. Annuity: ``principal = payment - interest``,
    clamped to ``[0, remaining]``: the payment's rounding (under half a cent) compounds like
    ``(1 + r) ** n``, so for amounts of a few cents, or at extreme rates over long terms, the
    principal can run out before the last month, and the later installments shrink to what
    remains (possibly zero); the seeded products stay clear of it. Equal principal:
    ``principal = amount // n`` each month, the remainder ``amount % n`` going to the last.
    In both, the last installment takes all principal still remaining.

    Raises InvalidTerms for ``amount`` outside ``1..MAX_AMOUNT_CENTS``, ``term_months``
    outside ``1..360``, or a rate outside ``0..MAX_ANNUAL_RATE_BP``; ScheduleBeyondCalendar
    when the last installment would be due after 9999-12-31.
    """
    _check_terms(amount, annual_rate_bp, term_months)
    check_calendar(start_date, term_months)
    annuity = schedule_type is ScheduleKind.ANNUITY
    if annuity:
        level = annuity_payment(amount, annual_rate_bp, term_months)
    else:
        level = amount // term_months
    rate = monthly_rate(annual_rate_bp)
    remaining = amount
    installments: list[Installment] = []
    for number in range(1, term_months + 1):
        interest = round_cents(remaining * rate)
        planned = level - interest if annuity else level
        principal = remaining if number == term_months else max(0, min(planned, remaining))
        remaining -= principal
        due = add_months(start_date, number)
        installments.append(Installment(number, due, principal + interest, principal, interest))
    return _summarise(tuple(installments))


def _summarise(installments: tuple[Installment, ...]) -> Schedule:
    total_principal = sum(i.principal for i in installments)
    total_interest = sum(i.interest for i in installments)
    return Schedule(
        installments=installments,
        total_principal=total_principal,
        total_interest=total_interest,
        total_payable=total_principal + total_interest,
        monthly_payment=installments[0].payment,
    )


def _check_terms(amount: int, annual_rate_bp: int, term_months: int) -> None:
    if not 0 < amount <= MAX_AMOUNT_CENTS:
        raise InvalidTerms("amount", amount, f"must be in 1..{MAX_AMOUNT_CENTS} cents")
    if not MIN_TERM_MONTHS <= term_months <= MAX_TERM_MONTHS:
        raise InvalidTerms(
            "term_months", term_months, f"must be in {MIN_TERM_MONTHS}..{MAX_TERM_MONTHS}"
        )
    if not 0 <= annual_rate_bp <= MAX_ANNUAL_RATE_BP:
        raise InvalidTerms("annual_rate_bp", annual_rate_bp, f"must be in 0..{MAX_ANNUAL_RATE_BP}")
