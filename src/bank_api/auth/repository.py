from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, select, update

from bank_api.common.bulk import is_postgres
from bank_api.common.repository import Repository
from bank_api.models import LoginFailure, RefreshToken, ThrottleScope


class LoginFailureRepository(Repository[LoginFailure]):
    model = LoginFailure

    async def lock(self, scope: ThrottleScope, key: str) -> None:
        """Take turns on this key until commit, so counting its attempts and recording a new
        one is atomic (PostgreSQL: a transaction advisory lock on the key's hash; SQLite runs
        one writing transaction at a time already)."""
        if is_postgres(self.session):
            name = f"login:{scope.value}:{key}"
            await self.session.execute(
                select(func.pg_advisory_xact_lock(func.hashtextextended(name, 0)))
            )

    async def window(
        self, scope: ThrottleScope, key: str, since: datetime
    ) -> tuple[int, datetime | None]:
        """(failures since `since`, the oldest of them)."""
        stmt = select(func.count(), func.min(LoginFailure.at)).where(
            LoginFailure.scope == scope, LoginFailure.key == key, LoginFailure.at >= since
        )
        count, oldest = (await self.session.execute(stmt)).one()
        return count, oldest

    async def record(self, scope: ThrottleScope, key: str, at: datetime) -> int:
        """Record an attempt; its id."""
        attempt = LoginFailure(scope=scope, key=key, at=at)
        self.add(attempt)
        await self.session.flush()
        return attempt.id

    async def forget(self, ids: list[int]) -> None:
        await self.session.execute(delete(LoginFailure).where(LoginFailure.id.in_(ids)))

    async def clear(self, scope: ThrottleScope, key: str) -> None:
        await self.session.execute(
            delete(LoginFailure).where(LoginFailure.scope == scope, LoginFailure.key == key)
        )

    async def prune(self, scope: ThrottleScope, key: str, before: datetime) -> None:
        """Forget this key's failures that have left the window."""
        await self.session.execute(
            delete(LoginFailure).where(
                LoginFailure.scope == scope, LoginFailure.key == key, LoginFailure.at < before
            )
        )


class RefreshTokenRepository(Repository[RefreshToken]):
    """Refresh tokens by the hash of their value (the value itself is never stored)."""

    model = RefreshToken

    async def owner(self, token_hash: str) -> uuid.UUID | None:
        stmt = select(RefreshToken.user_id).where(RefreshToken.token_hash == token_hash)
        return await self.session.scalar(stmt)

    async def spent_family(self, token_hash: str) -> uuid.UUID | None:
        """The token's family, if the token was spent (None if it was not, or is unknown)."""
        stmt = select(RefreshToken.family_id).where(
            RefreshToken.token_hash == token_hash, RefreshToken.spent_at.is_not(None)
        )
        return await self.session.scalar(stmt)

    async def spend(self, token_hash: str, now: datetime) -> tuple[uuid.UUID, datetime] | None:
        """Spend the token if it is live (not spent, not revoked, not expired): its family and
        when it was issued, or None. One conditional UPDATE, so of two racing spends one wins."""
        stmt = (
            update(RefreshToken)
            .where(
                RefreshToken.token_hash == token_hash,
                RefreshToken.spent_at.is_(None),
                RefreshToken.revoked_at.is_(None),
                RefreshToken.expires_at > now,
            )
            .values(spent_at=now)
            .returning(RefreshToken.family_id, RefreshToken.created_at)
        )
        row = (await self.session.execute(stmt)).first()
        return None if row is None else (row[0], row[1])

    async def revoke_family(self, family_id: uuid.UUID, now: datetime) -> None:
        await self._revoke(RefreshToken.family_id == family_id, now)

    async def revoke_family_of(self, token_hash: str, now: datetime) -> None:
        """Revoke the family of the token (of an unknown token, nothing)."""
        family = select(RefreshToken.family_id).where(RefreshToken.token_hash == token_hash)
        await self._revoke(RefreshToken.family_id == family.scalar_subquery(), now)

    async def revoke_user(self, user_id: uuid.UUID, now: datetime) -> None:
        await self._revoke(RefreshToken.user_id == user_id, now)

    async def _revoke(self, which: ColumnElement[bool], now: datetime) -> None:
        await self.session.execute(
            update(RefreshToken)
            .where(which, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
