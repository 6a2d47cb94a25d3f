"""The loan's status machine, once: which status changes exist and which loans an actor may
act on. The use cases check against it and `ledger verify` replays every loan's history
against it (invariant 6)."""

from __future__ import annotations

import uuid

from bank_api.common.principal import Principal
from bank_api.errors import LoanNotFound
from bank_api.models import Loan, LoanStatus
from bank_api.uow import UnitOfWork

S = LoanStatus
# Every allowed status change, and the only ones.
TRANSITIONS = frozenset(
    {
        (S.new, S.requested),  # an agent forwards it
        (S.new, S.active),  # an admin approves it
        (S.requested, S.active),
        (S.new, S.rejected),  # an admin rejects it
        (S.requested, S.rejected),
        (S.active, S.closed),  # the last installment is paid
        (S.active, S.written_off),  # an admin writes it off
    }
)
# Before approval the terms may still change.
EDITABLE = frozenset({S.new, S.requested})
DISBURSED = frozenset({S.active, S.closed, S.written_off})


def can_become(loan: Loan, status: LoanStatus) -> bool:
    return (loan.status, status) in TRANSITIONS


async def visible_loan(
    uow: UnitOfWork, actor: Principal, loan_id: uuid.UUID, *, lock: bool = False
) -> Loan:
    """The loan as `actor` may see it (a customer only their own; 404 otherwise); with `lock`,
    row-locked until commit, so no decision can slip in between check and write."""
    loan = await uow.loans.visible(loan_id, actor, lock=lock)
    if loan is None:
        raise LoanNotFound
    return loan
