"""The ledger invariants (docs/CONTRACT.md §4) as pure checks over plain data (no I/O).

The caller (``/admin/ledger/verify``, ``bank-api ledger verify``, the tests) loads the facts and
gets back one :class:`CheckResult` per invariant, each naming up to five offenders.

1. ``entries_balance``, ``accounts_sum_to_zero``: :func:`check_journal`;
   ``lines_belong_to_entries``: :func:`check_lines_have_entries`;
2. ``stored_balances_match_journal``: :func:`check_stored_balances`;
3. ``investor_balances_non_negative``: :func:`check_investor_balances`;
4. ``loan_allocations_sum_to_amount``, ``loan_schedule_principals_sum_to_amount``,
   ``loan_outstanding_consistent``: :func:`check_loans`;
5. ``payment_parts_add_up``, ``payment_investor_parts_add_up``: :func:`check_payments`;
7. ``loan_oldest_unpaid_due_matches_schedule`` (the stored figure every overdue figure reads):
   :func:`check_loans`;
8. ``investor_figures_match_holdings`` (the portfolio figures the writes keep on the account)
   and ``holding_unpaid_due_matches_loan`` (the loan's date each holding keeps for the
   overdue figures): :func:`check_portfolio_figures`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from bank_api.domain.ledger import INVESTOR_ACCOUNTS, Account

_EXAMPLES = 5


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class LoanFacts:
    """What invariant 4 needs to know about one disbursed loan."""

    loan_id: Hashable
    amount: int
    allocations: Sequence[int]
    schedule_principals: Sequence[int]
    principal_repaid: int
    written_off: int
    investor_outstanding: Sequence[int]
    receivable_balance: int
    """Balance of ``loan_receivable[loan]``: ``-outstanding`` when all is well."""
    oldest_unpaid_due: dt.date | None = None
    """As stored on the loan."""
    schedule_oldest_unpaid_due: dt.date | None = None
    """As the loan's installments say (the due date of the first one not fully paid)."""


@dataclass(frozen=True, slots=True)
class PaymentFacts:
    """What invariant 5 needs to know about one payment."""

    payment_id: Hashable
    amount: int
    principal: int
    interest: int
    investor_principal: Sequence[int]
    investor_interest: Sequence[int]
    """Net of the fee."""
    fee: int = 0
    """As stored on the payment."""
    platform_fees: Sequence[int] = ()
    """The payment's lines into ``platform_revenue`` (one per investor whose share paid fee)."""


@dataclass(frozen=True, slots=True)
class InvestorFigures:
    """What invariant 8 needs to know about one investor: the figures stored on the account and
    the same figures recomputed from the holdings."""

    investor_id: Hashable
    active_allocations: int
    fees: int
    holdings_in_active_loans: int
    holdings_fees: int


@dataclass(frozen=True, slots=True)
class HoldingDue:
    """One holding's stored copy of its loan's oldest unpaid due date, beside the loan's."""

    holding: Hashable
    stored: dt.date | None
    loan_active: bool
    loan_oldest_unpaid_due: dt.date | None


def result(name: str, offenders: Sequence[object], what: str) -> CheckResult:
    """``ok`` when there are no offenders; the detail counts them and shows a few."""
    if not offenders:
        return CheckResult(name, True, f"all {what} ok")
    shown = ", ".join(repr(o) for o in offenders[:_EXAMPLES])
    return CheckResult(name, False, f"{len(offenders)} {what} failing, e.g. {shown}")


def check_journal(lines: Iterable[tuple[Hashable, int]]) -> tuple[CheckResult, CheckResult]:
    """Invariant 1 over ``(entry_id, signed amount)`` pairs: every entry sums to zero, and so
    does everything (hence all account balances together)."""
    sums: dict[Hashable, int] = {}
    for entry_id, amount in lines:
        sums[entry_id] = sums.get(entry_id, 0) + amount
    unbalanced = [entry_id for entry_id, total in sums.items() if total != 0]
    grand_total = sum(sums.values())
    overall = [] if grand_total == 0 else [grand_total]
    return (
        result("entries_balance", unbalanced, "entries"),
        result("accounts_sum_to_zero", overall, "totals"),
    )


def check_lines_have_entries(missing_entries: Sequence[Hashable]) -> CheckResult:
    """Invariant 1: every line belongs to an entry (``missing_entries``: the entry ids that
    lines name and no entry has; the database keeps no foreign key for it)."""
    return result("lines_belong_to_entries", missing_entries, "entry ids of lines")


def check_stored_balances(
    stored: Mapping[Account, int], replayed: Mapping[Account, int]
) -> CheckResult:
    """Invariant 2: every stored balance equals the replay of its lines (missing counts as 0)."""
    accounts = sorted(set(stored) | set(replayed), key=repr)
    wrong = [a for a in accounts if stored.get(a, 0) != replayed.get(a, 0)]
    return result("stored_balances_match_journal", wrong, "accounts")


def check_investor_balances(balances: Mapping[Account, int]) -> CheckResult:
    """Invariant 3: no investor's available or invested balance is negative."""
    negative = [a for a, b in balances.items() if a.kind in INVESTOR_ACCOUNTS and b < 0]
    return result("investor_balances_non_negative", negative, "investor accounts")


def check_loans(loans: Iterable[LoanFacts]) -> tuple[CheckResult, ...]:
    """Invariant 4: allocations and schedule principals sum to the amount, and
    ``amount - repaid - written off == Σ investors' outstanding == -loan_receivable``; and 7:
    the stored oldest unpaid due date is the schedule's."""
    facts = list(loans)
    allocation = [f.loan_id for f in facts if sum(f.allocations) != f.amount]
    schedule = [f.loan_id for f in facts if sum(f.schedule_principals) != f.amount]
    outstanding = [f.loan_id for f in facts if not _outstanding_agrees(f)]
    unpaid = [f.loan_id for f in facts if f.oldest_unpaid_due != f.schedule_oldest_unpaid_due]
    return (
        result("loan_allocations_sum_to_amount", allocation, "loans"),
        result("loan_schedule_principals_sum_to_amount", schedule, "loans"),
        result("loan_outstanding_consistent", outstanding, "loans"),
        result("loan_oldest_unpaid_due_matches_schedule", unpaid, "loans"),
    )


def check_payments(payments: Iterable[PaymentFacts]) -> tuple[CheckResult, ...]:
    """Invariant 5: ``principal + interest == amount``, and the investors' parts add up to
    the payment's principal and, with the platform's fee, to its interest, exactly (the fee
    lines adding up to the payment's fee)."""
    facts = list(payments)
    parts = [f.payment_id for f in facts if f.principal + f.interest != f.amount]
    shares = [
        f.payment_id
        for f in facts
        if sum(f.investor_principal) != f.principal
        or sum(f.investor_interest) + f.fee != f.interest
        or sum(f.platform_fees) != f.fee
    ]
    return (
        result("payment_parts_add_up", parts, "payments"),
        result("payment_investor_parts_add_up", shares, "payments"),
    )


def check_portfolio_figures(
    investors: Iterable[InvestorFigures], holdings: Iterable[HoldingDue]
) -> tuple[CheckResult, CheckResult]:
    """Invariant 8: each account's active holdings and fees equal their recomputation, and each
    holding keeps its loan's oldest unpaid due date while the loan is active, None otherwise."""
    figures = [
        f.investor_id
        for f in investors
        if (f.active_allocations, f.fees) != (f.holdings_in_active_loans, f.holdings_fees)
    ]
    dues = [
        h.holding
        for h in holdings
        if h.stored != (h.loan_oldest_unpaid_due if h.loan_active else None)
    ]
    return (
        result("investor_figures_match_holdings", figures, "investors"),
        result("holding_unpaid_due_matches_loan", dues, "holdings"),
    )


def _outstanding_agrees(facts: LoanFacts) -> bool:
    outstanding = facts.amount - facts.principal_repaid - facts.written_off
    return outstanding == sum(facts.investor_outstanding) == -facts.receivable_balance
