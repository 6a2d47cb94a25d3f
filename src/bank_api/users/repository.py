from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bank_api.common.repository import Repository
from bank_api.models import BusinessDate, Role, User, UserStatus
from bank_api.models.base import table_of


class Caller(NamedTuple):
    """A token's user as one read finds it, with the stored business date beside it."""

    id: uuid.UUID
    username: str
    role: Role
    status: UserStatus
    tokens_valid_after: datetime
    email: str
    full_name: str
    phone: str | None
    address: str | None
    created_at: datetime
    updated_at: datetime
    stored_business_date: date | None


_USERS = table_of(User)
_STORED_DATE = (
    select(table_of(BusinessDate).c.value).where(table_of(BusinessDate).c.id == 1).scalar_subquery()
)
# Built once: the statement's cache key is computed once, not on every request.
_CALLER = select(*(_USERS.c[name] for name in Caller._fields[:-1]), _STORED_DATE).where(
    _USERS.c.id == bindparam("user_id")
)


async def read_caller(connection: AsyncConnection, user_id: uuid.UUID) -> Caller | None:
    """Everything a request needs to know about its caller, and the business date, in one
    primary-key read (no ORM, no transaction)."""
    row = (await connection.execute(_CALLER, {"user_id": user_id})).first()
    return None if row is None else Caller._make(row)


class UserRepository(Repository[User]):
    model = User

    async def by_username(self, username: str) -> User | None:
        stmt = select(User).where(User.username_key == username.lower())
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def taken(
        self, *, username: str | None, email: str | None, exclude: Any = None
    ) -> tuple[bool, bool]:
        """(username taken, email taken), case-insensitively, ignoring user `exclude`."""
        conditions = []
        if username is not None:
            conditions.append(User.username_key == username.lower())
        if email is not None:
            conditions.append(User.email_key == email.lower())
        if not conditions:
            return False, False
        stmt = select(User.username_key, User.email_key).where(or_(*conditions))
        if exclude is not None:
            stmt = stmt.where(User.id != exclude)
        rows = (await self.session.execute(stmt)).all()
        return (
            username is not None and any(r.username_key == username.lower() for r in rows),
            email is not None and any(r.email_key == email.lower() for r in rows),
        )

    async def admin_exists(self) -> bool:
        stmt = select(User.id).where(User.role == Role.admin).limit(1)
        return (await self.session.execute(stmt)).first() is not None

    def listing(self, *, role: Role | None = None, status: UserStatus | None = None) -> Select[Any]:
        stmt = select(User).order_by(User.created_at.desc(), User.id.desc())
        if role is not None:
            stmt = stmt.where(User.role == role)
        if status is not None:
            stmt = stmt.where(User.status == status)
        return stmt

    async def list_page(
        self, *, limit: int, offset: int, role: Role | None = None, status: UserStatus | None = None
    ) -> tuple[Sequence[User], int]:
        return await self.page(self.listing(role=role, status=status), limit=limit, offset=offset)
