"""Early repayment routes: a payoff quote, settling a loan, prepaying part of it (SPEC §11.4)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import Query
from fastapi.responses import Response

from bank_api.common.routing import AreaRouter
from bank_api.dependencies import (
    CustomerUser,
    LoanReader,
    ReadUoWDep,
    RecordEvent,
    Today,
    UoWDep,
)
from bank_api.domain.errors import Overpayment
from bank_api.errors import (
    Forbidden,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    LoanClosed,
    LoanNotActive,
    LoanNotFound,
    NotAuthenticated,
    PayoffAmountChanged,
    PayoffDateInPast,
)
from bank_api.idempotency import IdempotencyDep
from bank_api.loans import early
from bank_api.loans.schemas import (
    PaymentRead,
    PayoffRead,
    PrepaymentIn,
    PrepaymentPreviewRead,
    PrepaymentRead,
    SettlementIn,
)
from bank_api.loans.views import payoff_view, prepayment_preview_view, prepayment_view
from bank_api.problems import problem_responses

router = AreaRouter(tags=["loans"], responses=problem_responses(NotAuthenticated, Forbidden))
IDEMPOTENT = problem_responses(IdempotencyKeyReused, IdempotencyKeyInUse)
PAYABLE = problem_responses(LoanNotFound, LoanClosed, LoanNotActive, PayoffDateInPast)


@router.get(
    "/loans/{loan_id}/payoff",
    response_model=PayoffRead,
    responses=problem_responses(LoanNotFound, LoanNotActive, PayoffDateInPast),
)
async def loan_payoff(
    loan_id: uuid.UUID,
    actor: LoanReader,
    uow: ReadUoWDep,
    today: Today,
    on: Annotated[date | None, Query(description="Default: the business date")] = None,
) -> PayoffRead:
    """What closes the loan on a day: what is due, the principal, and the interest accrued."""
    quote = await early.payoff_quote(uow, actor=actor, loan_id=loan_id, on=on, today=today)
    return payoff_view(loan_id, quote)


@router.post(
    "/loans/{loan_id}/settlement",
    status_code=201,
    response_model=PaymentRead,
    responses=PAYABLE | IDEMPOTENT | problem_responses(PayoffAmountChanged),
)
async def settle_loan(
    loan_id: uuid.UUID,
    data: SettlementIn,
    actor: CustomerUser,
    uow: UoWDep,
    idempotency: IdempotencyDep,
    today: Today,
    record: RecordEvent,
) -> Response:
    """Pay off your loan today: exactly today's payoff amount; the loan closes."""
    if (replay := await idempotency.replay()) is not None:
        return replay
    paid = await early.settle_loan(
        uow, actor=actor, loan_id=loan_id, amount=data.amount, today=today
    )
    body = PaymentRead.of(paid.payment, paid.loan_status, paid.outstanding)
    response = await idempotency.commit(body)
    record("settlement", data.amount)
    return response


@router.post(
    "/loans/{loan_id}/prepayments",
    status_code=201,
    response_model=PrepaymentRead,
    responses=PAYABLE | IDEMPOTENT | problem_responses(Overpayment),
)
async def prepay_loan(
    loan_id: uuid.UUID,
    data: PrepaymentIn,
    actor: CustomerUser,
    uow: UoWDep,
    idempotency: IdempotencyDep,
    today: Today,
    record: RecordEvent,
) -> Response:
    """Pay down principal ahead of schedule; the rest is re-amortised (lower payment or fewer
    installments). What is due and the interest accrued are paid first."""
    if (replay := await idempotency.replay()) is not None:
        return replay
    done = await early.prepay_loan(
        uow, actor=actor, loan_id=loan_id, amount=data.amount, keep=data.keep, today=today
    )
    response = await idempotency.commit(prepayment_view(done, today))
    record("prepayment", data.amount)
    return response


@router.post(
    "/loans/{loan_id}/prepayments/preview",
    response_model=PrepaymentPreviewRead,
    responses=PAYABLE | problem_responses(Overpayment),
)
async def preview_prepayment(
    loan_id: uuid.UUID,
    data: PrepaymentIn,
    actor: CustomerUser,
    uow: ReadUoWDep,
    today: Today,
) -> PrepaymentPreviewRead:
    """What a prepayment would do, today: nothing is stored."""
    done = await early.prepay_loan(
        uow,
        actor=actor,
        loan_id=loan_id,
        amount=data.amount,
        keep=data.keep,
        today=today,
        preview=True,
    )
    return prepayment_preview_view(done, data.amount, today)
