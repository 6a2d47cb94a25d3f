"""Unit of work: the request's session plus its repositories. The only place that commits.

Services call `await uow.commit()` once, before the router returns, so a failed commit is an
error response and never a 201 that did not happen. Leaving without committing rolls back.
"""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession

from bank_api.auth.repository import LoginFailureRepository
from bank_api.loans.repository import LoanEventRepository, LoanProductRepository, LoanRepository
from bank_api.users.repository import UserRepository


class UnitOfWork:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.users = UserRepository(session)
        self.login_failures = LoginFailureRepository(session)
        self.products = LoanProductRepository(session)
        self.loans = LoanRepository(session)
        self.loan_events = LoanEventRepository(session)

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()

    async def __aenter__(self) -> UnitOfWork:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.session.rollback()
