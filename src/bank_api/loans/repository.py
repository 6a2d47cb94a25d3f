from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Select, not_, select

from bank_api.common.principal import Principal
from bank_api.common.repository import Repository
from bank_api.loans.filters import LoanFilters
from bank_api.loans.overdue import is_overdue
from bank_api.models import Loan, LoanEvent, LoanProduct, Role


class LoanProductRepository(Repository[LoanProduct]):
    model = LoanProduct

    async def by_code(self, code: str) -> LoanProduct | None:
        return await self.session.get(LoanProduct, code)

    async def by_code_for_update(self, code: str) -> LoanProduct | None:
        stmt = select(LoanProduct).where(LoanProduct.code == code).with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def listing(self, *, active_only: bool) -> Sequence[LoanProduct]:
        stmt = select(LoanProduct).order_by(LoanProduct.code)
        if active_only:
            stmt = stmt.where(LoanProduct.is_active.is_(True))
        return (await self.session.execute(stmt)).scalars().all()


class LoanRepository(Repository[Loan]):
    model = Loan

    @staticmethod
    def readable_by(stmt: Select[Any], actor: Principal) -> Select[Any]:
        """Ownership is part of the query: a customer only ever sees their own loans."""
        if actor.role == Role.customer:
            return stmt.where(Loan.customer_id == actor.id)
        return stmt

    async def visible(
        self, loan_id: uuid.UUID, actor: Principal, *, lock: bool = False
    ) -> Loan | None:
        stmt = self.readable_by(select(Loan).where(Loan.id == loan_id), actor)
        if lock:
            stmt = stmt.with_for_update()
        loan: Loan | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return loan

    async def list_page(
        self, actor: Principal, filters: LoanFilters, *, today: date, limit: int, offset: int
    ) -> tuple[Sequence[Loan], int]:
        stmt = self.readable_by(select(Loan), actor)
        if filters.overdue is not None:
            overdue = is_overdue(today)
            stmt = stmt.where(overdue if filters.overdue else not_(overdue))
        equal = {
            Loan.status: filters.status,
            Loan.loan_type: filters.loan_type,
            Loan.customer_id: filters.customer_id,
            Loan.agent_id: filters.agent_id,
        }
        for column, value in equal.items():
            if value is not None:
                stmt = stmt.where(column == value)
        ranges = (
            (Loan.created_at, filters.created_from, filters.created_before),
            (Loan.updated_at, filters.updated_from, filters.updated_before),
        )
        for column, low, high in ranges:
            if low is not None:
                stmt = stmt.where(column >= low)
            if high is not None:
                stmt = stmt.where(column < high)
        stmt = stmt.order_by(Loan.created_at.desc(), Loan.id.desc())
        return await self.page(stmt, limit=limit, offset=offset)


class LoanEventRepository(Repository[LoanEvent]):
    model = LoanEvent

    async def for_loan(self, loan_id: uuid.UUID) -> Sequence[LoanEvent]:
        stmt = select(LoanEvent).where(LoanEvent.loan_id == loan_id).order_by(LoanEvent.id)
        return (await self.session.execute(stmt)).scalars().all()
