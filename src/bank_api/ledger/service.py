"""`ledger verify`: every ledger invariant (docs/CONTRACT.md §4) over the whole database."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from bank_api.domain import ledger as domain
from bank_api.domain import verify
from bank_api.domain.delinquency import oldest_unpaid_due
from bank_api.loans.lifecycle import DISBURSED, TRANSITIONS
from bank_api.models import InvestorAccount, LoanStatus, Purpose
from bank_api.uow import UnitOfWork


def _account(kind: Any, owner: uuid.UUID | None) -> domain.Account:
    return domain.Account(kind, owner)


async def verify_ledger(uow: UnitOfWork) -> list[verify.CheckResult]:
    """Every check reads one snapshot (`UnitOfWork.read_one_snapshot`), so writes committing
    meanwhile cannot make consistent data look broken. The session must not have begun yet
    (authentication reads outside it)."""
    await uow.read_one_snapshot()
    replayed = {
        _account(kind, owner): total
        for (kind, owner), total in (await uow.ledger.account_balances()).items()
    }
    accounts = await uow.investors.all()
    holdings = await uow.ledger_facts.holding_figures()
    stored = await _stored_balances(uow, accounts, holdings)
    checks = [
        *verify.check_journal(await uow.ledger.entry_sums()),
        verify.check_lines_have_entries(await uow.ledger.missing_entries()),
        verify.check_stored_balances(
            stored,
            {
                account: total
                for account, total in replayed.items()
                if account.kind != domain.AccountKind.EXTERNAL
            },
        ),
        # a negative balance on either side counts
        verify.check_investor_balances(
            {a: min(replayed.get(a, 0), stored.get(a, 0)) for a in replayed.keys() | stored}
        ),
        *verify.check_loans(await _loan_facts(uow, replayed)),
        *verify.check_payments(await _payment_facts(uow)),
        await _transitions(uow),
        *verify.check_portfolio_figures(
            _investor_figures(accounts, holdings), await _holding_dues(uow)
        ),
    ]
    return checks


async def _stored_balances(
    uow: UnitOfWork,
    accounts: Sequence[InvestorAccount],
    holdings: dict[uuid.UUID, tuple[int, int]],
) -> dict[domain.Account, int]:
    stored: dict[domain.Account, int] = {}
    for account in accounts:
        stored[domain.available(account.investor_id)] = account.available
        stored[domain.invested(account.investor_id)] = account.invested
    for loan_id, outstanding in await uow.ledger_facts.outstanding(DISBURSED):
        stored[domain.receivable(loan_id)] = -outstanding
    # The platform's revenue from each investor's interest: the fees taken from their holdings.
    for investor_id, (_, fees) in holdings.items():
        if fees:
            stored[domain.revenue(investor_id)] = fees
    return stored


def _investor_figures(
    accounts: Sequence[InvestorAccount], holdings: dict[uuid.UUID, tuple[int, int]]
) -> list[verify.InvestorFigures]:
    """Each account's stored figures beside their recomputation from its holdings."""
    return [
        verify.InvestorFigures(
            a.investor_id, a.active_allocations, a.fees, *holdings.get(a.investor_id, (0, 0))
        )
        for a in accounts
    ]


async def _holding_dues(uow: UnitOfWork) -> list[verify.HoldingDue]:
    rows = await uow.ledger_facts.holding_dues()
    return [
        verify.HoldingDue((loan_id, investor_id), stored, status == LoanStatus.active, due)
        for loan_id, investor_id, stored, status, due in rows
    ]


async def _loan_facts(
    uow: UnitOfWork, replayed: dict[domain.Account, int]
) -> list[verify.LoanFacts]:
    allocations = await uow.ledger_facts.holdings_by_loan()
    schedules = await uow.installments.schedules()
    facts = []
    for loan_id, amount, unpaid in await uow.ledger_facts.loans(DISBURSED):
        parts = allocations.get(loan_id, [])
        schedule = schedules.get(loan_id, [])
        planned, paid = [p for p, _ in schedule], [paid for _, paid in schedule]
        facts.append(
            verify.LoanFacts(
                loan_id=loan_id,
                amount=amount,
                allocations=[a for a, _, _ in parts],
                schedule_principals=[p.principal for p in planned],
                principal_repaid=sum(p.principal for p in paid),
                written_off=sum(loss for _, _, loss in parts),
                investor_outstanding=[a - r - loss for a, r, loss in parts],
                receivable_balance=replayed.get(domain.receivable(loan_id), 0),
                oldest_unpaid_due=unpaid,
                schedule_oldest_unpaid_due=oldest_unpaid_due(planned, paid),
            )
        )
    return facts


async def _payment_facts(uow: UnitOfWork) -> list[verify.PaymentFacts]:
    shares = await uow.ledger_facts.payment_shares()
    return [
        verify.PaymentFacts(
            payment_id=p.id,
            amount=p.amount,
            principal=p.principal,
            interest=p.interest,
            investor_principal=shares[p.id][Purpose.PRINCIPAL_REPAYMENT],
            investor_interest=shares[p.id][Purpose.INTEREST],
            fee=p.fee,
            platform_fees=shares[p.id][Purpose.FEE],
        )
        for p in await uow.ledger_facts.payments()
    ]


async def _transitions(uow: UnitOfWork) -> verify.CheckResult:
    """Invariant 6: every recorded status change is an allowed transition, the changes chain,
    and each loan's status is where its history leads."""
    history: dict[uuid.UUID, list[tuple[str, str]]] = defaultdict(list)
    for loan_id, changes in await uow.ledger_facts.status_changes():
        change = (changes or {}).get("status")
        if change and change.get("from") is not None:
            history[loan_id].append((change["from"], change["to"]))
    wrong = []
    for loan_id, status in await uow.ledger_facts.statuses():
        current = LoanStatus.new.value
        for before, after in history.get(loan_id, []):
            if before != current or (LoanStatus(before), LoanStatus(after)) not in TRANSITIONS:
                wrong.append(loan_id)
                break
            current = after
        else:
            if current != status.value:
                wrong.append(loan_id)
    return verify.result("loan_status_transitions", wrong, "loans")
