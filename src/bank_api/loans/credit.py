"""Reads of an approved loan: its stored schedule with what is paid, and who funded it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from bank_api.common.principal import Principal
from bank_api.domain.delinquency import installment_status
from bank_api.domain.payments import Paid
from bank_api.domain.schedule import Installment as Planned
from bank_api.errors import LoanNotFound
from bank_api.loans.lifecycle import visible_loan
from bank_api.loans.repository import LoanTerms
from bank_api.models import Allocation, Loan, LoanStatus
from bank_api.uow import UnitOfWork


async def schedule_with_status(
    uow: UnitOfWork, *, actor: Principal, loan_id: uuid.UUID, today: date
) -> tuple[LoanTerms, list[tuple[Planned, Paid, str]]]:
    """The loan's terms (404 if `actor` may not see it) and its stored schedule, each
    installment with what is paid and its status on `today` (none before approval)."""
    found = await uow.loans.visible_schedule(loan_id, actor)
    if found is None:
        raise LoanNotFound
    loan, rows = found
    ended = {"written_off": loan.status == LoanStatus.written_off}
    ended["closed"] = loan.status == LoanStatus.closed
    return loan, [(p, paid, installment_status(p, paid, today, **ended).value) for p, paid in rows]


async def allocations(
    uow: UnitOfWork, *, actor: Principal, loan_id: uuid.UUID
) -> tuple[Loan, Sequence[Allocation]]:
    loan = await visible_loan(uow, actor, loan_id)
    return loan, await uow.allocations.for_loan(loan.id)
