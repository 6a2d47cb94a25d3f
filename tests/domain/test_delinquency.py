from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bank_api.domain.delinquency import (
    NPL_DAYS_PAST_DUE,
    Delinquency,
    InstallmentStatus,
    bucket,
    days_past_due,
    delinquency,
    installment_status,
    is_npl,
    oldest_unpaid_due,
)
from bank_api.domain.errors import InvalidInput
from bank_api.domain.payments import Paid, is_settled
from bank_api.domain.schedule import Installment, Schedule, build_schedule
from tests.domain.strategies import PROPERTY, dates, schedules

D = dt.date
DUE = Installment(1, D(2024, 3, 31), 110, 100, 10)
LOAN = build_schedule(300_00, 1200, 3, D(2024, 1, 31)).installments  # due Feb 29, Mar 31, Apr 30


@pytest.mark.parametrize(
    ("paid", "business_date", "expected"),
    [
        (Paid(100, 10), D(2024, 5, 1), InstallmentStatus.PAID),
        (Paid(100, 10), D(2024, 1, 1), InstallmentStatus.PAID),
        (Paid(), D(2024, 4, 1), InstallmentStatus.OVERDUE),
        (Paid(0, 10), D(2024, 4, 1), InstallmentStatus.OVERDUE),
        (Paid(), D(2024, 3, 31), InstallmentStatus.PENDING),  # due today is not yet overdue
        (Paid(0, 5), D(2024, 3, 31), InstallmentStatus.PARTIAL),
        (Paid(50, 0), D(2024, 3, 1), InstallmentStatus.PARTIAL),
        (Paid(), D(2024, 3, 1), InstallmentStatus.PENDING),
    ],
)
def test_installment_status(
    paid: Paid, business_date: dt.date, expected: InstallmentStatus
) -> None:
    assert installment_status(DUE, paid, business_date) is expected


@pytest.mark.parametrize(
    ("paid", "expected"),
    [
        (Paid(100, 10), InstallmentStatus.PAID),  # what was paid stays paid
        (Paid(), InstallmentStatus.WRITTEN_OFF),
        (Paid(0, 10), InstallmentStatus.WRITTEN_OFF),
    ],
)
@pytest.mark.parametrize("business_date", [D(2024, 1, 1), D(2024, 4, 1), D(2030, 1, 1)])
def test_a_written_off_loans_unpaid_installments_are_written_off_whatever_the_date(
    paid: Paid, expected: InstallmentStatus, business_date: dt.date
) -> None:
    assert installment_status(DUE, paid, business_date, written_off=True) is expected


def test_nothing_overdue_means_zero_days_past_due() -> None:
    assert delinquency(LOAN, [Paid()] * 3, D(2024, 2, 29)) == Delinquency((), 0, False, 0, 0)


def test_days_past_due_count_from_the_oldest_overdue_installment() -> None:
    first, second, _ = LOAN
    paid = [Paid(0, first.interest), Paid(), Paid()]
    result = delinquency(LOAN, paid, D(2024, 4, 10))
    assert result.overdue_numbers == (1, 2)
    assert result.days_past_due == 41  # Feb 29 -> Apr 10
    assert not result.is_npl
    assert result.overdue_principal == first.principal + second.principal
    assert result.overdue_interest == second.interest


@pytest.mark.parametrize(("days", "is_npl"), [(89, False), (90, True), (91, True)])
def test_npl_from_ninety_days_past_due(days: int, is_npl: bool) -> None:
    business_date = D(2024, 2, 29) + dt.timedelta(days=days)
    paid = [Paid(i.principal, i.interest) for i in LOAN[:1]] + [Paid(), Paid()]
    # installment 1 is paid, so the clock starts at installment 2 (Mar 31)
    result = delinquency(LOAN, paid, business_date + dt.timedelta(days=31))
    assert result.days_past_due == days
    assert result.is_npl is is_npl
    assert NPL_DAYS_PAST_DUE == 90


def test_paid_amounts_must_match_the_schedule() -> None:
    with pytest.raises(InvalidInput):
        delinquency(LOAN, [Paid()], D(2024, 1, 1))


@given(schedules(max_term=36), dates, st.data())
@PROPERTY
def test_delinquency_follows_the_definition(
    schedule: Schedule, business_date: dt.date, data: st.DataObject
) -> None:
    paid = [
        Paid(data.draw(st.integers(0, i.principal)), data.draw(st.integers(0, i.interest)))
        for i in schedule.installments
    ]
    result = delinquency(schedule.installments, paid, business_date)
    overdue = [
        i
        for i, p in zip(schedule.installments, paid, strict=True)
        if i.due_date < business_date and not is_settled(i, p)
    ]
    assert result.overdue_numbers == tuple(i.number for i in overdue)
    expected_days = (business_date - overdue[0].due_date).days if overdue else 0
    assert result.days_past_due == expected_days >= 0
    assert result.is_npl == (expected_days >= 90)
    assert result.overdue_principal >= 0
    assert result.overdue_interest >= 0


def test_the_oldest_unpaid_due_date_moves_with_the_payments() -> None:
    first, second, _ = LOAN
    assert oldest_unpaid_due(LOAN, [Paid()] * 3) == first.due_date
    partly = [Paid(first.principal, first.interest), Paid(0, second.interest), Paid()]
    assert oldest_unpaid_due(LOAN, partly) == second.due_date
    assert oldest_unpaid_due(LOAN, [Paid(i.principal, i.interest) for i in LOAN]) is None
    with pytest.raises(InvalidInput):
        oldest_unpaid_due(LOAN, [Paid()])


@pytest.mark.parametrize(
    ("unpaid", "today", "days"),
    [
        (None, D(2024, 5, 1), 0),  # everything paid
        (D(2024, 5, 1), D(2024, 5, 1), 0),  # due today is not yet late
        (D(2024, 5, 1), D(2024, 4, 1), 0),  # not yet due
        (D(2024, 2, 29), D(2024, 4, 10), 41),
    ],
)
def test_days_past_due_from_the_oldest_unpaid_due_date(
    unpaid: dt.date | None, today: dt.date, days: int
) -> None:
    assert days_past_due(unpaid, today) == days
    assert is_npl(days) is (days >= NPL_DAYS_PAST_DUE)


@given(schedules(max_term=36), dates, st.data())
@PROPERTY
def test_the_stored_date_gives_the_same_days_past_due_as_the_schedule(
    schedule: Schedule, business_date: dt.date, data: st.DataObject
) -> None:
    """Paid oldest first (as every payment is), the one stored date tells what the whole
    schedule tells."""
    installments = schedule.installments
    settled = data.draw(st.integers(0, len(installments)))
    paid = [Paid(i.principal, i.interest) for i in installments[:settled]]
    paid += [Paid() for _ in installments[settled:]]
    if settled < len(installments):
        part = installments[settled]
        paid[settled] = Paid(data.draw(st.integers(0, part.principal)), 0)
    expected = delinquency(installments, paid, business_date).days_past_due
    assert days_past_due(oldest_unpaid_due(installments, paid), business_date) == expected


def test_what_a_paid_off_loan_leaves_unpaid_is_settled_not_overdue() -> None:
    due = Installment(3, dt.date(2026, 4, 15), 1_100, 1_000, 100)
    later = dt.date(2027, 1, 1)
    assert installment_status(due, Paid(1_000, 20), later, closed=True) is InstallmentStatus.SETTLED
    assert installment_status(due, Paid(1_000, 100), later, closed=True) is InstallmentStatus.PAID
    assert installment_status(due, Paid(1_000, 20), later) is InstallmentStatus.OVERDUE


@pytest.mark.parametrize(
    ("days", "name"),
    [
        (0, "current"),
        (-3, "current"),
        (1, "1-30"),
        (30, "1-30"),
        (31, "31-60"),
        (60, "31-60"),
        (61, "61-90"),
        (89, "61-90"),
        (90, "90+"),
        (400, "90+"),
    ],
)
def test_delinquency_buckets_put_ninety_days_with_the_non_performing(days: int, name: str) -> None:
    assert bucket(days) == name
