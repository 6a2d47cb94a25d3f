"""Investor wallet routes (investors only; the guard is set on the router)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated

from fastapi import Depends, Header, Query
from fastapi.responses import Response

from bank_api.common.media import CSV, csv_response, prefers_csv
from bank_api.common.money import format_cents
from bank_api.common.principal import Principal
from bank_api.common.routing import AreaRouter
from bank_api.common.schemas import Page, PageParams, page_params
from bank_api.config import Settings
from bank_api.dependencies import InvestorUser as Investor
from bank_api.dependencies import (
    ReadUoWDep,
    RecordEvent,
    SettingsDep,
    Today,
    UoWDep,
    require_roles,
)
from bank_api.errors import (
    DateRangeTooLong,
    Forbidden,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    InsufficientFunds,
    InvalidDateRange,
    NotAuthenticated,
    UnknownLoanType,
)
from bank_api.idempotency import Idempotency, IdempotencyDep
from bank_api.investments import preferences, service, statements
from bank_api.investments.schemas import (
    AmountIn,
    InvestorAllocationRead,
    MovementRead,
    PortfolioRead,
    PreferencesIn,
    PreferencesRead,
    QueueRead,
    ReturnsRead,
    StatementBalances,
    StatementRead,
    StatementTotals,
    TransactionRead,
)
from bank_api.loans.filters import date_range
from bank_api.models import LoanStatus, Purpose, Role
from bank_api.problems import problem_responses
from bank_api.uow import UnitOfWork

router = AreaRouter(
    prefix="/investments",
    tags=["investments"],
    dependencies=[Depends(require_roles(Role.investor))],
    responses=problem_responses(NotAuthenticated, Forbidden),
)
IDEMPOTENT = problem_responses(IdempotencyKeyReused, IdempotencyKeyInUse)


@router.post("/deposits", status_code=201, response_model=MovementRead, responses=IDEMPOTENT)
async def deposit(
    data: AmountIn,
    actor: Investor,
    uow: UoWDep,
    idempotency: IdempotencyDep,
    settings: SettingsDep,
    today: Today,
    record: RecordEvent,
) -> Response:
    """Add money; it is `available` at once and joins the allocation queue."""
    return await _move(
        "deposit", service.deposit, data, actor, uow, idempotency, settings, today, record
    )


@router.post(
    "/withdrawals",
    status_code=201,
    response_model=MovementRead,
    responses=IDEMPOTENT | problem_responses(InsufficientFunds),
)
async def withdraw(
    data: AmountIn,
    actor: Investor,
    uow: UoWDep,
    idempotency: IdempotencyDep,
    settings: SettingsDep,
    today: Today,
    record: RecordEvent,
) -> Response:
    """Take `available` money out; more than is available is 409 `insufficient_funds`."""
    return await _move(
        "withdrawal", service.withdraw, data, actor, uow, idempotency, settings, today, record
    )


async def _move(
    kind: str,
    use_case: Callable[..., Awaitable[service.Movement]],
    data: AmountIn,
    actor: Principal,
    uow: UnitOfWork,
    idempotency: Idempotency,
    settings: Settings,
    today: date,
    record: Callable[[str, int], None],
) -> Response:
    """A deposit or a withdrawal, from the replay check to the commit (they differ only in
    the use case)."""
    if (replay := await idempotency.replay()) is not None:
        return replay
    movement = await use_case(
        uow, actor=actor, amount=data.amount, currency=settings.currency, today=today
    )
    body = MovementRead(
        id=movement.entry_id,
        type=kind,
        amount=movement.amount,
        created_at=movement.created_at,
        portfolio=PortfolioRead.model_validate(movement.portfolio, from_attributes=True),
    )
    response = await idempotency.commit(body)
    record(kind, movement.amount)
    return response


@router.get("/portfolio", response_model=PortfolioRead)
async def portfolio(
    actor: Investor, uow: ReadUoWDep, settings: SettingsDep, today: Today
) -> PortfolioRead:
    """Balances: available (waiting), invested (lent out), interest earned, losses."""
    result = await service.portfolio(uow, actor=actor, currency=settings.currency, today=today)
    return PortfolioRead.model_validate(result, from_attributes=True)


@router.get(
    "/transactions",
    response_model=Page[TransactionRead],
    responses=problem_responses(InvalidDateRange),
)
async def transactions(
    actor: Investor,
    uow: ReadUoWDep,
    page: Annotated[PageParams, Depends(page_params)],
    type: Purpose | None = None,
    from_: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    to: Annotated[str | None, Query(max_length=40)] = None,
) -> dict[str, object]:
    """The investor's ledger lines, newest first."""
    since, before = date_range(from_, to)
    rows, total = await service.transactions(
        uow, actor=actor, purpose=type, since=since, before=before, page=page
    )
    items = TransactionRead.many(rows)
    return {"items": items, "total": total, "limit": page.limit, "offset": page.offset}


@router.get("/allocations", response_model=Page[InvestorAllocationRead])
async def allocations(
    actor: Investor,
    uow: ReadUoWDep,
    today: Today,
    page: Annotated[PageParams, Depends(page_params)],
    status: LoanStatus | None = None,
) -> dict[str, object]:
    """The investor's parts of loans, newest first, filtered by the loan's status."""
    rows, total = await service.allocations(uow, actor=actor, status=status, today=today, page=page)
    items = [InvestorAllocationRead.of(row) for row in rows]
    return {"items": items, "total": total, "limit": page.limit, "offset": page.offset}


@router.get("/preferences", response_model=PreferencesRead)
async def get_preferences(actor: Investor, uow: ReadUoWDep) -> PreferencesRead:
    """Your auto-invest preferences: which loans your idle money funds, and how much of it."""
    return PreferencesRead.of(await preferences.get_preferences(uow, actor=actor))


@router.put(
    "/preferences",
    response_model=PreferencesRead,
    responses=problem_responses(UnknownLoanType),
)
async def put_preferences(data: PreferencesIn, actor: Investor, uow: UoWDep) -> PreferencesRead:
    """Replace your auto-invest preferences; money already lent out stays where it is."""
    stored = await preferences.set_preferences(uow, actor=actor, preferences=data.to_domain())
    return PreferencesRead.of(stored)


@router.get("/queue", response_model=QueueRead)
async def queue(actor: Investor, uow: ReadUoWDep, settings: SettingsDep, today: Today) -> QueueRead:
    """Where your idle money stands in the allocation queue, and when it may be lent out."""
    standing = await preferences.queue_standing(
        uow, actor=actor, today=today, min_ticket=settings.min_ticket_cents
    )
    return QueueRead.model_validate(standing, from_attributes=True)


STATEMENT_CSV = (
    "id",
    "entry_id",
    "value_date",
    "created_at",
    "type",
    "account",
    "amount",
    "loan_id",
)


@router.get(
    "/statement",
    response_model=StatementRead,
    responses={
        200: {"content": {CSV: {"schema": {"type": "string"}}}},
        **problem_responses(InvalidDateRange, DateRangeTooLong),
    },
)
async def statement(
    actor: Investor,
    uow: ReadUoWDep,
    today: Today,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: date | None = None,
    accept: Annotated[str | None, Header(max_length=1000)] = None,
) -> StatementRead | Response:
    """Opening and closing balances and every movement between, by value date; this month
    by default. `Accept: text/csv` gives the lines as CSV."""
    result = await statements.statement(uow, actor=actor, since=from_, until=to, today=today)
    lines = TransactionRead.many(result.lines)
    if prefers_csv(accept):
        rows = [[getattr(line, name) for name in STATEMENT_CSV] for line in lines]
        for row, line in zip(rows, lines, strict=True):
            row[STATEMENT_CSV.index("amount")] = format_cents(line.amount)
        return csv_response(STATEMENT_CSV, rows, f"statement-{result.from_}-{result.to}.csv")
    return StatementRead(
        from_=result.from_,
        to=result.to,
        opening=StatementBalances.model_validate(result.opening, from_attributes=True),
        closing=StatementBalances.model_validate(result.closing, from_attributes=True),
        totals=StatementTotals(**result.totals),
        lines=lines,
    )


@router.get("/returns", response_model=ReturnsRead, responses=problem_responses(InvalidDateRange))
async def returns(
    actor: Investor,
    uow: ReadUoWDep,
    today: Today,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: date | None = None,
) -> ReturnsRead:
    """Your net annual return (XIRR) on your cash flows with the loans, with interest earned,
    losses and net profit; since your first cash flow by default."""
    result = await statements.returns(uow, actor=actor, since=from_, until=to, today=today)
    summary = result.summary
    return ReturnsRead(
        xirr=None if summary.xirr is None else str(summary.xirr),
        interest_earned=summary.interest_earned,
        fees=summary.fees,
        losses=summary.losses,
        net_profit=summary.net_profit,
        from_=result.from_,
        to=result.to,
    )
