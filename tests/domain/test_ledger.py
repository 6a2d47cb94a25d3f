from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bank_api.domain.allocation import allocate
from bank_api.domain.distribution import Holding, distribute_payment, write_off_losses
from bank_api.domain.errors import InvalidAmount, InvalidInput, UnbalancedEntry
from bank_api.domain.ledger import (
    EXTERNAL,
    Account,
    AccountKind,
    Entry,
    EntryKind,
    Line,
    Purpose,
    available,
    balances,
    deposit_entry,
    disbursement_entry,
    invested,
    payment_entry,
    receivable,
    revenue,
    spread,
    transfer,
    withdrawal_entry,
    write_off_entry,
)
from bank_api.domain.payments import Paid, apply_payment, outstanding_principal
from bank_api.domain.schedule import build_schedule
from tests.domain.strategies import PROPERTY

EXT = AccountKind.EXTERNAL
AVL = AccountKind.INVESTOR_AVAILABLE
INV = AccountKind.INVESTOR_INVESTED
REC = AccountKind.LOAN_RECEIVABLE
REV = AccountKind.PLATFORM_REVENUE


def _lines(entry: Entry) -> list[tuple[AccountKind, object, int, Purpose]]:
    return [(ln.kind, ln.owner, ln.amount, ln.purpose) for ln in entry.lines]


def test_deposit_moves_money_from_external_to_available() -> None:
    entry = deposit_entry(7, 100_00)
    assert entry.kind is EntryKind.DEPOSIT
    assert _lines(entry) == [
        (EXT, None, -100_00, Purpose.DEPOSIT),
        (AVL, 7, 100_00, Purpose.DEPOSIT),
    ]


def test_withdrawal_moves_money_from_available_to_external() -> None:
    entry = withdrawal_entry(7, 40_00)
    assert _lines(entry) == [
        (AVL, 7, -40_00, Purpose.WITHDRAWAL),
        (EXT, None, 40_00, Purpose.WITHDRAWAL),
    ]


def test_disbursement_invests_each_part_and_pays_the_borrower_out() -> None:
    entry = disbursement_entry("L1", [(1, 60_00), (2, 40_00)])
    assert _lines(entry) == [
        (AVL, 1, -60_00, Purpose.ALLOCATION),
        (INV, 1, 60_00, Purpose.ALLOCATION),
        (AVL, 2, -40_00, Purpose.ALLOCATION),
        (INV, 2, 40_00, Purpose.ALLOCATION),
        (REC, "L1", -100_00, Purpose.PAYOUT),
        (EXT, None, 100_00, Purpose.PAYOUT),
    ]
    assert balances(entry.lines)[receivable("L1")] == -100_00


def test_payment_returns_principal_and_pays_interest_leaving_out_zero_lines() -> None:
    entry = payment_entry("L1", 10_00, 1_00, [(1, 6_00, 1_00), (2, 4_00, 0)])
    assert _lines(entry) == [
        (EXT, None, -10_00, Purpose.PRINCIPAL_REPAYMENT),
        (REC, "L1", 10_00, Purpose.PRINCIPAL_REPAYMENT),
        (INV, 1, -6_00, Purpose.PRINCIPAL_REPAYMENT),
        (AVL, 1, 6_00, Purpose.PRINCIPAL_REPAYMENT),
        (INV, 2, -4_00, Purpose.PRINCIPAL_REPAYMENT),
        (AVL, 2, 4_00, Purpose.PRINCIPAL_REPAYMENT),
        (EXT, None, -1_00, Purpose.INTEREST),
        (AVL, 1, 1_00, Purpose.INTEREST),
    ]


def test_interest_and_fees_each_leave_external_in_one_line() -> None:
    entry = payment_entry(
        "L1", 10_00, 3_00, [(1, 6_00, 1_50), (2, 4_00, 90), (3, 0, 0)], [(1, 40), (2, 20)]
    )
    assert _lines(entry) == [
        (EXT, None, -10_00, Purpose.PRINCIPAL_REPAYMENT),
        (REC, "L1", 10_00, Purpose.PRINCIPAL_REPAYMENT),
        (INV, 1, -6_00, Purpose.PRINCIPAL_REPAYMENT),
        (AVL, 1, 6_00, Purpose.PRINCIPAL_REPAYMENT),
        (INV, 2, -4_00, Purpose.PRINCIPAL_REPAYMENT),
        (AVL, 2, 4_00, Purpose.PRINCIPAL_REPAYMENT),
        (EXT, None, -2_40, Purpose.INTEREST),
        (AVL, 1, 1_50, Purpose.INTEREST),
        (AVL, 2, 90, Purpose.INTEREST),
        (EXT, None, -60, Purpose.FEE),
        (REV, 1, 40, Purpose.FEE),
        (REV, 2, 20, Purpose.FEE),
    ]


def test_spread_leaves_out_zero_parts_and_refuses_negative_ones() -> None:
    assert spread(EXTERNAL, [(available(1), 0)], Purpose.INTEREST) == ()
    assert spread(EXTERNAL, [], Purpose.FEE) == ()
    with pytest.raises(InvalidInput):
        spread(EXTERNAL, [(available(1), 5), (available(2), -1)], Purpose.INTEREST)


def test_payment_parts_must_add_up() -> None:
    with pytest.raises(InvalidInput):
        payment_entry("L1", 10_00, 1_00, [(1, 6_00, 1_00), (2, 3_99, 0)])
    with pytest.raises(InvalidInput):
        payment_entry("L1", 10_00, 1_00, [(1, 6_00, 99), (2, 4_00, 0)])
    with pytest.raises(InvalidAmount):
        payment_entry("L1", 0, 0, [])


def test_write_off_moves_the_remaining_principal_off_the_investors() -> None:
    entry = write_off_entry("L1", [(1, 54_00), (2, 36_00)])
    assert _lines(entry) == [
        (INV, 1, -54_00, Purpose.WRITE_OFF),
        (REC, "L1", 54_00, Purpose.WRITE_OFF),
        (INV, 2, -36_00, Purpose.WRITE_OFF),
        (REC, "L1", 36_00, Purpose.WRITE_OFF),
    ]


@pytest.mark.parametrize(
    "build",
    [
        lambda: deposit_entry(1, 0),
        lambda: withdrawal_entry(1, -5),
        lambda: disbursement_entry("L", [(1, 0), (2, 5)]),
        lambda: disbursement_entry("L", []),
        lambda: write_off_entry("L", []),
    ],
)
def test_builders_refuse_empty_or_non_positive_amounts(build: object) -> None:
    with pytest.raises(InvalidAmount):
        build()  # type: ignore[operator]


def test_negative_write_off_part_is_refused() -> None:
    with pytest.raises(InvalidInput):
        write_off_entry("L", [(1, 10), (2, -5)])


def test_transfer_of_nothing_emits_no_lines() -> None:
    assert transfer(EXTERNAL, available(1), 0, Purpose.DEPOSIT) == ()


def test_unbalanced_entry_cannot_exist() -> None:
    with pytest.raises(UnbalancedEntry) as caught:
        Entry(
            EntryKind.DEPOSIT,
            (Line(EXT, None, -100, Purpose.DEPOSIT), Line(AVL, 1, 99, Purpose.DEPOSIT)),
        )
    assert caught.value.total == -1


def test_accounts_and_lines() -> None:
    assert Line(INV, 3, 5, Purpose.ALLOCATION).account == invested(3) == Account(INV, 3)
    assert Account(EXT, None) == EXTERNAL


def test_lifecycle_keeps_every_balance_consistent() -> None:
    entries = [
        deposit_entry("a", 1_000_00),
        deposit_entry("b", 1_000_00),
        deposit_entry("s", 10_00),
    ]
    allocation = allocate(1_000_00, [("s", 10_00), ("a", 1_000_00), ("b", 1_000_00)])
    parts = [(p.investor_id, p.amount) for p in allocation.parts]
    entries.append(disbursement_entry("L", parts))
    schedule = build_schedule(1_000_00, 1075, 6, dt.date(2024, 1, 31))
    paid = [Paid()] * 6
    holdings = [Holding(i, a) for i, a in parts]
    for amount in (schedule.monthly_payment, 300_00):
        applied = apply_payment(schedule.installments, paid, amount)
        shares = distribute_payment(holdings, applied.principal, applied.interest)
        entries.append(
            payment_entry(
                "L",
                applied.principal,
                applied.interest,
                [(s.investor_id, s.principal, s.interest) for s in shares],
            )
        )
        paid = list(applied.paid_after)
        holdings = [
            Holding(
                h.investor_id,
                h.allocated,
                h.principal_received + s.principal,
                h.interest_received + s.interest,
            )
            for h, s in zip(holdings, shares, strict=True)
        ]
    losses = write_off_losses(holdings)
    entries.append(write_off_entry("L", [(x.investor_id, x.amount) for x in losses]))
    book = balances(line for entry in entries for line in entry.lines)
    assert sum(book.values()) == 0
    assert book[receivable("L")] == 0
    assert all(book[invested(i)] == 0 for i in ("a", "b", "s"))
    interest = sum(h.interest_received for h in holdings)
    lost = sum(x.amount for x in losses)
    assert lost == outstanding_principal(schedule.installments, paid) > 0
    investors_total = sum(book[available(i)] for i in ("a", "b", "s"))
    assert investors_total == 2_010_00 + interest - lost
    assert book[EXTERNAL] == -investors_total


@given(
    st.lists(st.integers(1, 10**6), min_size=1, max_size=6),
    st.lists(st.integers(1, 10**6), min_size=1, max_size=5),
    st.data(),
)
@PROPERTY
def test_random_movements_balance(
    deposits: list[int], loans: list[int], data: st.DataObject
) -> None:
    entries = [deposit_entry(i, amount) for i, amount in enumerate(deposits)]
    book = balances(line for entry in entries for line in entry.lines)
    for loan_id, amount in enumerate(loans):
        cash = [(i, book.get(available(i), 0)) for i in range(len(deposits))]
        candidates = [(i, c) for i, c in cash if c > 0]
        if sum(c for _, c in candidates) < amount:
            continue
        parts = [(p.investor_id, p.amount) for p in allocate(amount, candidates).parts]
        holdings = [Holding(i, a) for i, a in parts]
        principal = data.draw(st.integers(1, amount))
        shares = distribute_payment(holdings, principal, data.draw(st.integers(0, 10**4)))
        interest = sum(s.interest for s in shares)
        entries.append(disbursement_entry(("loan", loan_id), parts))
        if principal + interest:
            triples = [(s.investor_id, s.principal, s.interest) for s in shares]
            entries.append(payment_entry(("loan", loan_id), principal, interest, triples))
        book = balances(line for entry in entries for line in entry.lines)
        assert book[receivable(("loan", loan_id))] == -(amount - principal)
    assert all(sum(line.amount for line in entry.lines) == 0 for entry in entries)
    assert sum(book.values()) == 0
    assert all(b >= 0 for account, b in book.items() if account.kind in (AVL, INV))


def test_a_payment_with_a_fee_credits_the_platform_for_each_investors_share() -> None:
    entry = payment_entry("L1", 10_00, 1_00, [(1, 6_00, 54), (2, 4_00, 36)], [(1, 6), (2, 4)])
    moved = balances(entry.lines)
    assert moved[revenue(1)] == 6
    assert moved[revenue(2)] == 4
    assert moved[available(1)] == 6_54
    assert moved[EXTERNAL] == -11_00
    assert {line.purpose for line in entry.lines if line.kind is AccountKind.PLATFORM_REVENUE} == {
        Purpose.FEE
    }
    with pytest.raises(InvalidInput):
        payment_entry("L1", 10_00, 1_00, [(1, 6_00, 54), (2, 4_00, 36)], [(1, 6)])
