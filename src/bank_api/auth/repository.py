from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select

from bank_api.common.bulk import is_postgres
from bank_api.common.repository import Repository
from bank_api.models import LoginFailure, ThrottleScope


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
