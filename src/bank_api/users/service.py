"""The caller's own account, and the customer directory for staff."""

from __future__ import annotations

from collections.abc import Sequence

from bank_api.auth import sessions
from bank_api.auth.service import commit_unique, ensure_available
from bank_api.common.principal import Principal
from bank_api.common.schemas import PageParams
from bank_api.common.types import utcnow
from bank_api.errors import InvalidCurrentPassword, NotAuthenticated
from bank_api.models import Role, User
from bank_api.security import PasswordHasher
from bank_api.uow import UnitOfWork
from bank_api.users.schemas import PasswordChange, UserUpdate


async def get_me(uow: UnitOfWork, *, actor: Principal) -> User:
    user = await uow.users.get(actor.id)
    if user is None:  # deleted between authentication and now
        raise NotAuthenticated
    return user


async def update_me(uow: UnitOfWork, *, actor: Principal, data: UserUpdate) -> User:
    user = await get_me(uow, actor=actor)
    changes = data.model_dump(exclude_unset=True)
    username = changes.pop("username", None)
    email = changes.pop("email", None)
    await ensure_available(uow, username=username, email=email, exclude=user.id)
    if username is not None:
        user.set_username(username)
    if email is not None:
        user.set_email(email)
    for field, value in changes.items():
        setattr(user, field, value)
    user.updated_at = utcnow()
    await commit_unique(uow, username=username, email=email, exclude=user.id)
    return user


async def change_password(
    uow: UnitOfWork, hasher: PasswordHasher, *, actor: Principal, data: PasswordChange
) -> None:
    """Verify the current password, store the new hash, revoke every earlier token (and every
    refresh token).

    No transaction is held open while argon2 runs.
    """
    current_hash = (await get_me(uow, actor=actor)).password_hash
    await uow.rollback()
    matches, _ = await hasher.verify(data.current_password, current_hash)
    if not matches:
        raise InvalidCurrentPassword
    new_hash = await hasher.hash(data.new_password)
    user = await uow.users.get_for_update(actor.id)
    if user is None or user.password_hash != current_hash:
        raise NotAuthenticated  # deleted or changed concurrently: make the caller log in again
    user.password_hash = new_hash
    user.tokens_valid_after = user.updated_at = utcnow()
    await sessions.revoke_user(uow, user.id)
    await uow.commit()


async def list_customers(uow: UnitOfWork, *, page: PageParams) -> tuple[Sequence[User], int]:
    return await uow.users.list_page(limit=page.limit, offset=page.offset, role=Role.customer)
