from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bank_api.domain.errors import InvalidAmount, InvalidInput, Overpayment
from bank_api.domain.money import MAX_AMOUNT_CENTS
from bank_api.domain.payments import (
    AppliedPart,
    Paid,
    apply_payment,
    is_settled,
    outstanding_principal,
    remaining_due,
)
from bank_api.domain.schedule import Installment, Schedule, build_schedule
from tests.domain.strategies import PROPERTY, schedules

HOME_LOAN = build_schedule(1_000_000, 690, 12, dt.date(2024, 1, 31)).installments
NOTHING_PAID = [Paid()] * 12


def test_payment_spanning_three_installments() -> None:
    # Two full installments (864.81 each) and 100.00 of the third: 48.19 interest, 51.81 principal.
    result = apply_payment(HOME_LOAN, NOTHING_PAID, 2 * 86481 + 100_00)
    assert result.applied == (
        AppliedPart(1, 80731, 5750),
        AppliedPart(2, 81195, 5286),
        AppliedPart(3, 5181, 4819),
    )
    assert (result.principal, result.interest) == (80731 + 81195 + 5181, 5750 + 5286 + 4819)
    assert result.paid_after[:4] == (Paid(80731, 5750), Paid(81195, 5286), Paid(5181, 4819), Paid())
    assert not result.fully_repaid


def test_interest_comes_before_principal_within_an_installment() -> None:
    paid = [Paid(0, 20_00), *NOTHING_PAID[1:]]
    result = apply_payment(HOME_LOAN, paid, 50_00)
    assert result.applied == (AppliedPart(1, 12_50, 37_50),)


def test_settled_installments_are_skipped() -> None:
    paid = [Paid(80731, 5750), *NOTHING_PAID[1:]]
    result = apply_payment(HOME_LOAN, paid, 1_00)
    assert result.applied == (AppliedPart(2, 0, 1_00),)


def test_exact_remaining_amount_repays_the_loan_in_full() -> None:
    paid = [Paid(80731, 5750), *NOTHING_PAID[1:]]
    remaining = remaining_due(HOME_LOAN, paid)
    assert remaining == 1_037_767 - 86481
    result = apply_payment(HOME_LOAN, paid, remaining)
    assert result.fully_repaid
    assert result.principal == outstanding_principal(HOME_LOAN, paid) == 1_000_000 - 80731
    assert all(is_settled(i, p) for i, p in zip(HOME_LOAN, result.paid_after, strict=True))


def test_overpayment_is_refused_with_what_remains() -> None:
    with pytest.raises(Overpayment) as caught:
        apply_payment(HOME_LOAN, NOTHING_PAID, 1_037_768)
    assert (caught.value.requested, caught.value.remaining) == (1_037_768, 1_037_767)


def test_any_payment_on_a_repaid_schedule_is_an_overpayment() -> None:
    paid = [Paid(i.principal, i.interest) for i in HOME_LOAN]
    with pytest.raises(Overpayment) as caught:
        apply_payment(HOME_LOAN, paid, 1)
    assert caught.value.remaining == 0


@pytest.mark.parametrize("amount", [0, -5])
def test_non_positive_payment_is_refused(amount: int) -> None:
    with pytest.raises(InvalidAmount):
        apply_payment(HOME_LOAN, NOTHING_PAID, amount)


@pytest.mark.parametrize(
    "paid",
    [
        [Paid()] * 11,
        [Paid(80732, 0), *[Paid()] * 11],
        [Paid(0, 5751), *[Paid()] * 11],
        [Paid(-1, 0), *[Paid()] * 11],
        [Paid(0, -1), *[Paid()] * 11],
    ],
)
def test_paid_amounts_must_fit_the_schedule(paid: list[Paid]) -> None:
    with pytest.raises(InvalidInput):
        apply_payment(HOME_LOAN, paid, 100)


@given(schedules(max_term=48), st.data())
@PROPERTY
def test_paying_in_pieces_applies_oldest_first_and_ends_repaid(
    schedule: Schedule, data: st.DataObject
) -> None:
    installments: tuple[Installment, ...] = schedule.installments
    paid = [Paid()] * len(installments)
    total = 0
    while (remaining := remaining_due(installments, paid)) > 0:
        amount = data.draw(st.integers(1, min(remaining, MAX_AMOUNT_CENTS)))
        result = apply_payment(installments, paid, amount)
        assert result.principal + result.interest == amount
        assert sum(a.principal + a.interest for a in result.applied) == amount
        assert all(a.principal >= 0 and a.interest >= 0 for a in result.applied)
        last = result.applied[-1].number
        # Everything before the last installment touched is now settled.
        for installment, done in zip(installments[: last - 1], result.paid_after, strict=False):
            assert is_settled(installment, done)
        assert result.fully_repaid == (amount == remaining)
        paid = list(result.paid_after)
        total += amount
    assert total == schedule.total_payable
    assert outstanding_principal(installments, paid) == 0
