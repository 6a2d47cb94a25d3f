"""Write-off: an active loan 90+ days past due stops being expected to pay; its remaining
principal is lost by its investors, each exactly their own outstanding part."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import BigInteger, Uuid, select

from bank_api.common.bulk import update_from_values
from bank_api.common.money import format_cents
from bank_api.common.principal import Principal
from bank_api.common.types import utcnow
from bank_api.domain import ledger
from bank_api.domain.delinquency import NPL_DAYS_PAST_DUE
from bank_api.domain.distribution import Holding, write_off_losses
from bank_api.errors import LoanNotWritableOff
from bank_api.loans.overdue import days_past_due
from bank_api.loans.service import changes_between, locked_loan, record_event, snapshot
from bank_api.models import Allocation, InvestorAccount, Loan, LoanEventKind, LoanStatus
from bank_api.uow import UnitOfWork


async def write_off_loan(
    uow: UnitOfWork, *, actor: Principal, loan_id: uuid.UUID, today: date
) -> Loan:
    loan = await locked_loan(uow, loan_id, actor)
    late = (await days_past_due(uow.session, [loan.id], today)).get(loan.id, 0)
    if loan.status != LoanStatus.active or late < NPL_DAYS_PAST_DUE:
        raise LoanNotWritableOff
    rows = await uow.session.execute(
        select(
            Allocation.investor_id,
            Allocation.amount,
            Allocation.principal_received,
            Allocation.interest_received,
        )
        .where(Allocation.loan_id == loan.id)
        .order_by(Allocation.investor_id)
        .with_for_update()
    )
    losses = [
        (loss.investor_id, loss.amount)
        for loss in write_off_losses([Holding(r[0], r[1], r[2], r[3]) for r in rows])
        if loss.amount
    ]
    columns = [("investor_id", Uuid()), ("loss", BigInteger())]
    await update_from_values(
        uow.session,
        Allocation,
        columns,
        losses,
        lambda v: (Allocation.loan_id == loan.id) & (Allocation.investor_id == v.c.investor_id),
        lambda v: {"loss": Allocation.loss + v.c.loss},
    )
    await uow.investors.lock_in_order([investor for investor, _ in losses])
    await update_from_values(
        uow.session,
        InvestorAccount,
        columns,
        losses,
        lambda v: InvestorAccount.investor_id == v.c.investor_id,
        lambda v: {
            "invested": InvestorAccount.invested - v.c.loss,
            "losses": InvestorAccount.losses + v.c.loss,
            "updated_at": utcnow(),
        },
    )
    if losses:
        await uow.ledger.post(ledger.write_off_entry(loan.id, losses), loan_id=loan.id)
    before = snapshot(loan)
    loan.status, loan.outstanding_principal, loan.updated_at = (LoanStatus.written_off, 0, utcnow())
    record_event(
        uow,
        loan,
        actor,
        LoanEventKind.written_off,
        changes_between(before, snapshot(loan)),
        f"{late} days past due; {format_cents(sum(a for _, a in losses))} lost",
    )
    await uow.commit(loan)
    return loan
