"""Write-off: an active loan 90+ days past due stops being expected to pay; its remaining
principal is lost by its investors, each exactly their own outstanding part.

One transaction in lock order: the loan, its holdings; then, in one round trip
(`UnitOfWork.write`), the loan, its history event and the audit record, the holdings' losses,
the journal entry and last the investors' balances (locked in id order), as a payment does."""

from __future__ import annotations

import uuid
from datetime import date

from bank_api import audit
from bank_api.common.money import format_cents
from bank_api.common.principal import Principal
from bank_api.config import Settings
from bank_api.domain import ledger
from bank_api.domain.delinquency import is_npl
from bank_api.domain.distribution import write_off_losses
from bank_api.errors import LoanNotWritableOff
from bank_api.investments.repository import Balances
from bank_api.loans import four_eyes, history
from bank_api.loans.approval import Decision
from bank_api.loans.lifecycle import can_become, visible_loan
from bank_api.loans.overdue import loan_days_past_due
from bank_api.models import LoanEventKind, LoanStatus
from bank_api.uow import UnitOfWork


async def write_off_loan(
    uow: UnitOfWork, *, actor: Principal, loan_id: uuid.UUID, today: date, settings: Settings
) -> Decision:
    loan = await visible_loan(uow, actor, loan_id, lock=True)
    late = loan_days_past_due(loan.status, loan.oldest_unpaid_due, today)
    if not can_become(loan, LoanStatus.written_off) or not is_npl(late):
        raise LoanNotWritableOff
    needs_two = four_eyes.required(settings, loan, write_off=True)
    if needs_two and not four_eyes.sign_off(uow, loan, actor, "write-off"):
        return Decision(loan, executed=False)
    holdings = await uow.allocations.holdings(loan.id, lock=True)
    lost_by = {loss.investor_id: loss.amount for loss in write_off_losses(holdings)}
    every_holder = [(h.investor_id, lost_by.get(h.investor_id, 0)) for h in holdings]
    losses = [(investor, amount) for investor, amount in every_holder if amount]
    lost = format_cents(sum(amount for _, amount in losses))
    written_off = history.change_written(
        loan,
        actor,
        LoanEventKind.written_off,
        f"{late} days past due; {lost} lost",
        status=LoanStatus.written_off,
        outstanding_principal=0,
        sign_offs=None,  # four-eyes sign-offs are spent by the decision they were for
    )
    booked = ledger.write_off_entry(loan.id, losses) if losses else None
    await uow.write(
        uow.loans.update(loan.id, written_off.values),
        uow.loan_events.new(written_off.event),
        audit.written(actor, "loan.write_off", "loan", loan.id, written_off.changes),
        uow.allocations.lost(loan.id, every_holder),
        *([uow.ledger.entry(booked, value_date=today, loan_id=loan.id)] if booked else []),
        uow.investors.changes(  # last: the most contended rows
            [
                Balances(investor, invested=-amount, losses=amount, active_allocations=-1)
                for investor, amount in every_holder
            ]
        ),
    )
    return Decision(loan, executed=True)
