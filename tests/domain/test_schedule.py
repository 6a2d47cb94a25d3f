from __future__ import annotations

import calendar
import datetime as dt
from fractions import Fraction
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bank_api.domain.errors import InvalidTerms, ScheduleBeyondCalendar
from bank_api.domain.money import MAX_AMOUNT_CENTS
from bank_api.domain.schedule import (
    MAX_ANNUAL_RATE_BP,
    Installment,
    Schedule,
    ScheduleKind,
    add_months,
    annuity_payment,
    build_schedule,
    latest_start,
    monthly_rate,
)
from tests.domain.strategies import PROPERTY, amounts, dates, rates_bp, schedule_types, schedules

D = dt.date

# 10,000.00 at 6.90 % over 12 months, disbursed 2024-01-31 (month ends, leap February).
# Worked out independently with decimal.Decimal (60 digits, ROUND_HALF_EVEN):
# payment = 10000 * r / (1 - (1 + r) ** -12), r = 0.0690 / 12 = 0.00575 -> 864.8065293 -> 864.81.
HOME_LOAN_12 = [
    (1, D(2024, 2, 29), 86481, 80731, 5750),
    (2, D(2024, 3, 31), 86481, 81195, 5286),
    (3, D(2024, 4, 30), 86481, 81662, 4819),
    (4, D(2024, 5, 31), 86481, 82132, 4349),
    (5, D(2024, 6, 30), 86481, 82604, 3877),
    (6, D(2024, 7, 31), 86481, 83079, 3402),
    (7, D(2024, 8, 31), 86481, 83557, 2924),
    (8, D(2024, 9, 30), 86481, 84037, 2444),
    (9, D(2024, 10, 31), 86481, 84520, 1961),
    (10, D(2024, 11, 30), 86481, 85006, 1475),
    (11, D(2024, 12, 31), 86481, 85495, 986),
    (12, D(2025, 1, 31), 86476, 85982, 494),
]


def _rows(schedule: Schedule) -> list[tuple[int, dt.date, int, int, int]]:
    return [
        (i.number, i.due_date, i.payment, i.principal, i.interest) for i in schedule.installments
    ]


def test_home_loan_annuity_schedule_hand_checked() -> None:
    schedule = build_schedule(1_000_000, 690, 12, D(2024, 1, 31))
    assert annuity_payment(1_000_000, 690, 12) == 86481
    assert _rows(schedule) == HOME_LOAN_12
    assert schedule.monthly_payment == 86481
    assert schedule.total_principal == 1_000_000
    assert schedule.total_interest == 37767
    assert schedule.total_payable == 1_037_767


@pytest.mark.parametrize(
    ("amount", "term", "expected"),
    [
        (100_000, 3, [(33333, 33333, 0), (33333, 33333, 0), (33334, 33334, 0)]),
        (10_000, 12, [(833, 833, 0)] * 11 + [(837, 837, 0)]),
        (5, 2, [(2, 2, 0), (3, 3, 0)]),  # 2.5 cents rounds half-even to 2
        (15, 2, [(8, 8, 0), (7, 7, 0)]),  # 7.5 cents rounds half-even to 8
    ],
)
def test_zero_rate_annuity_is_amount_over_term(
    amount: int, term: int, expected: list[tuple[int, int, int]]
) -> None:
    schedule = build_schedule(amount, 0, term, D(2024, 5, 10))
    assert [(i.payment, i.principal, i.interest) for i in schedule.installments] == expected
    assert schedule.total_interest == 0
    assert schedule.total_payable == amount


def test_one_month_term_pays_principal_plus_one_month_of_interest() -> None:
    schedule = build_schedule(100_000, 1200, 1, D(2023, 12, 31))  # 12.00 %: r = 1 %
    assert _rows(schedule) == [(1, D(2024, 1, 31), 101_000, 100_000, 1_000)]
    assert schedule.monthly_payment == schedule.total_payable == 101_000


def test_equal_principal_last_absorbs_the_remainder_and_interest_is_on_remaining() -> None:
    schedule = build_schedule(100_000, 1200, 3, D(2024, 1, 15), ScheduleKind.EQUAL_PRINCIPAL)
    assert _rows(schedule) == [
        (1, D(2024, 2, 15), 34333, 33333, 1000),  # 1000.00 * 1 %
        (2, D(2024, 3, 15), 34000, 33333, 667),  # 666.67 * 1 % = 6.6667
        (3, D(2024, 4, 15), 33667, 33334, 333),  # 333.34 * 1 % = 3.3334
    ]
    assert schedule.monthly_payment == 34333
    assert schedule.total_interest == 2000


def test_tiny_amount_clamps_principal_to_what_remains() -> None:
    # 7 cents over 12 months at 0 %: the rounded payment (1 cent) would overshoot after 7 months.
    schedule = build_schedule(7, 0, 12, D(2024, 1, 1))
    assert [i.principal for i in schedule.installments] == [1] * 7 + [0] * 5
    assert schedule.total_payable == 7


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (D(2024, 1, 31), 1, D(2024, 2, 29)),
        (D(2023, 1, 31), 1, D(2023, 2, 28)),
        (D(2024, 1, 31), 2, D(2024, 3, 31)),
        (D(2024, 1, 31), 3, D(2024, 4, 30)),
        (D(2023, 12, 15), 1, D(2024, 1, 15)),
        (D(2024, 2, 29), 12, D(2025, 2, 28)),
        (D(2024, 2, 29), 48, D(2028, 2, 29)),
        (D(2023, 11, 30), 3, D(2024, 2, 29)),
        (D(2100, 1, 29), 1, D(2100, 2, 28)),  # 2100 is not a leap year
        (D(2000, 1, 30), 1, D(2000, 2, 29)),  # 2000 is
        (D(2024, 8, 31), 360, D(2054, 8, 31)),
    ],
)
def test_add_months_clamps_to_month_end_from_the_original_day(
    start: dt.date, months: int, expected: dt.date
) -> None:
    assert add_months(start, months) == expected


def test_due_dates_are_not_chained_through_short_months() -> None:
    schedule = build_schedule(500_000, 725, 4, D(2023, 1, 31))
    assert [i.due_date for i in schedule.installments] == [
        D(2023, 2, 28),
        D(2023, 3, 31),
        D(2023, 4, 30),
        D(2023, 5, 31),
    ]


@pytest.mark.parametrize(
    ("amount", "rate", "term", "field"),
    [
        (0, 690, 12, "amount"),
        (-100, 690, 12, "amount"),
        (MAX_AMOUNT_CENTS + 1, 690, 12, "amount"),
        (100_000, 690, 0, "term_months"),
        (100_000, 690, 361, "term_months"),
        (100_000, -1, 12, "annual_rate_bp"),
        (100_000, MAX_ANNUAL_RATE_BP + 1, 12, "annual_rate_bp"),
    ],
)
def test_invalid_terms_are_refused(amount: int, rate: int, term: int, field: str) -> None:
    with pytest.raises(InvalidTerms) as caught:
        build_schedule(amount, rate, term, D(2024, 1, 1))
    assert caught.value.field == field
    with pytest.raises(InvalidTerms):
        annuity_payment(amount, rate, term)


def test_extreme_terms_still_balance() -> None:
    schedule = build_schedule(MAX_AMOUNT_CENTS, MAX_ANNUAL_RATE_BP, 360, D(2024, 2, 29))
    assert schedule.total_principal == MAX_AMOUNT_CENTS
    assert all(i.principal >= 0 for i in schedule.installments)
    assert schedule.installments[-1].due_date == D(2054, 2, 28)


def test_monthly_rate_is_exact() -> None:
    assert monthly_rate(690) * 1200 == Fraction(69, 10)  # 6.90 % a year
    assert monthly_rate(1200) == Fraction(1, 100)


@given(schedules())
@PROPERTY
def test_every_schedule_balances(schedule: Schedule) -> None:
    installments = schedule.installments
    assert sum(i.principal for i in installments) == schedule.total_principal
    assert sum(i.interest for i in installments) == schedule.total_interest
    assert schedule.total_payable == schedule.total_principal + schedule.total_interest
    assert schedule.monthly_payment == installments[0].payment
    assert [i.number for i in installments] == list(range(1, len(installments) + 1))
    for installment in installments:
        assert installment.payment == installment.principal + installment.interest
        assert installment.principal >= 0
        assert installment.interest >= 0


@given(amounts, rates_bp, st.integers(1, 360), dates, schedule_types)
@PROPERTY
def test_principals_add_up_to_the_amount_and_dates_keep_the_day(
    amount: int, rate: int, term: int, start: dt.date, kind: ScheduleKind
) -> None:
    schedule = build_schedule(amount, rate, term, start, kind)
    assert schedule.total_principal == amount
    assert len(schedule.installments) == term
    for k, installment in enumerate(schedule.installments, start=1):
        due = installment.due_date
        months = (due.year - start.year) * 12 + due.month - start.month
        assert months == k
        assert due.day == min(start.day, calendar.monthrange(due.year, due.month)[1])


@given(amounts, st.integers(0, MAX_ANNUAL_RATE_BP), st.integers(1, 360), dates)
@PROPERTY
def test_annuity_pays_the_level_payment_until_the_principal_runs_out(
    amount: int, rate: int, term: int, start: dt.date
) -> None:
    # Rounding the payment to the cent compounds with (1 + r) ** n; at extreme rates and terms
    # the principal runs out early and the remaining installments are clamped (down to zero).
    schedule = build_schedule(amount, rate, term, start)
    level = annuity_payment(amount, rate, term)
    payments = [i.payment for i in schedule.installments[:-1]]
    level_months = len(payments) - len([p for p in payments if p != level])
    assert payments[:level_months] == [level] * level_months
    assert all(p <= level for p in payments)
    for installment, following in pairwise(schedule.installments):
        assert following.interest <= installment.interest


@given(st.integers(10_000_00, MAX_AMOUNT_CENTS), st.integers(0, 1_500), st.integers(1, 360), dates)
@PROPERTY
def test_product_like_annuities_are_level_except_the_last(
    amount: int, rate: int, term: int, start: dt.date
) -> None:
    schedule = build_schedule(amount, rate, term, start)
    level = annuity_payment(amount, rate, term)
    assert {i.payment for i in schedule.installments[:-1]} <= {level}
    assert schedule.installments[-1].principal > 0


@given(amounts, rates_bp, st.integers(1, 360), dates)
@PROPERTY
def test_equal_principal_splits_evenly_with_the_remainder_last(
    amount: int, rate: int, term: int, start: dt.date
) -> None:
    schedule = build_schedule(amount, rate, term, start, ScheduleKind.EQUAL_PRINCIPAL)
    principals = [i.principal for i in schedule.installments]
    assert principals[:-1] == [amount // term] * (term - 1)
    assert principals[-1] == amount // term + amount % term


def test_installment_is_a_frozen_value() -> None:
    installment = Installment(1, D(2024, 1, 1), 10, 7, 3)
    with pytest.raises(AttributeError):
        installment.payment = 11  # type: ignore[misc]


@given(term=st.integers(1, 360), days_before=st.integers(0, 4000))
@PROPERTY
def test_schedules_stay_inside_the_calendar_or_are_refused(term: int, days_before: int) -> None:
    last = latest_start(term)
    assert add_months(last, term) <= dt.date.max  # the latest start itself fits
    start = last - dt.timedelta(days=days_before)
    schedule = build_schedule(100_000, 690, term, start)
    assert schedule.installments[-1].due_date <= dt.date.max
    if last < dt.date.max:
        with pytest.raises(ScheduleBeyondCalendar) as refused:
            build_schedule(100_000, 690, term, last + dt.timedelta(days=1))
        assert (refused.value.term_months, refused.value.latest_start) == (term, last)


def test_the_latest_start_is_the_last_day_of_its_month() -> None:
    assert latest_start(1) == dt.date(9999, 11, 30)
    assert latest_start(12) == dt.date(9998, 12, 31)
    assert latest_start(360) == dt.date(9969, 12, 31)
