from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select

from bank_api.common.repository import Repository
from bank_api.models import LoginFailure, ThrottleScope


class LoginFailureRepository(Repository[LoginFailure]):
    model = LoginFailure

    async def window(
        self, scope: ThrottleScope, key: str, since: datetime
    ) -> tuple[int, datetime | None]:
        """(failures since `since`, the oldest of them)."""
        stmt = select(func.count(), func.min(LoginFailure.at)).where(
            LoginFailure.scope == scope, LoginFailure.key == key, LoginFailure.at >= since
        )
        count, oldest = (await self.session.execute(stmt)).one()
        return count, oldest

    def record(self, scope: ThrottleScope, key: str, at: datetime) -> None:
        self.add(LoginFailure(scope=scope, key=key, at=at))

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
