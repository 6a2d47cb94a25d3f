"""Admin use cases on accounts: listing, agent approval, disabling and enabling."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from bank_api import audit
from bank_api.auth import sessions
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
from bank_api.models import AuditRecord, Role, User, UserStatus
from bank_api.uow import UnitOfWork


async def list_users(
    uow: UnitOfWork, *, page: PageParams, role: Role | None, status: UserStatus | None
) -> tuple[Sequence[User], int]:
    return await uow.users.list_page(limit=page.limit, offset=page.offset, role=role, status=status)


async def list_agents(
    uow: UnitOfWork, *, page: PageParams, status: UserStatus | None
) -> tuple[Sequence[User], int]:
    return await list_users(uow, page=page, role=Role.agent, status=status)


async def decide_agent(
    uow: UnitOfWork, *, actor: Principal, agent_id: uuid.UUID, approve: bool
) -> User:
    """pending → active (approve) or pending → rejected; anything else is 409."""
    user = await uow.users.get_for_update(agent_id)
    if user is None or user.role != Role.agent:
        raise AgentNotFound
    if user.status != UserStatus.pending:
        raise AgentNotPending
    status, action = (
        (UserStatus.active, "agent.approve") if approve else (UserStatus.rejected, "agent.reject")
    )
    _set_status(uow, actor, user, status, action)
    return user


async def disable_user(uow: UnitOfWork, *, actor: Principal, user_id: uuid.UUID) -> User:
    """active → disabled; every token issued so far stops working at once."""
    if user_id == actor.id:
        raise CannotDisableSelf
    user = await _locked_user(uow, user_id)
    if user.status != UserStatus.active:
        raise UserNotActive
    _set_status(uow, actor, user, UserStatus.disabled, "user.disable")
    user.tokens_valid_after = user.updated_at
    await sessions.revoke_user(uow, user.id)
    return user


async def enable_user(uow: UnitOfWork, *, actor: Principal, user_id: uuid.UUID) -> User:
    """disabled → active. Tokens issued before the disable stay revoked."""
    user = await _locked_user(uow, user_id)
    if user.status != UserStatus.disabled:
        raise UserNotDisabled
    _set_status(uow, actor, user, UserStatus.active, "user.enable")
    return user


def _set_status(
    uow: UnitOfWork, actor: Principal, user: User, status: UserStatus, action: str
) -> None:
    """Move the user to `status`, with the audit record of `action`."""
    change = {"status": {"from": user.status.value, "to": status.value}}
    user.status = status
    user.updated_at = utcnow()
    audit.record(uow, actor, action, "user", user.id, change)


async def _locked_user(uow: UnitOfWork, user_id: uuid.UUID) -> User:
    user = await uow.users.get_for_update(user_id)
    if user is None:
        raise UserNotFound
    return user


async def list_audit(
    uow: UnitOfWork,
    *,
    page: PageParams,
    actor_id: uuid.UUID | None,
    action: str | None,
    target_id: str | None,
    since: datetime | None,
    before: datetime | None,
) -> tuple[Sequence[AuditRecord], int]:
    """The audit trail, newest first, filtered."""
    stmt = select(AuditRecord).order_by(AuditRecord.at.desc(), AuditRecord.id.desc())
    for column, value in (
        (AuditRecord.actor_id, actor_id),
        (AuditRecord.action, action),
        (AuditRecord.target_id, target_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if since is not None:
        stmt = stmt.where(AuditRecord.at >= since)
    if before is not None:
        stmt = stmt.where(AuditRecord.at < before)
    return await uow.users.page(stmt, limit=page.limit, offset=page.offset)
