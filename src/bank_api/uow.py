"""Unit of work: the request's session, its repositories, their writes sent together, commit,
rollback and savepoints.

A route is one transaction: it calls one use case, builds its response, and commits (for an
idempotent route, `Idempotency.commit` stores the response with the key and then commits).
Use cases never commit; leaving without a commit rolls everything back.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bank_api.admin.repository import ReportRepository
from bank_api.auth.repository import LoginFailureRepository, RefreshTokenRepository
from bank_api.common.bulk import Write, write, write_one
from bank_api.investments.repository import InvestorAccountRepository
from bank_api.ledger.facts import LedgerFactsRepository
from bank_api.ledger.repository import LedgerRepository
from bank_api.loans.repository import (
    AllocationRepository,
    InstallmentRepository,
    LoanEventRepository,
    LoanProductRepository,
    LoanRepository,
    PaymentRepository,
)
from bank_api.users.repository import UserRepository

_SAVEPOINT = text("SAVEPOINT attempt")
_BACK_TO_SAVEPOINT = text("ROLLBACK TO SAVEPOINT attempt")


class Savepoint:
    """A point inside the transaction to come back to, with every lock taken since given back
    (row locks and the allocation queue's advisory lock alike). Written as plain SQL, outside
    the session's bookkeeping, for statements that bypass the ORM (Core writes): the commit
    ends it with the transaction, so a successful attempt sends no RELEASE."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def rollback(self) -> None:
        """Undo everything since the savepoint; it stays set for another attempt."""
        await self.session.execute(_BACK_TO_SAVEPOINT)


class UnitOfWork:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.users = UserRepository(session)
        self.login_failures = LoginFailureRepository(session)
        self.refresh_tokens = RefreshTokenRepository(session)
        self.products = LoanProductRepository(session)
        self.loans = LoanRepository(session)
        self.loan_events = LoanEventRepository(session)
        self.installments = InstallmentRepository(session)
        self.allocations = AllocationRepository(session)
        self.payments = PaymentRepository(session)
        self.investors = InvestorAccountRepository(session)
        self.ledger = LedgerRepository(session)
        self.ledger_facts = LedgerFactsRepository(session)
        self.reports = ReportRepository(session)

    async def write(self, *writes: Write) -> Sequence[Any]:
        """Send the repositories' `writes` of one step of a use case, in order and on
        PostgreSQL in one round trip; the rows the last one returns (`bulk.write`)."""
        return await write(self.session, *writes)

    async def write_one(self, *writes: Write) -> Sequence[Any] | None:
        """Send `writes` that each return one row (or none), on PostgreSQL in one round trip:
        their rows side by side, or None when one returned none (`bulk.write_one`)."""
        return await write_one(self.session, *writes)

    async def read_one_snapshot(self) -> None:
        """Make every statement of this unit of work read the same snapshot (PostgreSQL:
        REPEATABLE READ), before its first statement. A session joined to a transaction it did
        not open (bound to a connection, not the engine) cannot choose an isolation level and
        reads inside that transaction; SQLite's transaction is one snapshot already."""
        bind = self.session.bind
        if isinstance(bind, AsyncEngine) and bind.dialect.name == "postgresql":
            await self.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()

    async def savepoint(self) -> Savepoint:
        await self.session.flush()  # nothing of the ORM's may be pending across it
        await self.session.execute(_SAVEPOINT)
        return Savepoint(self.session)

    async def __aenter__(self) -> UnitOfWork:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.session.rollback()
