"""Admin use cases on accounts: listing, agent approval, disabling and enabling."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from bank_api.common.principal import Principal
from bank_api.common.schemas import PageParams
from bank_api.common.types import utcnow
from bank_api.errors import (
    AgentNotFound,
    AgentNotPending,
    CannotDisableSelf,
    UserNotActive,
    UserNotDisabled,
    UserNotFound,
)
from bank_api.models import Role, User, UserStatus
from bank_api.uow import UnitOfWork


async def list_users(
    uow: UnitOfWork, *, page: PageParams, role: Role | None, status: UserStatus | None
) -> tuple[Sequence[User], int]:
    return await uow.users.list_page(limit=page.limit, offset=page.offset, role=role, status=status)


async def list_agents(
    uow: UnitOfWork, *, page: PageParams, status: UserStatus | None
) -> tuple[Sequence[User], int]:
    return await list_users(uow, page=page, role=Role.agent, status=status)


async def decide_agent(uow: UnitOfWork, *, agent_id: uuid.UUID, approve: bool) -> User:
    """pending → active (approve) or pending → rejected; anything else is 409."""
    user = await uow.users.get_for_update(agent_id)
    if user is None or user.role != Role.agent:
        raise AgentNotFound
    if user.status != UserStatus.pending:
        raise AgentNotPending
    user.status = UserStatus.active if approve else UserStatus.rejected
    user.updated_at = utcnow()
    return user


async def disable_user(uow: UnitOfWork, *, actor: Principal, user_id: uuid.UUID) -> User:
    """active → disabled; every token issued so far stops working at once."""
    if user_id == actor.id:
        raise CannotDisableSelf
    user = await _locked_user(uow, user_id)
    if user.status != UserStatus.active:
        raise UserNotActive
    user.status = UserStatus.disabled
    user.tokens_valid_after = user.updated_at = utcnow()
    return user


async def enable_user(uow: UnitOfWork, *, user_id: uuid.UUID) -> User:
    """disabled → active. Tokens issued before the disable stay revoked."""
    user = await _locked_user(uow, user_id)
    if user.status != UserStatus.disabled:
        raise UserNotDisabled
    user.status = UserStatus.active
    user.updated_at = utcnow()
    return user


async def _locked_user(uow: UnitOfWork, user_id: uuid.UUID) -> User:
    user = await uow.users.get_for_update(user_id)
    if user is None:
        raise UserNotFound
    return user
