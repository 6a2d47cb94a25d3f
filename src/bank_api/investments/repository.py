from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select

from bank_api.common.repository import Repository
from bank_api.models import InvestorAccount

# Key of the advisory lock that serializes approvals (any constant shared by all workers).
ALLOCATION_QUEUE_LOCK = 0x62616E6B  # "bank"


class InvestorAccountRepository(Repository[InvestorAccount]):
    model = InvestorAccount

    async def for_investor(self, investor_id: uuid.UUID, *, lock: bool = False) -> InvestorAccount:
        stmt = select(InvestorAccount).where(InvestorAccount.investor_id == investor_id)
        if lock:
            stmt = stmt.with_for_update()
        account: InvestorAccount = (await self.session.execute(stmt)).scalar_one()
        return account

    async def lock_allocation_queue(self) -> None:
        """Hold the allocation queue until commit (PostgreSQL: a transaction advisory lock).

        Every approval funds the loan from the head of the same queue, so approvals already
        wait on each other's row locks; taking turns explicitly means each one reads the queue
        after the previous one committed, instead of allocating from a stale read, finding the
        money gone once its locks are granted, and allocating again until it gives up. SQLite
        runs one writer at a time anyway."""
        if self.session.get_bind().dialect.name == "postgresql":
            await self.session.execute(select(func.pg_advisory_xact_lock(ALLOCATION_QUEUE_LOCK)))

    async def lock_in_order(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        """Row-lock these investors' balances in id order; their `available` by id.

        Every transaction that changes several investors' balances takes this lock first, in
        the same order, so two of them never wait on each other in a cycle (a set-based
        UPDATE alone locks rows in whatever order its join plan visits them)."""
        stmt = (
            select(InvestorAccount.investor_id, InvestorAccount.available)
            .where(InvestorAccount.investor_id.in_(sorted(ids)))
            .order_by(InvestorAccount.investor_id)
            .with_for_update()
        )
        return {row[0]: row[1] for row in await self.session.execute(stmt)}

    async def all(self) -> Sequence[InvestorAccount]:
        return (await self.session.execute(select(InvestorAccount))).scalars().all()
