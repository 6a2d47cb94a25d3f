from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Query, status
from fastapi.responses import Response

from bank_api.common.money import MoneyIn
from bank_api.common.routing import AreaRouter
from bank_api.common.schemas import Page, PageParams, page_params
from bank_api.dependencies import (
    AdminUser,
    AgentUser,
    CurrentUser,
    CustomerUser,
    LoanReader,
    ReadUoWDep,
    RecordEvent,
    SettingsDep,
    StaffUser,
    Today,
    UoWDep,
)
from bank_api.domain.errors import AllocationNotPossible, Overpayment, ScheduleBeyondCalendar
from bank_api.domain.schedule import MAX_TERM_MONTHS
from bank_api.errors import (
    AmountOutOfRange,
    Forbidden,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    InvalidDateRange,
    LoanClosed,
    LoanNotActive,
    LoanNotApprovable,
    LoanNotEditable,
    LoanNotFound,
    LoanNotRejectable,
    LoanNotRequestable,
    LoanNotWritableOff,
    NotAuthenticated,
    SecondApproverRequired,
    TermOutOfRange,
    UnknownLoanType,
)
from bank_api.idempotency import IdempotencyDep
from bank_api.loans import approval, credit, payments, products, service, writeoff
from bank_api.loans.filters import LoanFilters, loan_filters
from bank_api.loans.schemas import (
    AllocationRead,
    LoanCreate,
    LoanEventRead,
    LoanForward,
    LoanProductRead,
    LoanRead,
    LoanReject,
    LoanUpdate,
    PaymentIn,
    PaymentRead,
    QuoteRead,
    ScheduleRead,
)
from bank_api.loans.views import quote_view, schedule_view, stored_schedule_view
from bank_api.problems import problem_responses

router = AreaRouter(tags=["loans"], responses=problem_responses(NotAuthenticated, Forbidden))
SIGNED_OFF: dict[int | str, dict[str, Any]] = {
    202: {"model": LoanRead, "description": "Signed off: a second admin must make the decision"}
}
PRICING = problem_responses(
    UnknownLoanType, AmountOutOfRange, TermOutOfRange, ScheduleBeyondCalendar
)


@router.get("/loan-products", response_model=list[LoanProductRead])
async def list_loan_products(_: CurrentUser, uow: ReadUoWDep) -> list[LoanProductRead]:
    """The active loan products, with their rates and bounds."""
    rows = await products.list_products(uow, active_only=True)
    return [LoanProductRead.model_validate(row) for row in rows]


@router.get("/loans/quote", response_model=QuoteRead, responses=PRICING)
async def quote_loan(
    _: CurrentUser,
    uow: ReadUoWDep,
    loan_type: Annotated[str, Query(max_length=32)],
    amount: Annotated[MoneyIn, Query()],
    term_months: Annotated[int, Query(ge=1, le=MAX_TERM_MONTHS)],
    today: Today,
) -> QuoteRead:
    """A full schedule preview for these terms, as if disbursed today (nothing is stored)."""
    return quote_view(await service.priced_terms(uow, loan_type, amount, term_months, today))


@router.post(
    "/loans", status_code=status.HTTP_201_CREATED, response_model=LoanRead, responses=PRICING
)
async def apply_for_loan(
    data: LoanCreate, actor: CustomerUser, uow: UoWDep, today: Today
) -> LoanRead:
    """Apply for a loan; rate, payment and totals come from the product's schedule."""
    loan = await service.apply_for_loan(uow, actor=actor, data=data, today=today)
    await uow.commit()
    return LoanRead.model_validate(loan)


@router.get("/loans", response_model=Page[LoanRead], responses=problem_responses(InvalidDateRange))
async def list_loans(
    actor: LoanReader,
    uow: ReadUoWDep,
    filters: Annotated[LoanFilters, Depends(loan_filters)],
    page: Annotated[PageParams, Depends(page_params)],
    today: Today,
) -> dict[str, object]:
    """Loans, newest first; a customer sees only their own."""
    rows, total = await service.list_loans(
        uow, actor=actor, filters=filters, page=page, today=today
    )
    items = [LoanRead.of(row, today) for row in rows]
    return {"items": items, "total": total, "limit": page.limit, "offset": page.offset}


@router.get("/loans/{loan_id}", response_model=LoanRead, responses=problem_responses(LoanNotFound))
async def read_loan(
    loan_id: uuid.UUID, actor: LoanReader, uow: ReadUoWDep, today: Today
) -> LoanRead:
    """One loan (its owner, agents and admins)."""
    return LoanRead.of(await service.read_loan(uow, actor=actor, loan_id=loan_id), today)


@router.patch(
    "/loans/{loan_id}",
    response_model=LoanRead,
    responses=problem_responses(LoanNotFound, LoanNotEditable) | PRICING,
)
async def edit_loan(
    loan_id: uuid.UUID, data: LoanUpdate, actor: AgentUser, uow: UoWDep, today: Today
) -> LoanRead:
    """Change amount, term or type of a new or requested loan; the price is recomputed."""
    loan = await service.edit_loan(uow, actor=actor, loan_id=loan_id, data=data, today=today)
    await uow.commit()
    return LoanRead.model_validate(loan)


@router.post(
    "/loans/{loan_id}/request",
    response_model=LoanRead,
    responses=problem_responses(LoanNotFound, LoanNotRequestable),
)
async def forward_loan(
    loan_id: uuid.UUID, actor: AgentUser, uow: UoWDep, data: LoanForward | None = None
) -> LoanRead:
    """Forward a new loan to the admin; the caller becomes its agent."""
    note = data.note if data else None
    loan = await service.forward_loan(uow, actor=actor, loan_id=loan_id, note=note)
    await uow.commit()
    return LoanRead.model_validate(loan)


@router.post(
    "/loans/{loan_id}/reject",
    response_model=LoanRead,
    responses=problem_responses(LoanNotFound, LoanNotRejectable),
)
async def reject_loan(
    loan_id: uuid.UUID, data: LoanReject, actor: AdminUser, uow: UoWDep
) -> LoanRead:
    """Reject a new or requested loan, with a reason."""
    loan = await service.reject_loan(uow, actor=actor, loan_id=loan_id, reason=data.reason)
    await uow.commit()
    return LoanRead.model_validate(loan)


@router.get(
    "/loans/{loan_id}/history",
    response_model=list[LoanEventRead],
    responses=problem_responses(LoanNotFound),
)
async def loan_history(
    loan_id: uuid.UUID, actor: LoanReader, uow: ReadUoWDep
) -> list[LoanEventRead]:
    """Every event of the loan, oldest first, with field-level changes."""
    events = await service.loan_history(uow, actor=actor, loan_id=loan_id)
    return [LoanEventRead.model_validate(event) for event in events]


@router.get(
    "/loans/{loan_id}/schedule",
    response_model=ScheduleRead,
    responses=problem_responses(LoanNotFound, ScheduleBeyondCalendar),
)
async def loan_schedule(
    loan_id: uuid.UUID, actor: LoanReader, uow: ReadUoWDep, today: Today
) -> ScheduleRead:
    """The repayment schedule with what is paid; before approval a preview (`preview: true`)."""
    loan, rows = await credit.schedule_with_status(uow, actor=actor, loan_id=loan_id, today=today)
    if rows:
        return stored_schedule_view(loan.id, rows)
    return schedule_view(loan.id, service.preview_schedule(loan, today), preview=True)


@router.post(
    "/loans/{loan_id}/approve",
    response_model=LoanRead,
    responses=SIGNED_OFF
    | problem_responses(
        LoanNotFound,
        LoanNotApprovable,
        AllocationNotPossible,
        SecondApproverRequired,
        IdempotencyKeyReused,
        IdempotencyKeyInUse,
    ),
)
async def approve_loan(
    loan_id: uuid.UUID,
    actor: AdminUser,
    uow: UoWDep,
    idempotency: IdempotencyDep,
    settings: SettingsDep,
    today: Today,
    record: RecordEvent,
) -> Response:
    """Fund the loan from investors' waiting money, disburse it and fix its schedule. Above
    the four-eyes amount the first admin's approval is a sign-off (202) and a second admin's
    executes it."""
    if (replay := await idempotency.replay()) is not None:
        return replay
    decision = await approval.approve_loan(
        uow, actor=actor, loan_id=loan_id, settings=settings, today=today
    )
    body = LoanRead.model_validate(decision.loan)
    response = await idempotency.commit(body, status_code=200 if decision.executed else 202)
    if decision.executed:
        record("loan_approved", decision.loan.amount)
    return response


@router.get(
    "/loans/{loan_id}/allocations",
    response_model=list[AllocationRead],
    responses=problem_responses(LoanNotFound),
)
async def loan_allocations(
    loan_id: uuid.UUID, actor: StaffUser, uow: ReadUoWDep
) -> list[AllocationRead]:
    """Who funded the loan, with what share and what is still outstanding."""
    loan, rows = await credit.allocations(uow, actor=actor, loan_id=loan_id)
    return [AllocationRead.of(row, loan.amount) for row in rows]


@router.post(
    "/loans/{loan_id}/payments",
    status_code=201,
    response_model=PaymentRead,
    responses=problem_responses(
        LoanNotFound,
        LoanClosed,
        LoanNotActive,
        Overpayment,
        IdempotencyKeyReused,
        IdempotencyKeyInUse,
    ),
)
async def pay_loan(
    loan_id: uuid.UUID,
    data: PaymentIn,
    actor: CustomerUser,
    uow: UoWDep,
    idempotency: IdempotencyDep,
    today: Today,
    record: RecordEvent,
) -> Response:
    """Pay into your loan: oldest installment first, interest before principal."""
    if (replay := await idempotency.replay()) is not None:
        return replay
    paid = await payments.record_payment(
        uow, actor=actor, loan_id=loan_id, amount=data.amount, today=today
    )
    body = PaymentRead.of(paid.payment, paid.loan_status, paid.outstanding)
    response = await idempotency.commit(body)
    record("payment", data.amount)
    return response


@router.get(
    "/loans/{loan_id}/payments",
    response_model=Page[PaymentRead],
    responses=problem_responses(LoanNotFound),
)
async def list_loan_payments(
    loan_id: uuid.UUID,
    actor: LoanReader,
    uow: ReadUoWDep,
    page: Annotated[PageParams, Depends(page_params)],
) -> dict[str, object]:
    """The loan's payments, newest first."""
    rows, total = await payments.list_payments(uow, actor=actor, loan_id=loan_id, page=page)
    items = [PaymentRead.of(row.payment, row.loan_status, row.outstanding) for row in rows]
    return {"items": items, "total": total, "limit": page.limit, "offset": page.offset}


@router.post(
    "/loans/{loan_id}/write-off",
    response_model=LoanRead,
    responses=SIGNED_OFF
    | problem_responses(LoanNotFound, LoanNotWritableOff, SecondApproverRequired),
)
async def write_off_loan(
    loan_id: uuid.UUID,
    actor: AdminUser,
    uow: UoWDep,
    settings: SettingsDep,
    today: Today,
    response: Response,
) -> LoanRead:
    """Write off an active loan 90+ days past due; its investors lose their outstanding part.
    With four-eyes on, the first admin's write-off is a sign-off (202)."""
    decision = await writeoff.write_off_loan(
        uow, actor=actor, loan_id=loan_id, today=today, settings=settings
    )
    await uow.commit()
    response.status_code = 200 if decision.executed else 202
    return LoanRead.of(decision.loan, today)
