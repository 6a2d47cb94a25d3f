"""The whole-database reads `ledger verify` recomputes the invariants from (docs/CONTRACT.md
§4): each one statement over every row of its kind, none of them used by a request's own
work. The use case (`ledger.service.verify_ledger`) reads them in one snapshot and hands
them to the pure checks (`domain.verify`)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import date
from typing import Any

from sqlalchemy import case, func, select

from bank_api.common.repository import Repository
from bank_api.models import (
    AccountKind,
    Allocation,
    JournalEntry,
    JournalLine,
    Loan,
    LoanEvent,
    LoanStatus,
    Payment,
    Purpose,
)


class LedgerFactsRepository(Repository[Loan]):
    model = Loan

    async def outstanding(self, statuses: Collection[LoanStatus]) -> list[tuple[uuid.UUID, int]]:
        """`(loan id, outstanding principal)` of every loan in `statuses`."""
        stmt = select(Loan.id, Loan.outstanding_principal).where(Loan.status.in_(statuses))
        return [(loan_id, outstanding) for loan_id, outstanding in await self.session.execute(stmt)]

    async def loans(
        self, statuses: Collection[LoanStatus]
    ) -> list[tuple[uuid.UUID, int, date | None]]:
        """`(loan id, amount, stored oldest unpaid due date)` of every loan in `statuses`."""
        stmt = select(Loan.id, Loan.amount, Loan.oldest_unpaid_due).where(Loan.status.in_(statuses))
        return [(loan_id, amount, due) for loan_id, amount, due in await self.session.execute(stmt)]

    async def statuses(self) -> list[tuple[uuid.UUID, LoanStatus]]:
        """Every loan's stored status."""
        stmt = select(Loan.id, Loan.status)
        return [(loan_id, status) for loan_id, status in await self.session.execute(stmt)]

    async def status_changes(self) -> list[tuple[uuid.UUID, dict[str, Any] | None]]:
        """Every history event's loan and changes, in the order they were recorded."""
        stmt = select(LoanEvent.loan_id, LoanEvent.changes).order_by(LoanEvent.id)
        return [(loan_id, changes) for loan_id, changes in await self.session.execute(stmt)]

    async def holding_figures(self) -> dict[uuid.UUID, tuple[int, int]]:
        """Per investor with holdings: how many are in active loans, and the servicing fees
        taken from their interest."""
        active = func.count(case((Loan.status == LoanStatus.active, 1)))
        stmt = (
            select(Allocation.investor_id, active, func.sum(Allocation.fee))
            .join(Loan, Loan.id == Allocation.loan_id)
            .group_by(Allocation.investor_id)
        )
        return {
            investor_id: (int(count), int(fees))
            for investor_id, count, fees in await self.session.execute(stmt)
        }

    async def holding_dues(
        self,
    ) -> list[tuple[uuid.UUID, uuid.UUID, date | None, LoanStatus, date | None]]:
        """Every holding's `(loan, investor, its stored oldest unpaid due date)` beside its
        loan's status and stored date."""
        stmt = (
            select(Allocation.loan_id, Allocation.investor_id, Allocation.oldest_unpaid_due)
            .add_columns(Loan.status, Loan.oldest_unpaid_due)
            .join(Loan, Loan.id == Allocation.loan_id)
        )
        rows = await self.session.execute(stmt)
        return [(loan, investor, own, status, due) for loan, investor, own, status, due in rows]

    async def holdings_by_loan(self) -> dict[uuid.UUID, list[tuple[int, int, int]]]:
        """Per loan: each holding's `(amount, principal received, loss)`."""
        stmt = select(
            Allocation.loan_id, Allocation.amount, Allocation.principal_received, Allocation.loss
        )
        grouped: dict[uuid.UUID, list[tuple[int, int, int]]] = defaultdict(list)
        for loan_id, amount, received, loss in await self.session.execute(stmt):
            grouped[loan_id].append((amount, received, loss))
        return grouped

    async def payments(self) -> Sequence[Payment]:
        return (await self.session.execute(select(Payment))).scalars().all()

    async def payment_shares(self) -> dict[uuid.UUID | None, dict[Purpose, list[int]]]:
        """Per payment: the amounts of its lines on the investors' available accounts and on
        the platform's revenue, by purpose."""
        stmt = (
            select(JournalEntry.payment_id, JournalLine.purpose, JournalLine.amount)
            .join(JournalLine, JournalLine.entry_id == JournalEntry.id)
            .where(
                JournalEntry.payment_id.is_not(None),
                JournalLine.account_kind.in_(
                    [AccountKind.INVESTOR_AVAILABLE, AccountKind.PLATFORM_REVENUE]
                ),
            )
        )
        shares: dict[uuid.UUID | None, dict[Purpose, list[int]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for payment_id, purpose, amount in await self.session.execute(stmt):
            shares[payment_id][purpose].append(amount)
        return shares
