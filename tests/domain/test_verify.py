from __future__ import annotations

from datetime import date

from bank_api.domain.ledger import (
    EXTERNAL,
    available,
    balances,
    deposit_entry,
    disbursement_entry,
    invested,
    payment_entry,
    receivable,
)
from bank_api.domain.verify import (
    CheckResult,
    HoldingDue,
    InvestorFigures,
    LoanFacts,
    PaymentFacts,
    check_investor_balances,
    check_journal,
    check_lines_have_entries,
    check_loans,
    check_payments,
    check_portfolio_figures,
    check_stored_balances,
    result,
)

ENTRIES = [
    deposit_entry(1, 600_00),
    deposit_entry(2, 400_00),
    disbursement_entry("L", [(1, 600_00), (2, 400_00)]),
    payment_entry("L", 100_00, 8_00, [(1, 60_00, 4_80), (2, 40_00, 3_20)]),
]
LINES = [(n, line) for n, entry in enumerate(ENTRIES) for line in entry.lines]
BOOK = balances(line for _, line in LINES)
GOOD_LOAN = LoanFacts(
    loan_id="L",
    amount=1_000_00,
    allocations=(600_00, 400_00),
    schedule_principals=(500_00, 500_00),
    principal_repaid=100_00,
    written_off=0,
    investor_outstanding=(540_00, 360_00),
    receivable_balance=BOOK[receivable("L")],
)
GOOD_PAYMENT = PaymentFacts("P1", 108_00, 100_00, 8_00, (60_00, 40_00), (4_80, 3_20))


def _names(results: tuple[CheckResult, ...]) -> dict[str, bool]:
    return {r.name: r.ok for r in results}


def test_a_consistent_ledger_passes_every_check() -> None:
    checks = (
        *check_journal((n, line.amount) for n, line in LINES),
        check_stored_balances(dict(BOOK), BOOK),
        check_investor_balances(BOOK),
        *check_loans([GOOD_LOAN]),
        *check_payments([GOOD_PAYMENT]),
    )
    assert all(c.ok for c in checks), checks
    assert len({c.name for c in checks}) == 10
    assert BOOK[invested(1)] == 540_00
    assert BOOK[available(1)] == 64_80


def test_unbalanced_entries_are_reported() -> None:
    lines = [(1, -100), (1, 100), (2, -5), (2, 4)]
    entries, total = check_journal(lines)
    assert entries == CheckResult("entries_balance", False, "1 entries failing, e.g. 2")
    assert total == CheckResult("accounts_sum_to_zero", False, "1 totals failing, e.g. -1")


def test_lines_without_their_entry_are_reported() -> None:
    assert check_lines_have_entries([]) == CheckResult(
        "lines_belong_to_entries", True, "all entry ids of lines ok"
    )
    assert check_lines_have_entries([7, 9]) == CheckResult(
        "lines_belong_to_entries", False, "2 entry ids of lines failing, e.g. 7, 9"
    )


def test_stored_balances_must_match_the_replay() -> None:
    stored = dict(BOOK)
    stored[available(1)] += 1
    stored[available(99)] = 0  # a zero balance without lines is fine
    del stored[EXTERNAL]
    check = check_stored_balances(stored, BOOK)
    assert not check.ok
    assert check.detail.startswith("2 accounts failing")


def test_negative_investor_balances_are_reported() -> None:
    check = check_investor_balances({available(1): -1, invested(2): 5, EXTERNAL: -4})
    assert check == CheckResult(
        "investor_balances_non_negative",
        False,
        "1 investor accounts failing, e.g. "
        "Account(kind=<AccountKind.INVESTOR_AVAILABLE: 'investor_available'>, owner=1)",
    )


def test_loan_checks_name_the_broken_loans() -> None:
    bad_allocation = LoanFacts("A", 100, (50, 49), (100,), 0, 0, (50, 50), -100)
    bad_schedule = LoanFacts("S", 100, (100,), (99,), 0, 0, (100,), -100)
    bad_receivable = LoanFacts("R", 100, (100,), (100,), 10, 0, (90,), -100)
    bad_investors = LoanFacts("I", 100, (100,), (100,), 10, 5, (80,), -85)
    due, later = date(2026, 1, 5), date(2026, 2, 5)
    stale = LoanFacts("D", 100, (100,), (100,), 0, 0, (100,), -100, due, later)
    forgotten = LoanFacts("F", 100, (100,), (100,), 0, 0, (100,), -100, None, due)
    settled = LoanFacts("P", 100, (100,), (100,), 100, 0, (0,), 0, None, None)
    broken = [bad_allocation, bad_schedule, bad_receivable, bad_investors, stale, forgotten]
    results = check_loans([GOOD_LOAN, *broken, settled])
    assert [(r.name, r.ok, r.detail) for r in results] == [
        ("loan_allocations_sum_to_amount", False, "1 loans failing, e.g. 'A'"),
        ("loan_schedule_principals_sum_to_amount", False, "1 loans failing, e.g. 'S'"),
        ("loan_outstanding_consistent", False, "2 loans failing, e.g. 'R', 'I'"),
        ("loan_oldest_unpaid_due_matches_schedule", False, "2 loans failing, e.g. 'D', 'F'"),
    ]


def test_payment_checks_name_the_broken_payments() -> None:
    wrong_sum = PaymentFacts("X", 100, 60, 39, (60,), (39,))
    wrong_shares = PaymentFacts("Y", 100, 60, 40, (59,), (40,))
    wrong_interest = PaymentFacts("Z", 100, 60, 40, (60,), (41,))
    results = check_payments([GOOD_PAYMENT, wrong_sum, wrong_shares, wrong_interest])
    assert _names(results) == {
        "payment_parts_add_up": False,
        "payment_investor_parts_add_up": False,
    }
    assert results[1].detail == "2 payments failing, e.g. 'Y', 'Z'"


def test_portfolio_figure_checks_name_the_stale_investors_and_holdings() -> None:
    """The figures the writes keep: each account's active holdings and fees, and each holding's
    copy of its loan's oldest unpaid due date (None unless the loan is active)."""
    due, later = date(2026, 1, 5), date(2026, 2, 5)
    investors = [
        InvestorFigures("ok", 2, 150, 2, 150),
        InvestorFigures("count", 3, 150, 2, 150),
        InvestorFigures("fees", 2, 149, 2, 150),
    ]
    holdings = [
        HoldingDue("current", due, True, due),
        HoldingDue("closed", None, False, None),
        HoldingDue("written off", None, False, due),  # the loan keeps its date, the holding not
        HoldingDue("stale", due, True, later),
        HoldingDue("not cleared", due, False, due),
        HoldingDue("never set", None, True, due),
    ]
    results = check_portfolio_figures(investors, holdings)
    assert [(r.name, r.ok, r.detail) for r in results] == [
        ("investor_figures_match_holdings", False, "2 investors failing, e.g. 'count', 'fees'"),
        (
            "holding_unpaid_due_matches_loan",
            False,
            "3 holdings failing, e.g. 'stale', 'not cleared', 'never set'",
        ),
    ]
    assert all(r.ok for r in check_portfolio_figures(investors[:1], holdings[:3]))


def test_details_show_at_most_five_offenders() -> None:
    check = result("x", list(range(8)), "things")
    assert check.detail == "8 things failing, e.g. 0, 1, 2, 3, 4"
    assert result("x", [], "things") == CheckResult("x", True, "all things ok")
