"""Early repayment: the payoff of a loan on a day, settling it, and prepaying part of it
(SPEC §11.4, docs/DECISIONS.md "Early repayment").

**Periods.** Installment ``k`` covers the days ``(D_{k-1}, D_k]``: from the previous due date
(the disbursement date for the first) to its own. On a day ``on``, the installments *due* are
those with ``D_k <= on``; the *current* one is the first with ``D_k > on`` (none once every
installment has fallen due).

**Payoff on ``on``** = everything due and unpaid + the principal not yet due + the interest
accrued in the current period: actual days over the days of the period, applied to the
period's scheduled interest, rounded half to even, less what of that interest is already paid
(never below zero)::

    accrued = max(0, round(I_k * (on - D_{k-1}) / (D_k - D_{k-1})) - paid_interest_k)

Interest the schedule puts in later periods is never charged: paying off the day after a due
date costs the principal plus at most one day's interest.

**Settling** pays exactly the payoff: the due installments in full, the accrued interest and
all principal; the loan closes and what the schedule still held of interest is never owed
(those installments are ``settled``).

**Prepaying** ``amount`` (less than the payoff) pays what is due (oldest first, interest before
principal), then the accrued interest, then reduces the principal not yet due by the rest ``R``
and re-amortises what remains, ``P'``, over the installments not yet due, keeping their due
dates: ``keep="term"`` keeps their number and lowers the payment; ``keep="payment"`` keeps the
payment (equal principal: the principal part) and needs fewer installments. The current
installment's remaining interest accrues on ``P'`` for the rest of its period; later ones carry
the monthly rate on the remaining balance, as at approval. The current installment's row keeps
everything paid against the installments not yet due (earlier paying ahead, ``R`` and the
accrued interest) as paid amounts, so every paid cent stays on the schedule and the principals
still add up to the loan amount. A prepayment never raises the interest still to pay: if the
rounding of the new schedule would, its last installment gives the difference back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from bank_api.domain.errors import InvalidInput, Overpayment
from bank_api.domain.money import check_amount, round_cents
from bank_api.domain.payments import AppliedPart, Paid, check_paid
from bank_api.domain.schedule import Installment, ScheduleKind, annuity_payment, monthly_rate


class Keep(StrEnum):
    TERM = "term"
    PAYMENT = "payment"


@dataclass(frozen=True, slots=True)
class Payoff:
    on: dt.date
    principal: int
    """All principal still owed."""
    interest: int
    """The due installments' unpaid interest plus the accrued interest."""
    overdue: int
    """Principal and interest of the installments due by ``on`` not yet paid."""
    accrued_interest: int
    accrued_days: int
    period_days: int
    """The current period's days (0 when every installment has fallen due)."""

    @property
    def amount(self) -> int:
        return self.principal + self.interest


@dataclass(frozen=True, slots=True)
class EarlyRepayment:
    applied: tuple[AppliedPart, ...]
    principal: int
    interest: int
    installments: tuple[Installment, ...]
    """The whole schedule afterwards (unchanged by a settlement)."""
    paid_after: tuple[Paid, ...]
    closes: bool
    rescheduled_from: int | None = None
    """The first installment a prepayment re-amortised (its number), or None."""


@dataclass(frozen=True, slots=True)
class _Position:
    """Where ``on`` falls in the schedule."""

    current: int | None
    """Index of the current installment (the first due after ``on``), or None."""
    accrued: int
    accrued_days: int
    period_days: int


def _position(
    installments: Sequence[Installment], paid: Sequence[Paid], start: dt.date, on: dt.date
) -> _Position:
    check_paid(installments, paid)
    if not installments or start >= installments[0].due_date:
        raise InvalidInput("start", start, "must be before the first due date")
    if on < start:
        raise InvalidInput("on", on, "must not be before the disbursement")
    current = next((i for i, inst in enumerate(installments) if inst.due_date > on), None)
    if current is None:
        return _Position(None, 0, 0, 0)
    begins = start if current == 0 else installments[current - 1].due_date
    days, length = (on - begins).days, (installments[current].due_date - begins).days
    earned = round_cents(Fraction(installments[current].interest * days, length))
    return _Position(current, max(0, earned - paid[current].interest), days, length)


def payoff(
    installments: Sequence[Installment], paid: Sequence[Paid], start: dt.date, on: dt.date
) -> Payoff:
    """What closes the loan on ``on`` (see the module doc); ``start`` is the disbursement."""
    where = _position(installments, paid, start, on)
    due = len(installments) if where.current is None else where.current
    past = list(zip(installments[:due], paid[:due], strict=True))
    overdue_principal = sum(i.principal - p.principal for i, p in past)
    overdue_interest = sum(i.interest - p.interest for i, p in past)
    principal = sum(i.principal - p.principal for i, p in zip(installments, paid, strict=True))
    return Payoff(
        on=on,
        principal=principal,
        interest=overdue_interest + where.accrued,
        overdue=overdue_principal + overdue_interest,
        accrued_interest=where.accrued,
        accrued_days=where.accrued_days,
        period_days=where.period_days,
    )


def settle(
    installments: Sequence[Installment], paid: Sequence[Paid], start: dt.date, on: dt.date
) -> EarlyRepayment:
    """Pay exactly the payoff of ``on``: the loan closes."""
    where = _position(installments, paid, start, on)
    due = len(installments) if where.current is None else where.current
    applied: list[AppliedPart] = []
    after: list[Paid] = []
    for index, (installment, done) in enumerate(zip(installments, paid, strict=True)):
        principal = installment.principal - done.principal
        if index < due:
            interest = installment.interest - done.interest
        else:
            interest = where.accrued if index == due else 0
        if principal or interest:
            applied.append(AppliedPart(installment.number, principal, interest))
        after.append(Paid(installment.principal, done.interest + interest))
    return EarlyRepayment(
        applied=tuple(applied),
        principal=sum(a.principal for a in applied),
        interest=sum(a.interest for a in applied),
        installments=tuple(installments),
        paid_after=tuple(after),
        closes=True,
    )


def prepay(
    installments: Sequence[Installment],
    paid: Sequence[Paid],
    start: dt.date,
    on: dt.date,
    amount: int,
    *,
    keep: Keep,
    annual_rate_bp: int,
    schedule_type: ScheduleKind,
) -> EarlyRepayment:
    """Pay ``amount`` on ``on``: what is due, the accrued interest, then principal, and
    re-amortise the rest (see the module doc). The payoff itself settles the loan; more is
    Overpayment."""
    check_amount(amount)
    quote = payoff(installments, paid, start, on)
    if amount > quote.amount:
        raise Overpayment(requested=amount, remaining=quote.amount)
    if amount == quote.amount:
        return settle(installments, paid, start, on)
    where = _position(installments, paid, start, on)
    k = len(installments) if where.current is None else where.current
    rest = amount
    applied: list[AppliedPart] = []
    after = list(paid)
    for index in range(k):
        installment, done = installments[index], paid[index]
        interest = min(rest, installment.interest - done.interest)
        principal = min(rest - interest, installment.principal - done.principal)
        rest -= interest + principal
        if interest or principal:
            applied.append(AppliedPart(installment.number, principal, interest))
            after[index] = Paid(done.principal + principal, done.interest + interest)
    rows: list[Installment] = list(installments)
    accrued = min(rest, where.accrued)
    reduction = rest - accrued  # 0 when everything has fallen due: then amount < what is due
    if accrued or reduction:
        applied.append(AppliedPart(installments[k].number, reduction, accrued))
        after[k] = Paid(after[k].principal, after[k].interest + accrued)
    rescheduled = None
    if reduction:
        rescheduled = installments[k].number
        rows[k:], after[k:] = _rebuilt(
            installments[k:],
            after[k:],
            reduction,
            Fraction(where.period_days - where.accrued_days, where.period_days),
            annual_rate_bp,
            schedule_type,
            keep,
        )
    return EarlyRepayment(
        applied=tuple(applied),
        principal=sum(a.principal for a in applied),
        interest=sum(a.interest for a in applied),
        installments=tuple(rows),
        paid_after=tuple(after),
        closes=False,
        rescheduled_from=rescheduled,
    )


def _rebuilt(
    future: Sequence[Installment],
    future_paid: Sequence[Paid],
    reduction: int,
    first_fraction: Fraction,
    annual_rate_bp: int,
    schedule_type: ScheduleKind,
    keep: Keep,
) -> tuple[list[Installment], list[Paid]]:
    """The installments not yet due, re-amortised after ``reduction`` more principal is paid:
    the first row keeps every amount paid against them (``reduction`` included) as paid."""
    ahead_principal = sum(p.principal for p in future_paid) + reduction
    ahead_interest = sum(p.interest for p in future_paid)
    plan = _reamortise(
        sum(i.principal for i in future) - ahead_principal,
        [i.due_date for i in future],
        first_fraction,
        annual_rate_bp,
        schedule_type,
        keep,
        _level(future, schedule_type),
        budget=sum(i.interest for i in future) - ahead_interest,
    )
    number = future[0].number
    (due, principal, interest), later = plan[0], plan[1:]
    principal, interest = ahead_principal + principal, ahead_interest + interest
    rows = [Installment(number, due, principal + interest, principal, interest)]
    rows += [Installment(number + j, d, p + i, p, i) for j, (d, p, i) in enumerate(later, 1)]
    return rows, [Paid(ahead_principal, ahead_interest)] + [Paid() for _ in later]


def _level(future: Sequence[Installment], schedule_type: ScheduleKind) -> int:
    """The level ``keep="payment"`` keeps: the current installment's payment (equal principal:
    its principal part)."""
    current = future[0]
    return current.principal if schedule_type is ScheduleKind.EQUAL_PRINCIPAL else current.payment


def _reamortise(
    principal: int,
    due_dates: Sequence[dt.date],
    first_fraction: Fraction,
    annual_rate_bp: int,
    schedule_type: ScheduleKind,
    keep: Keep,
    level: int,
    *,
    budget: int,
) -> list[tuple[dt.date, int, int]]:
    """``(due_date, principal, interest)`` repaying ``principal`` over (at most) ``due_dates``;
    the first period's interest is ``first_fraction`` of a month's. The interest never exceeds
    ``budget`` (what the old schedule still held): the last installment gives back any excess."""
    count = len(due_dates)
    annuity = schedule_type is ScheduleKind.ANNUITY
    if keep is Keep.TERM:
        level = annuity_payment(principal, annual_rate_bp, count) if annuity else principal // count
    rate = monthly_rate(annual_rate_bp)
    balance = principal
    plan: list[tuple[dt.date, int, int]] = []
    while balance:  # the last due date takes whatever remains
        index = len(plan)
        share = first_fraction if index == 0 else Fraction(1)
        interest = round_cents(balance * rate * share)
        planned = level - interest if annuity else level
        part = balance if index == count - 1 else max(0, min(planned, balance))
        balance -= part
        plan.append((due_dates[index], part, interest))
    excess, index = sum(i for _, _, i in plan) - budget, len(plan) - 1
    while excess > 0:  # budget >= 0: giving back from the last rows always ends
        due, part, interest = plan[index]
        back = min(excess, interest)
        plan[index] = (due, part, interest - back)
        excess, index = excess - back, index - 1
    return plan
