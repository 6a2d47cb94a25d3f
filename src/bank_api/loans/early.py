"""Early repayment: a payoff quote, settling a loan, prepaying part of it (SPEC §11.4).

The figures are the domain's (`bank_api.domain.early`); settling and prepaying are booked
exactly like a payment (`payments.book_repayment`): the same lock order, the same distribution
to the investors, the same journal entry, and the investors' balances last.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from bank_api.common.money import format_cents
from bank_api.common.principal import Principal
from bank_api.domain import early
from bank_api.domain.payments import Paid
from bank_api.domain.schedule import Installment as Planned
from bank_api.domain.schedule import add_months
from bank_api.errors import LoanNotActive, PayoffAmountChanged, PayoffDateInPast
from bank_api.loans.lifecycle import visible_loan
from bank_api.loans.payments import PaymentResult, Repayment, book_repayment, payable_loan
from bank_api.models import Loan, LoanStatus
from bank_api.uow import UnitOfWork


def _start(loan: Loan, planned: Sequence[Planned], on: date) -> date:
    """Where the first period begins: the disbursement's business date, when it was stored and
    is before the first due date (else a month before the first due date). A day before it
    has no payoff: PayoffDateInPast (the business date can be moved back for demos)."""
    first_due = planned[0].due_date
    start = loan.disbursed_on
    if start is None or start >= first_due:
        start = add_months(first_due, -1)
    if on < start:
        raise PayoffDateInPast
    return start


async def payoff_quote(
    uow: UnitOfWork, *, actor: Principal, loan_id: uuid.UUID, on: date | None, today: date
) -> early.Payoff:
    loan = await visible_loan(uow, actor, loan_id)
    if loan.status != LoanStatus.active:
        raise LoanNotActive
    on = on or today
    if on < today:
        raise PayoffDateInPast
    rows = await uow.installments.schedule(loan.id)
    planned, paid = [p for p, _ in rows], [done for _, done in rows]
    return early.payoff(planned, paid, _start(loan, planned, on), on)


async def settle_loan(
    uow: UnitOfWork,
    *,
    actor: Principal,
    loan_id: uuid.UUID,
    amount: int,
    today: date,
) -> PaymentResult:
    """Pay today's payoff, which must be `amount`, and close the loan."""
    loan, planned, paid = await payable_loan(uow, actor, loan_id)
    start = _start(loan, planned, today)
    quote = early.payoff(planned, paid, start, today)
    if amount != quote.amount:
        raise PayoffAmountChanged(
            f"Today's payoff is {format_cents(quote.amount)}, not {format_cents(amount)}.",
            payoff=format_cents(quote.amount),
        )
    done = early.settle(planned, paid, start, today)
    repayment = _repayment(amount, done)
    return await book_repayment(uow, loan, actor, planned, repayment, today, note="settlement")


@dataclass(frozen=True)
class Prepaid:
    result: PaymentResult | None
    """None for a preview."""
    repayment: early.EarlyRepayment
    loan: Loan


async def prepay_loan(
    uow: UnitOfWork,
    *,
    actor: Principal,
    loan_id: uuid.UUID,
    amount: int,
    keep: early.Keep,
    today: date,
    preview: bool = False,
) -> Prepaid:
    """Pay what is due, the accrued interest and `amount`'s rest off the principal, and
    re-amortise; with `preview`, only say what would happen."""
    loan, planned, paid = await payable_loan(uow, actor, loan_id, lock=not preview)
    done = early.prepay(
        planned,
        paid,
        _start(loan, planned, today),
        today,
        amount,
        keep=keep,
        annual_rate_bp=loan.annual_rate_bp,
        schedule_type=loan.schedule_type,
    )
    if preview:
        return Prepaid(None, done, loan)
    repayment = _repayment(amount, done)
    changed = repayment.rescheduled_from is not None
    result = await book_repayment(
        uow,
        loan,
        actor,
        planned,
        repayment,
        today,
        note=f"prepayment (keep {keep.value})",
        terms=_terms(done.installments, done.paid_after) if changed else None,
        schedule_change=_schedule_change(planned, done.installments) if changed else None,
    )
    return Prepaid(result, done, loan)


def _repayment(amount: int, done: early.EarlyRepayment) -> Repayment:
    return Repayment(
        amount,
        done.applied,
        done.principal,
        done.interest,
        done.paid_after,
        done.closes,
        done.installments,
        done.rescheduled_from,
    )


def _terms(installments: Sequence[Planned], paid: Sequence[Paid]) -> dict[str, Any]:
    """The loan's terms as its new schedule states them: the installments' count and sums, and
    the payment of the first installment nothing is paid of yet (else the last one's)."""
    fresh = [i for i, p in zip(installments, paid, strict=True) if p == Paid()]
    return {
        "term_months": len(installments),
        "monthly_payment": (fresh[0] if fresh else installments[-1]).payment,
        "total_interest": sum(i.interest for i in installments),
        "total_payable": sum(i.payment for i in installments),
    }


def _schedule_change(
    before: Sequence[Planned], after: Sequence[Planned]
) -> dict[str, dict[str, Any]]:
    """The rewritten installments before and after, in the API's language."""
    start = next(
        (a.number for a, b in zip(after, before, strict=False) if a != b),
        min(len(after), len(before)) + 1,
    )

    def public(rows: Sequence[Planned]) -> list[dict[str, Any]]:
        return [
            {
                "number": i.number,
                "due_date": i.due_date.isoformat(),
                "principal": format_cents(i.principal),
                "interest": format_cents(i.interest),
            }
            for i in rows
            if i.number >= start
        ]

    return {"schedule": {"from": public(before), "to": public(after)}}
