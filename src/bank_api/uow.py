"""Unit of work: the request's session plus its repositories. The only place that commits.

Services call `await uow.commit()` once, before the router returns, so a failed commit is an
error response and never a 201 that did not happen. Leaving without committing rolls back.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bank_api.auth.repository import LoginFailureRepository
from bank_api.idempotency import Reservation, complete
from bank_api.investments.repository import InvestorAccountRepository
from bank_api.ledger.repository import LedgerRepository
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
        self.investors = InvestorAccountRepository(session)
        self.ledger = LedgerRepository(session)
        # Set for an idempotent request: the response is rendered from the use case's result
        # and stored with the key in the same transaction as the money movement.
        self.reservation: Reservation | None = None
        self.render: Callable[[Any], Any] | None = None
        self.status_code = 201

    async def commit(self, result: Any = None) -> None:
        """Commit; for an idempotent request, record its response first (same transaction)."""
        if self.reservation is not None and self.render is not None:
            await complete(self.session, self.reservation, self.status_code, self.render(result))
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
