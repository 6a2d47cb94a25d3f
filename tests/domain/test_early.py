from __future__ import annotations

import datetime as dt
import itertools
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bank_api.domain.early import Keep, payoff, prepay, settle
from bank_api.domain.errors import InvalidAmount, InvalidInput, Overpayment
from bank_api.domain.money import round_cents
from bank_api.domain.payments import Paid, apply_payment, check_paid, remaining_due
from bank_api.domain.schedule import Installment, ScheduleKind, build_schedule
from tests.domain.strategies import PROPERTY

START = dt.date(2026, 1, 15)


def _loan(
    amount: int = 120_000,
    rate_bp: int = 1_200,
    term: int = 12,
    kind: ScheduleKind = ScheduleKind.ANNUITY,
) -> tuple[list[Installment], list[Paid]]:
    schedule = build_schedule(amount, rate_bp, term, START, kind)
    return list(schedule.installments), [Paid() for _ in schedule.installments]


def test_payoff_is_the_principal_and_the_interest_of_the_days_so_far() -> None:
    rows, paid = _loan()  # 1,200.00 at 1 % a month: 12.00 interest in the first period
    assert rows[0].interest == 1_200
    quote = payoff(rows, paid, START, dt.date(2026, 1, 25))
    # 10 of the 31 days from 15 January to 15 February: 12.00 * 10 / 31 = 3.870...
    assert (quote.principal, quote.accrued_interest, quote.interest) == (120_000, 387, 387)
    assert (quote.accrued_days, quote.period_days, quote.overdue) == (10, 31, 0)
    assert quote.amount == 120_387
    # on the disbursement day nothing has accrued; on the due date the whole period has
    assert payoff(rows, paid, START, START).amount == 120_000
    on_due = payoff(rows, paid, START, rows[0].due_date)
    assert (on_due.overdue, on_due.accrued_interest) == (rows[0].payment, 0)
    assert on_due.amount == 120_000 + 1_200


def test_overdue_installments_are_in_the_payoff_in_full() -> None:
    rows, paid = _loan()
    late = payoff(rows, paid, START, dt.date(2026, 3, 20))  # two installments due, 5 days on
    assert late.overdue == rows[0].payment + rows[1].payment
    second_period = (rows[2].due_date - rows[1].due_date).days
    assert late.accrued_interest == round_cents(Fraction(rows[2].interest * 5, second_period))
    assert late.principal == 120_000
    assert late.interest == rows[0].interest + rows[1].interest + late.accrued_interest


def test_interest_already_paid_ahead_is_not_charged_again() -> None:
    rows, paid = _loan()
    ahead = apply_payment(rows, paid, rows[0].payment + 500)  # 5.00 into the second's interest
    quote = payoff(rows, list(ahead.paid_after), START, dt.date(2026, 2, 20))
    earned = round_cents(Fraction(rows[1].interest * 5, 28))
    assert quote.accrued_interest == max(0, earned - 500) == 0
    assert quote.principal == 120_000 - rows[0].principal


def test_settling_pays_the_payoff_and_leaves_the_later_interest_unpaid() -> None:
    rows, paid = _loan()
    on = dt.date(2026, 2, 25)
    quote = payoff(rows, paid, START, on)
    done = settle(rows, paid, START, on)
    assert (done.principal, done.interest) == (quote.principal, quote.interest)
    assert done.closes
    assert [p.principal for p in done.paid_after] == [r.principal for r in rows]
    assert done.paid_after[0].interest == rows[0].interest
    assert done.paid_after[1].interest == quote.accrued_interest
    assert all(p.interest == 0 for p in done.paid_after[2:])
    assert [a.number for a in done.applied] == [r.number for r in rows]


def test_prepaying_keeps_the_term_with_a_lower_payment() -> None:
    rows, paid = _loan()
    on = dt.date(2026, 1, 25)
    done = prepay(
        rows,
        paid,
        START,
        on,
        60_387,
        keep=Keep.TERM,
        annual_rate_bp=1_200,
        schedule_type=ScheduleKind.ANNUITY,
    )
    # 3.87 of accrued interest, then 600.00 of principal
    assert (done.principal, done.interest, done.closes) == (60_000, 387, False)
    new = done.installments
    assert len(new) == 12
    assert [r.due_date for r in new] == [r.due_date for r in rows]
    assert sum(r.principal for r in new) == 120_000
    assert done.paid_after[0] == Paid(60_000, 387)
    # the rest of the first period accrues on 600.00: 21 of 31 days of 6.00
    assert new[0].interest == 387 + round_cents(Fraction(60_000 * 12 * 21, 1_200 * 31))
    assert new[1].payment < rows[1].payment
    assert sum(r.interest for r in new) < sum(r.interest for r in rows)
    check_paid(new, done.paid_after)


def test_prepaying_keeps_the_payment_with_fewer_installments() -> None:
    rows, paid = _loan()
    done = prepay(
        rows,
        paid,
        START,
        dt.date(2026, 1, 25),
        60_387,
        keep=Keep.PAYMENT,
        annual_rate_bp=1_200,
        schedule_type=ScheduleKind.ANNUITY,
    )
    new = done.installments
    assert len(new) < 12
    assert all(r.payment == rows[0].payment for r in new[1:-1])
    assert new[-1].payment <= rows[0].payment
    assert sum(r.principal for r in new) == 120_000
    check_paid(new, done.paid_after)


def test_equal_principal_keeps_its_principal_part_or_its_term() -> None:
    rows, paid = _loan(kind=ScheduleKind.EQUAL_PRINCIPAL)
    on = dt.date(2026, 1, 25)
    kept = prepay(
        rows,
        paid,
        START,
        on,
        30_387,
        keep=Keep.PAYMENT,
        annual_rate_bp=1_200,
        schedule_type=ScheduleKind.EQUAL_PRINCIPAL,
    )
    assert len(kept.installments) == 9  # 900.00 left at 100.00 a month (the first takes 400.00)
    assert all(r.principal == 10_000 for r in kept.installments[1:])
    term = prepay(
        rows,
        paid,
        START,
        on,
        30_387,
        keep=Keep.TERM,
        annual_rate_bp=1_200,
        schedule_type=ScheduleKind.EQUAL_PRINCIPAL,
    )
    assert len(term.installments) == 12
    assert [r.principal for r in term.installments[1:-1]] == [7_500] * 10


def test_prepaying_the_payoff_settles_and_more_is_refused() -> None:
    rows, paid = _loan()
    on = dt.date(2026, 1, 25)
    quote = payoff(rows, paid, START, on).amount
    rules = {"keep": Keep.TERM, "annual_rate_bp": 1_200, "schedule_type": ScheduleKind.ANNUITY}
    assert prepay(rows, paid, START, on, quote, **rules).closes  # type: ignore[arg-type]
    with pytest.raises(Overpayment) as refused:
        prepay(rows, paid, START, on, quote + 1, **rules)  # type: ignore[arg-type]
    assert refused.value.remaining == quote
    with pytest.raises(InvalidAmount):
        prepay(rows, paid, START, on, 0, **rules)  # type: ignore[arg-type]


def test_a_prepayment_smaller_than_what_is_due_pays_only_that() -> None:
    rows, paid = _loan()
    late = dt.date(2026, 3, 20)
    rules = {"keep": Keep.TERM, "annual_rate_bp": 1_200, "schedule_type": ScheduleKind.ANNUITY}
    done = prepay(rows, paid, START, late, 5_000, **rules)  # type: ignore[arg-type]
    assert done.installments == tuple(rows)
    assert [(a.number, a.principal + a.interest) for a in done.applied] == [(1, 5_000)]
    # after the last due date only what is due is left: a smaller amount pays part of it
    end = rows[-1].due_date + dt.timedelta(days=3)
    quote = payoff(rows, paid, START, end)
    assert (quote.accrued_interest, quote.period_days) == (0, 0)
    part = prepay(rows, paid, START, end, 10_000, **rules)  # type: ignore[arg-type]
    assert (part.principal + part.interest, part.closes) == (10_000, False)


@pytest.mark.parametrize(
    ("start", "on"),
    [(dt.date(2026, 2, 15), dt.date(2026, 3, 1)), (START, dt.date(2026, 1, 14))],
)
def test_impossible_dates_are_refused(start: dt.date, on: dt.date) -> None:
    rows, paid = _loan()
    with pytest.raises(InvalidInput):
        payoff(rows, paid, start, on)


# --- properties -------------------------------------------------------------------------------

operations = st.lists(
    st.tuples(
        st.sampled_from(["pay", "prepay", "wait"]),
        st.integers(0, 45),  # days to move on
        st.fractions(Fraction(1, 1000), Fraction(999, 1000)),  # how much of what is possible
        st.sampled_from(list(Keep)),
    ),
    max_size=12,
)


@given(
    st.integers(1_000, 10_000_000),
    st.integers(0, 3_000),
    st.integers(2, 60),
    st.sampled_from(list(ScheduleKind)),
    operations,
)
@PROPERTY
def test_any_mix_of_payments_prepayments_and_a_settlement_repays_exactly(
    amount: int,
    rate_bp: int,
    term: int,
    kind: ScheduleKind,
    ops: list[tuple[str, int, Fraction, Keep]],
) -> None:
    rows = list(build_schedule(amount, rate_bp, term, START, kind).installments)
    original_interest = sum(r.interest for r in rows)
    paid = [Paid() for _ in rows]
    on = START
    repaid = interest_paid = 0
    for op, days, share, keep in ops:
        on = min(on + dt.timedelta(days=days), rows[-1].due_date + dt.timedelta(days=30))
        quote = payoff(rows, paid, START, on)
        assert quote.accrued_interest >= 0
        if op == "wait":
            continue
        if op == "pay":
            due = remaining_due(rows, paid)
            pay_amount = max(1, round_cents(share * due))
            if pay_amount >= due:
                continue
            applied = apply_payment(rows, paid, pay_amount)
            principal, interest, paid = (
                applied.principal,
                applied.interest,
                list(applied.paid_after),
            )
        else:
            pay_amount = max(1, round_cents(share * quote.amount))
            if pay_amount >= quote.amount:
                continue
            done = prepay(
                rows,
                paid,
                START,
                on,
                pay_amount,
                keep=keep,
                annual_rate_bp=rate_bp,
                schedule_type=kind,
            )
            assert not done.closes
            principal, interest = done.principal, done.interest
            rows, paid = list(done.installments), list(done.paid_after)
        assert principal + interest == pay_amount
        repaid += principal
        interest_paid += interest
        check_paid(rows, paid)
        assert sum(r.principal for r in rows) == amount
        assert [r.number for r in rows] == list(range(1, len(rows) + 1))
        assert all(a.due_date < b.due_date for a, b in itertools.pairwise(rows))
        assert all(r.payment == r.principal + r.interest for r in rows)
        assert sum(r.interest for r in rows) <= original_interest
        assert sum(p.principal for p in paid) == repaid
    final = settle(rows, paid, START, on)
    assert final.principal + repaid == amount
    assert interest_paid + final.interest <= original_interest
    assert [p.principal for p in final.paid_after] == [r.principal for r in rows]


@given(
    st.integers(1_000, 10_000_000),
    st.integers(1, 3_000),
    st.integers(2, 60),
    st.sampled_from(list(ScheduleKind)),
    st.data(),
)
@PROPERTY
def test_the_day_after_a_due_date_the_payoff_is_the_principal_and_a_day_of_interest(
    amount: int, rate_bp: int, term: int, kind: ScheduleKind, data: st.DataObject
) -> None:
    rows = list(build_schedule(amount, rate_bp, term, START, kind).installments)
    k = data.draw(st.integers(0, term - 2))
    paid = list(
        apply_payment(
            rows, [Paid() for _ in rows], sum(r.payment for r in rows[: k + 1])
        ).paid_after
    )
    on = rows[k].due_date + dt.timedelta(days=1)
    quote = payoff(rows, paid, START, on)
    days = (rows[k + 1].due_date - rows[k].due_date).days
    assert quote.overdue == 0
    assert quote.principal == sum(r.principal for r in rows[k + 1 :])
    assert 0 <= quote.accrued_interest <= round_cents(Fraction(rows[k + 1].interest, days))


def test_a_prepayment_whose_rounding_would_raise_the_interest_gives_the_cent_back() -> None:
    # 230.69 at 2.67 % over two months, 0.96 prepaid a week in: rounding the new schedule
    # (part of a month on the new balance, then a month) would come to a cent more interest
    # than the old schedule still held; the last installment gives it back
    rows, paid = _loan(23_069, 267, 2)
    done = prepay(
        rows,
        paid,
        START,
        START + dt.timedelta(days=7),
        96,
        keep=Keep.TERM,
        annual_rate_bp=267,
        schedule_type=ScheduleKind.ANNUITY,
    )
    assert sum(r.interest for r in done.installments) == sum(r.interest for r in rows)
    assert sum(r.principal for r in done.installments) == 23_069
    check_paid(done.installments, done.paid_after)
