from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select

from bank_api.common.repository import Repository
from bank_api.models import InvestorAccount


class InvestorAccountRepository(Repository[InvestorAccount]):
    model = InvestorAccount

    async def for_investor(self, investor_id: uuid.UUID, *, lock: bool = False) -> InvestorAccount:
        stmt = select(InvestorAccount).where(InvestorAccount.investor_id == investor_id)
        if lock:
            stmt = stmt.with_for_update()
        account: InvestorAccount = (await self.session.execute(stmt)).scalar_one()
        return account

    async def all(self) -> Sequence[InvestorAccount]:
        return (await self.session.execute(select(InvestorAccount))).scalars().all()
