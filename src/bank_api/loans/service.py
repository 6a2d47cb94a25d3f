"""Loan-desk use cases: quote, apply, edit, forward, reject, read."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from bank_api.common.money import format_cents
from bank_api.common.principal import Principal
from bank_api.common.schemas import PageParams
from bank_api.common.types import utcnow
from bank_api.domain.schedule import Schedule, ScheduleType, build_schedule
from bank_api.errors import (
    AmountOutOfRange,
    LoanNotEditable,
    LoanNotFound,
    LoanNotRejectable,
    LoanNotRequestable,
    TermOutOfRange,
)
from bank_api.loans.filters import LoanFilters
from bank_api.loans.overdue import days_past_due
from bank_api.loans.products import active_product
from bank_api.loans.schemas import LoanCreate, LoanUpdate
from bank_api.models import Loan, LoanEvent, LoanEventKind, LoanProduct, LoanStatus
from bank_api.uow import UnitOfWork

EDITABLE = frozenset({LoanStatus.new, LoanStatus.requested})
# Fields whose changes the history records, in the order they are shown.
TRACKED = (
    "loan_type",
    "amount",
    "term_months",
    "annual_rate_bp",
    "monthly_payment",
    "total_interest",
    "total_payable",
    "status",
    "agent_id",
    "rejection_reason",
)


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
        ScheduleType(product.schedule_type.value),
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


def snapshot(loan: Loan) -> dict[str, Any]:
    return {field: getattr(loan, field) for field in TRACKED}


# History speaks the API's language: `annual_rate` for the stored basis points, and money and
# rates as decimal strings, like every other response.
PUBLIC_NAMES = {"annual_rate_bp": "annual_rate"}
DECIMAL_FIELDS = frozenset(
    {"amount", "annual_rate_bp", "monthly_payment", "total_interest", "total_payable"}
)


def public_value(field: str, value: Any) -> Any:
    if value is None:
        return None
    if field in DECIMAL_FIELDS:
        return format_cents(value)
    return str(value) if isinstance(value, uuid.UUID | LoanStatus) else value


def changes_between(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """`{public name: {from, to}}` for every tracked field that differs."""
    return {
        PUBLIC_NAMES.get(field, field): {
            "from": public_value(field, before[field]),
            "to": public_value(field, after[field]),
        }
        for field in TRACKED
        if before[field] != after[field]
    }


def record_event(
    uow: UnitOfWork,
    loan: Loan,
    actor: Principal,
    event: LoanEventKind,
    changes: dict[str, dict[str, Any]],
    note: str | None = None,
) -> None:
    uow.loan_events.add(
        LoanEvent(
            loan_id=loan.id,
            at=utcnow(),
            actor_id=actor.id,
            actor_role=actor.role,
            event=event,
            changes=changes,
            note=note,
        )
    )


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
    empty = dict.fromkeys(TRACKED)
    _apply_terms(loan, terms)
    uow.loans.add(loan)
    await uow.loans.flush()
    record_event(uow, loan, actor, LoanEventKind.created, changes_between(empty, snapshot(loan)))
    await uow.commit()
    return loan


async def locked_loan(uow: UnitOfWork, loan_id: uuid.UUID, actor: Principal) -> Loan:
    """The loan, row-locked until commit, so no decision can slip in between check and write."""
    loan = await uow.loans.visible(loan_id, actor, lock=True)
    if loan is None:
        raise LoanNotFound
    return loan


async def edit_loan(
    uow: UnitOfWork, *, actor: Principal, loan_id: uuid.UUID, data: LoanUpdate, today: date
) -> Loan:
    loan = await locked_loan(uow, loan_id, actor)
    if loan.status not in EDITABLE:
        raise LoanNotEditable
    terms = await priced_terms(
        uow,
        data.loan_type or loan.loan_type,
        data.amount or loan.amount,
        data.term_months or loan.term_months,
        today,
    )
    before = snapshot(loan)
    _apply_terms(loan, terms)
    changes = changes_between(before, snapshot(loan))
    if changes:
        loan.updated_at = utcnow()
        record_event(uow, loan, actor, LoanEventKind.edited, changes)
    await uow.commit()
    return loan


async def _transition(
    uow: UnitOfWork,
    actor: Principal,
    loan_id: uuid.UUID,
    *,
    allowed: frozenset[LoanStatus],
    refusal: type[Exception],
    event: LoanEventKind,
    note: str | None,
    **values: Any,
) -> Loan:
    """Lock the loan, check its status, set `values`, record the event with its changes."""
    loan = await locked_loan(uow, loan_id, actor)
    if loan.status not in allowed:
        raise refusal
    before = snapshot(loan)
    for field, value in values.items():
        setattr(loan, field, value)
    loan.updated_at = utcnow()
    record_event(uow, loan, actor, event, changes_between(before, snapshot(loan)), note)
    await uow.commit()
    return loan


async def forward_loan(
    uow: UnitOfWork, *, actor: Principal, loan_id: uuid.UUID, note: str | None
) -> Loan:
    """new -> requested; the forwarding agent becomes the loan's agent."""
    return await _transition(
        uow,
        actor,
        loan_id,
        allowed=frozenset({LoanStatus.new}),
        refusal=LoanNotRequestable,
        event=LoanEventKind.requested,
        note=note,
        status=LoanStatus.requested,
        agent_id=actor.id,
    )


async def reject_loan(
    uow: UnitOfWork, *, actor: Principal, loan_id: uuid.UUID, reason: str
) -> Loan:
    """new/requested -> rejected, with the reason."""
    return await _transition(
        uow,
        actor,
        loan_id,
        allowed=EDITABLE,
        refusal=LoanNotRejectable,
        event=LoanEventKind.rejected,
        note=reason,
        status=LoanStatus.rejected,
        rejection_reason=reason,
    )


async def get_loan(uow: UnitOfWork, *, actor: Principal, loan_id: uuid.UUID) -> Loan:
    loan = await uow.loans.visible(loan_id, actor)
    if loan is None:
        raise LoanNotFound
    return loan


async def read_loan(
    uow: UnitOfWork, *, actor: Principal, loan_id: uuid.UUID, today: date
) -> tuple[Loan, int]:
    """The loan and its days past due on the business date."""
    loan = await get_loan(uow, actor=actor, loan_id=loan_id)
    return loan, (await days_past_due(uow.session, [loan.id], today)).get(loan.id, 0)


async def list_loans(
    uow: UnitOfWork, *, actor: Principal, filters: LoanFilters, page: PageParams, today: date
) -> tuple[Sequence[Loan], int, dict[uuid.UUID, int]]:
    rows, total = await uow.loans.list_page(
        actor, filters, today=today, limit=page.limit, offset=page.offset
    )
    return rows, total, await days_past_due(uow.session, [row.id for row in rows], today)


async def loan_history(
    uow: UnitOfWork, *, actor: Principal, loan_id: uuid.UUID
) -> Sequence[LoanEvent]:
    loan = await get_loan(uow, actor=actor, loan_id=loan_id)
    return await uow.loan_events.for_loan(loan.id)


def preview_schedule(loan: Loan, start: date) -> Schedule:
    """Before approval: the loan's stored terms as if disbursed on `start`."""
    return build_schedule(
        loan.amount,
        loan.annual_rate_bp,
        loan.term_months,
        start,
        ScheduleType(loan.schedule_type.value),
    )
