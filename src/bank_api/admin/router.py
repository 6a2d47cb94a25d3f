"""Admin routes. The admin guard is set once on the router so no route can forget it."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import Depends, Header, Query
from fastapi.responses import Response

from bank_api.admin import pool as pool_service
from bank_api.admin import reports, service
from bank_api.admin.schemas import (
    AuditRead,
    BusinessDateIn,
    BusinessDateRead,
    PoolRead,
    ProductFeeRead,
    RevenueRead,
    RiskReportRead,
)
from bank_api.common.media import CSV, csv_response, prefers_csv
from bank_api.common.routing import AreaRouter
from bank_api.common.schemas import Page, PageParams, page_params, to_page
from bank_api.dependencies import (
    AdminUser,
    ReadUoWDep,
    SettingsDep,
    Today,
    UoWDep,
    require_roles,
)
from bank_api.domain.errors import ScheduleBeyondCalendar
from bank_api.errors import (
    AgentNotFound,
    AgentNotPending,
    CannotDisableSelf,
    Forbidden,
    InvalidDateRange,
    NotAuthenticated,
    NotFound,
    ProductBoundsInvalid,
    ProductExists,
    ProductNotFound,
    UserNotActive,
    UserNotDisabled,
    UserNotFound,
)
from bank_api.ledger import service as ledger_service
from bank_api.ledger.schemas import CheckRead, VerificationRead
from bank_api.loans import products
from bank_api.loans.filters import date_range
from bank_api.loans.schemas import LoanProductCreate, LoanProductRead, LoanProductUpdate
from bank_api.models import Role, UserStatus
from bank_api.problems import problem_responses
from bank_api.users.schemas import UserRead

router = AreaRouter(
    prefix="/admin",
    tags=["admin"],
    dependencies=[Depends(require_roles(Role.admin))],
    responses=problem_responses(NotAuthenticated, Forbidden),
)
PageDep = Annotated[PageParams, Depends(page_params)]


@router.get("/users", response_model=Page[UserRead])
async def list_users(
    uow: UoWDep, page: PageDep, role: Role | None = None, status: UserStatus | None = None
) -> dict[str, object]:
    """Every user, newest first, filtered by role and status."""
    rows, total = await service.list_users(uow, page=page, role=role, status=status)
    return to_page(UserRead, rows, total, page)


@router.get("/agents", response_model=Page[UserRead])
async def list_agents(
    uow: UoWDep, page: PageDep, status: UserStatus | None = None
) -> dict[str, object]:
    """Agents; `status=pending` lists the applications waiting for a decision."""
    rows, total = await service.list_agents(uow, page=page, status=status)
    return to_page(UserRead, rows, total, page)


@router.post(
    "/agents/{agent_id}/approve",
    response_model=UserRead,
    responses=problem_responses(AgentNotFound, AgentNotPending),
)
async def approve_agent(agent_id: uuid.UUID, actor: AdminUser, uow: UoWDep) -> UserRead:
    """Approve a pending agent, who can then log in."""
    agent = await service.decide_agent(uow, actor=actor, agent_id=agent_id, approve=True)
    await uow.commit()
    return UserRead.model_validate(agent)


@router.post(
    "/agents/{agent_id}/reject",
    response_model=UserRead,
    responses=problem_responses(AgentNotFound, AgentNotPending),
)
async def reject_agent(agent_id: uuid.UUID, actor: AdminUser, uow: UoWDep) -> UserRead:
    """Reject a pending agent's application."""
    agent = await service.decide_agent(uow, actor=actor, agent_id=agent_id, approve=False)
    await uow.commit()
    return UserRead.model_validate(agent)


@router.post(
    "/users/{user_id}/disable",
    response_model=UserRead,
    responses=problem_responses(UserNotFound, CannotDisableSelf, UserNotActive),
)
async def disable_user(user_id: uuid.UUID, actor: AdminUser, uow: UoWDep) -> UserRead:
    """Disable an active account and revoke its tokens."""
    user = await service.disable_user(uow, actor=actor, user_id=user_id)
    await uow.commit()
    return UserRead.model_validate(user)


@router.post(
    "/users/{user_id}/enable",
    response_model=UserRead,
    responses=problem_responses(UserNotFound, UserNotDisabled),
)
async def enable_user(user_id: uuid.UUID, actor: AdminUser, uow: UoWDep) -> UserRead:
    """Enable a disabled account (old tokens stay revoked)."""
    user = await service.enable_user(uow, actor=actor, user_id=user_id)
    await uow.commit()
    return UserRead.model_validate(user)


@router.get("/loan-products", response_model=list[LoanProductRead])
async def list_loan_products(uow: UoWDep) -> list[LoanProductRead]:
    """Every loan product, active or not."""
    rows = await products.list_products(uow, active_only=False)
    return [LoanProductRead.model_validate(row) for row in rows]


@router.post(
    "/loan-products",
    status_code=201,
    response_model=LoanProductRead,
    responses=problem_responses(ProductExists),
)
async def create_loan_product(
    data: LoanProductCreate, actor: AdminUser, uow: UoWDep
) -> LoanProductRead:
    """Add a loan product."""
    product = await products.create_product(uow, data, actor=actor)
    await uow.commit()
    return LoanProductRead.model_validate(product)


@router.patch(
    "/loan-products/{code}",
    response_model=LoanProductRead,
    responses=problem_responses(ProductNotFound, ProductBoundsInvalid),
)
async def update_loan_product(
    code: str, data: LoanProductUpdate, actor: AdminUser, uow: UoWDep
) -> LoanProductRead:
    """Change a product's rate, bounds or name, or deactivate it (`is_active: false`)."""
    product = await products.update_product(uow, code, data, actor=actor)
    await uow.commit()
    return LoanProductRead.model_validate(product)


@router.get("/ledger/verify", response_model=VerificationRead)
async def verify_ledger(uow: UoWDep) -> VerificationRead:
    """Run every ledger invariant over the whole database."""
    checks = await ledger_service.verify_ledger(uow)
    return VerificationRead(
        ok=all(c.ok for c in checks),
        checks=[CheckRead(name=c.name, ok=c.ok, detail=c.detail) for c in checks],
    )


@router.get("/pool", response_model=PoolRead)
async def pool(uow: UoWDep, today: Today, settings: SettingsDep) -> PoolRead:
    """The pool: investors' money, loans outstanding, overdue and non-performing principal."""
    return PoolRead.of(await pool_service.pool_figures(uow, today), settings.currency)


@router.put(
    "/business-date",
    response_model=BusinessDateRead,
    responses=problem_responses(NotFound, ScheduleBeyondCalendar),
)
async def set_business_date(
    data: BusinessDateIn, actor: AdminUser, uow: UoWDep, settings: SettingsDep
) -> BusinessDateRead:
    """Set "today" for due dates and overdue checks (only when the setting allows it)."""
    if not settings.allow_business_date_override:
        raise NotFound
    value = await pool_service.set_business_date(uow, data.date, actor=actor)
    await uow.commit()
    return BusinessDateRead(date=value)


@router.get("/revenue", response_model=RevenueRead, responses=problem_responses(InvalidDateRange))
async def revenue(
    uow: ReadUoWDep,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: date | None = None,
) -> RevenueRead:
    """The platform's servicing fees by value date, in all and by loan product."""
    result = await reports.revenue(uow, since=from_, until=to)
    return RevenueRead(
        from_=result.from_,
        to=result.to,
        total=result.total,
        by_product=[ProductFeeRead(loan_type=t, fee=fee) for t, fee in result.by_product],
    )


@router.get("/audit", response_model=Page[AuditRead], responses=problem_responses(InvalidDateRange))
async def list_audit(
    uow: ReadUoWDep,
    page: PageDep,
    actor_id: uuid.UUID | None = None,
    action: Annotated[str | None, Query(max_length=40)] = None,
    target_id: Annotated[str | None, Query(max_length=64)] = None,
    from_: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    to: Annotated[str | None, Query(max_length=40)] = None,
) -> dict[str, object]:
    """Every staff action that changed something, newest first (append-only)."""
    since, before = date_range(from_, to)
    rows, total = await service.list_audit(
        uow,
        page=page,
        actor_id=actor_id,
        action=action,
        target_id=target_id,
        since=since,
        before=before,
    )
    return to_page(AuditRead, rows, total, page)


REPORT_CSV = ("section", "name", "loans", "principal", "interest")


@router.get(
    "/reports/portfolio",
    response_model=RiskReportRead,
    responses={200: {"content": {CSV: {"schema": {"type": "string"}}}}},
)
async def portfolio_report(
    uow: ReadUoWDep,
    today: Today,
    accept: Annotated[str | None, Header(max_length=1000)] = None,
) -> RiskReportRead | Response:
    """Outstanding principal by delinquency bucket and product, PAR30/PAR90, write-offs and
    the next 12 months' scheduled cash flows, on the business date. `Accept: text/csv` too."""
    report = RiskReportRead.of(await reports.risk_report(uow, today=today))
    if prefers_csv(accept):
        return csv_response(REPORT_CSV, report.csv_rows(), f"portfolio-{today}.csv")
    return report
