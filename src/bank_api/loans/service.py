"""Loan-desk use cases: quote, apply, edit, forward, reject, read (use cases never commit:
the route does, see `bank_api.uow`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from bank_api import audit
from bank_api.common.money import format_cents
from bank_api.common.principal import Principal
from bank_api.common.schemas import PageParams
from bank_api.common.types import utcnow
from bank_api.domain.schedule import Schedule, build_schedule
from bank_api.errors import (
    AmountOutOfRange,
    LoanNotEditable,
    LoanNotRejectable,
    LoanNotRequestable,
    TermOutOfRange,
)
from bank_api.loans import four_eyes, history
from bank_api.loans.filters import LoanFilters
from bank_api.loans.lifecycle import EDITABLE, can_become, visible_loan
from bank_api.loans.products import active_product
from bank_api.loans.repository import LoanTerms
from bank_api.loans.schemas import LoanCreate, LoanUpdate
from bank_api.models import Loan, LoanEvent, LoanEventKind, LoanProduct, LoanStatus
from bank_api.uow import UnitOfWork


@dataclass(frozen=True)
class Terms:
    product: LoanProduct
    amount: int
    term_months: int
    schedule: Schedule


async def priced_terms(
    uow: UnitOfWork, loan_type: str, amount: int, term_months: int, start: date
) -> Terms:
    """Check the terms against the product and price them with the domain schedule, as if
    disbursed on `start` (the business date)."""
    product = await active_product(uow, loan_type)
    if not product.min_amount <= amount <= product.max_amount:
        raise AmountOutOfRange(
            f"A {product.code} is for {format_cents(product.min_amount)} to "
            f"{format_cents(product.max_amount)}."
        )
    if not product.min_term_months <= term_months <= product.max_term_months:
        raise TermOutOfRange(
            f"A {product.code} runs {product.min_term_months} to {product.max_term_months} months."
        )
    schedule = build_schedule(
        amount,
        product.annual_rate_bp,
        term_months,
        start,
        product.schedule_type,
    )
    return Terms(product, amount, term_months, schedule)


def _apply_terms(loan: Loan, terms: Terms) -> None:
    loan.loan_type = terms.product.code
    loan.amount = terms.amount
    loan.term_months = terms.term_months
    loan.annual_rate_bp = terms.product.annual_rate_bp
    loan.schedule_type = terms.product.schedule_type
    loan.monthly_payment = terms.schedule.monthly_payment
    loan.total_interest = terms.schedule.total_interest
    loan.total_payable = terms.schedule.total_payable


async def apply_for_loan(
    uow: UnitOfWork, *, actor: Principal, data: LoanCreate, today: date
) -> Loan:
    terms = await priced_terms(uow, data.loan_type, data.amount, data.term_months, today)
    now = utcnow()
    loan = Loan(
        id=uuid.uuid4(),
        customer_id=actor.id,
        status=LoanStatus.new,
        outstanding_principal=0,
        created_at=now,
        updated_at=now,
    )
    _apply_terms(loan, terms)
    empty = dict.fromkeys(history.TRACKED)
    created = history.event(
        loan, actor, LoanEventKind.created, history.changes_between(empty, history.snapshot(loan))
    )
    # The loan and its first event as plain rows, in one round trip: the session's flush
    # would send two statements, and costs more CPU than the rest of the application.
    await uow.write(uow.loans.new(loan), uow.loan_events.new(created))
    return loan


async def edit_loan(
    uow: UnitOfWork, *, actor: Principal, loan_id: uuid.UUID, data: LoanUpdate, today: date
) -> Loan:
    loan = await visible_loan(uow, actor, loan_id, lock=True)
    if loan.status not in EDITABLE:
        raise LoanNotEditable
    terms = await priced_terms(
        uow,
        data.loan_type or loan.loan_type,
        data.amount or loan.amount,
        data.term_months or loan.term_months,
        today,
    )
    before = history.snapshot(loan)
    _apply_terms(loan, terms)
    changes = history.changes_between(before, history.snapshot(loan))
    if changes:
        loan.updated_at = utcnow()
        four_eyes.clear(loan)  # the sign-offs were for other terms
        history.record(uow, loan, actor, LoanEventKind.edited, changes)
        audit.record(uow, actor, "loan.edit", "loan", loan.id, changes)
    return loan


async def forward_loan(
    uow: UnitOfWork, *, actor: Principal, loan_id: uuid.UUID, note: str | None
) -> Loan:
    """new -> requested; the forwarding agent becomes the loan's agent."""
    return await _decide(
        uow,
        actor,
        loan_id,
        LoanStatus.requested,
        LoanNotRequestable,
        LoanEventKind.requested,
        note,
        agent_id=actor.id,
    )


async def reject_loan(
    uow: UnitOfWork, *, actor: Principal, loan_id: uuid.UUID, reason: str
) -> Loan:
    """new/requested -> rejected, with the reason."""
    return await _decide(
        uow,
        actor,
        loan_id,
        LoanStatus.rejected,
        LoanNotRejectable,
        LoanEventKind.rejected,
        reason,
        rejection_reason=reason,
    )


async def _decide(
    uow: UnitOfWork,
    actor: Principal,
    loan_id: uuid.UUID,
    status: LoanStatus,
    refusal: type[Exception],
    event: LoanEventKind,
    note: str | None,
    **values: Any,
) -> Loan:
    """Lock the loan, check the lifecycle allows `status`, move it there with `values`, and
    record `event` with the changes."""
    loan = await visible_loan(uow, actor, loan_id, lock=True)
    if not can_become(loan, status):
        raise refusal
    values.setdefault("sign_offs", None)  # four-eyes sign-offs judged the loan as it was
    changes = history.change(uow, loan, actor, event, note, status=status, **values)
    audit.record(uow, actor, _ACTIONS[status], "loan", loan.id, changes)
    return loan


_ACTIONS = {LoanStatus.requested: "loan.request", LoanStatus.rejected: "loan.reject"}


async def read_loan(uow: UnitOfWork, *, actor: Principal, loan_id: uuid.UUID) -> Loan:
    return await visible_loan(uow, actor, loan_id)


async def list_loans(
    uow: UnitOfWork, *, actor: Principal, filters: LoanFilters, page: PageParams, today: date
) -> tuple[Sequence[dict[str, Any]], int]:
    return await uow.loans.list_page(
        actor, filters, today=today, limit=page.limit, offset=page.offset
    )


async def loan_history(
    uow: UnitOfWork, *, actor: Principal, loan_id: uuid.UUID
) -> Sequence[LoanEvent]:
    loan = await visible_loan(uow, actor, loan_id)
    return await uow.loan_events.for_loan(loan.id)


def preview_schedule(loan: LoanTerms, start: date) -> Schedule:
    """Before approval: the loan's stored terms as if disbursed on `start`."""
    return build_schedule(
        loan.amount,
        loan.annual_rate_bp,
        loan.term_months,
        start,
        loan.schedule_type,
    )
