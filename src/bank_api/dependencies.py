"""Request dependencies: the session, the unit of work, who is calling and what role they need."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from bank_api.common.clock import business_date
from bank_api.common.principal import Principal
from bank_api.config import Settings
from bank_api.database import request_read_session, request_reading, request_session
from bank_api.errors import Forbidden, NotAuthenticated
from bank_api.models import Role, UserStatus
from bank_api.security import PasswordHasher, TokenService, revoked
from bank_api.uow import UnitOfWork
from bank_api.users.repository import Caller, read_caller

TOKEN_URL = "/api/v1/auth/token"  # noqa: S105 - a path


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_token_service(request: Request) -> TokenService:
    service: TokenService = request.app.state.tokens
    return service


async def get_hasher(request: Request) -> PasswordHasher:
    hasher: PasswordHasher = request.app.state.hasher
    return hasher


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
TokensDep = Annotated[TokenService, Depends(get_token_service)]
HasherDep = Annotated[PasswordHasher, Depends(get_hasher)]


# The unit of work's session is closed (and a transaction left uncommitted rolled back) just
# before the request's answer is sent: `database.request_session`.
async def get_uow(request: Request) -> UnitOfWork:
    return UnitOfWork(await request_session(request.scope, request.app.state.sessionmaker))


UoWDep = Annotated[UnitOfWork, Depends(get_uow)]


async def get_read_uow(request: Request) -> UnitOfWork:
    return UnitOfWork(request_read_session(request.scope, request.app.state.read_sessionmaker))


# For GET routes that answer with one statement, or with statements that need no common
# snapshot (docs/DECISIONS.md, "Request cost"): no transaction, so no BEGIN and no ROLLBACK.
ReadUoWDep = Annotated[UnitOfWork, Depends(get_read_uow)]


_CALLER = "bank_api.caller"  # the request scope's key of the caller once read


class BearerCaller(OAuth2PasswordBearer):
    """The caller of a request with a bearer token (`current_caller`), read once per request.

    The OAuth2 password flow's security scheme (what OpenAPI and Swagger UI's Authorize show)
    and the caller's read are one dependency, with nothing beneath it. FastAPI walks a route's
    dependencies on every request, a cached one too, once per place it appears (about 60,000
    to 95,000 instructions each: bench/README.md, eleventh step); the role guards
    (`require_roles`) are schemes of this class themselves, and `Today` and the idempotency
    guard ask for the caller directly (`caller_of`), so a route walks one node per guard and
    none for the caller beneath them. The caller is read at most once either way: the first to
    ask keeps it on the request.
    """

    def __init__(self) -> None:
        # Named as the scheme always was in the OpenAPI document (the class's otherwise).
        super().__init__(tokenUrl=TOKEN_URL, auto_error=False, scheme_name="OAuth2PasswordBearer")

    async def __call__(self, request: Request) -> Caller:  # type: ignore[override]
        return await caller_of(request)


async def caller_of(request: Request) -> Caller:
    """The caller, re-read from the database once per request: one statement on a connection
    of its own, outside the request's transaction (which the use case then opens itself). The
    same read brings the stored business date (`Today`), so no route reads it again.

    Every failure (no token, bad signature, expired, unknown or inactive user, token older
    than the last password change or disable) is the same 401, so a token's holder learns
    nothing."""
    caller: Caller | None = request.scope.get(_CALLER)
    if caller is None:
        caller = request.scope[_CALLER] = await _read_caller(request)
    return caller


async def _read_caller(request: Request) -> Caller:
    token = await _BEARER(request)
    if not token:
        raise NotAuthenticated
    tokens: TokenService = request.app.state.tokens
    claims = tokens.decode(token)
    async with request_reading(request.scope, request.app.state.reader) as connection:
        user = await read_caller(connection, claims.user_id)
    if user is None or user.status != UserStatus.active or revoked(claims, user.tokens_valid_after):
        raise NotAuthenticated
    return user


_BEARER = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)  # reads the header
current_caller = BearerCaller()

CallerDep = Annotated[Caller, Depends(current_caller)]


def principal_of(caller: Caller) -> Principal:
    return Principal(id=caller.id, username=caller.username, role=caller.role)


async def current_principal(caller: CallerDep) -> Principal:
    return principal_of(caller)


CurrentUser = Annotated[Principal, Depends(current_principal)]


class RoleGuard(BearerCaller):
    """The caller as a `Principal`, if they have one of `roles`; 403 otherwise."""

    def __init__(self, roles: tuple[Role, ...]) -> None:
        super().__init__()
        self.allowed = frozenset(roles)
        self.__name__ = "require_" + "_or_".join(role.value for role in roles)

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        caller = await caller_of(request)
        if caller.role not in self.allowed:
            raise Forbidden
        return principal_of(caller)


@functools.cache
def require_roles(*roles: Role) -> RoleGuard:
    """The guard for these roles. One per set of roles, so a router's guard and a route's
    `actor` parameter with the same roles are one dependency, run once per request."""
    return RoleGuard(roles)


AdminUser = Annotated[Principal, Depends(require_roles(Role.admin))]
StaffUser = Annotated[Principal, Depends(require_roles(Role.agent, Role.admin))]
CustomerUser = Annotated[Principal, Depends(require_roles(Role.customer))]
AgentUser = Annotated[Principal, Depends(require_roles(Role.agent))]
LoanReader = Annotated[Principal, Depends(require_roles(Role.customer, Role.agent, Role.admin))]
InvestorUser = Annotated[Principal, Depends(require_roles(Role.investor))]


async def get_business_date(request: Request) -> date:
    """The request's business date: the stored one, which the caller's read brings (read here
    if no guard has read it yet), or the clock's."""
    caller = await caller_of(request)
    return business_date(caller.stored_business_date, request.app.state.settings)


Today = Annotated[date, Depends(get_business_date)]


async def get_recorder(request: Request) -> Callable[[str, int], None]:
    record: Callable[[str, int], None] = request.app.state.metrics.record
    return record


RecordEvent = Annotated[Callable[[str, int], None], Depends(get_recorder)]
