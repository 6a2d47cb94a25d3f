from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bank_api.domain.distribution import (
    Holding,
    InvestorLoss,
    InvestorPayment,
    cumulative_split,
    distribute_payment,
    fee_part,
    write_off_losses,
)
from bank_api.domain.errors import InvalidInput
from bank_api.domain.money import split_pro_rata
from tests.domain.strategies import PROPERTY


def _quota(weights: Sequence[int], total: int, i: int) -> Fraction:
    return Fraction(total * weights[i], sum(weights))


def _within_quota(weights: Sequence[int], held: Sequence[int], total: int) -> bool:
    """SPEC §11.3: floor(q_i) <= held_i <= ceil(q_i) for every investor."""
    weight_sum = sum(weights)
    quotas = [Fraction(total * w, weight_sum) for w in weights]
    return all(math.floor(q) <= h <= math.ceil(q) for q, h in zip(quotas, held, strict=True))


def _edf(weights: Sequence[int], held: Sequence[int], start: int, stop: int) -> list[list[int]]:
    """The reference: cent by cent from total ``start`` to ``stop``, earliest deadline first.

    At step ``h`` investor i's next cent ``k = held_i + 1`` is released when ``q_i(h) > k - 1``
    and due at the first total with ``q_i >= k``, ``ceil(k·W / w_i)``; the step's cent goes to
    the released cent due first, ties to the earlier investor. Returns the state after each step.
    """
    now, states = list(held), []
    for h in range(start + 1, stop + 1):
        released = [i for i in range(len(now)) if _quota(weights, h, i) > now[i]]
        due = {i: math.ceil(Fraction((now[i] + 1) * sum(weights), weights[i])) for i in released}
        now[min(released, key=lambda i: (due[i], i))] += 1
        states.append(list(now))
    return states


def _largest_gap(weights: list[int], received: list[int], total: int) -> tuple[int, ...]:
    """The previous rule (the legacy fallback), one cent at a time: to the largest
    q_i - received_i, never above max(received_i, ceil(q_i)); ties to the earlier investor."""
    quotas = [_quota(weights, total, i) for i in range(len(weights))]
    now = list(received)
    limit = [max(r, math.ceil(q)) for r, q in zip(received, quotas, strict=True)]
    for _ in range(total - sum(received)):
        open_ = [i for i in range(len(now)) if now[i] < limit[i]]
        now[max(open_, key=lambda i: (quotas[i] - now[i], -i))] += 1
    return tuple(n - r for n, r in zip(now, received, strict=True))


def _pay(weights: list[int], totals: Sequence[int]) -> list[tuple[int, ...]]:
    """Cumulative totals after each payment, starting from nothing."""
    held, states = [0] * len(weights), []
    for total in totals:
        parts = cumulative_split(weights, held, total)
        held = [h + p for h, p in zip(held, parts, strict=True)]
        states.append(tuple(held))
    return states


# --- hand-checked cases -----------------------------------------------------------------------


def test_three_equal_investors_take_turns_with_the_odd_cent() -> None:
    # Equal weights: every next cent is due at the same total, so ties go in input order.
    weights = [100, 100, 100]
    assert cumulative_split(weights, [0, 0, 0], 100) == (34, 33, 33)
    assert cumulative_split(weights, [34, 33, 33], 200) == (33, 34, 33)
    assert cumulative_split(weights, [67, 67, 66], 300) == (33, 33, 34)


def test_no_alabama_paradox() -> None:
    # Plain largest remainder gives (1, 1, 1) of 3 cents but (0, 2, 2) of 4: the first
    # investor would have to hand a cent back. Cumulative split never takes anything away.
    weights = [100, 300, 300]
    assert split_pro_rata(3, weights) == (1, 1, 1)
    assert split_pro_rata(4, weights) == (0, 2, 2)
    assert cumulative_split(weights, [1, 1, 1], 4) == (0, 1, 0)


def test_the_odd_cents_go_to_the_earliest_deadlines() -> None:
    # Of 4 cents by 1, 3, 3 (W = 7) the floors are 0, 1, 1; the next cents are due at totals
    # ceil(7/1) = 7, ceil(2·7/3) = 5 and 5, so the two odd cents go to the 3s: here the same as
    # largest remainder.
    assert cumulative_split([1, 3, 3], [0, 0, 0], 4) == (0, 2, 2) == split_pro_rata(4, [1, 3, 3])
    # Changed from largest remainder (8, 1): of 9 cents by 9, 1 (quotas 8.1, 0.9) both next
    # cents are due at total 10 (ceil(9·10/9), ceil(1·10/1)), so the tie goes to the first.
    assert split_pro_rata(9, [9, 1]) == (8, 1)
    assert cumulative_split([9, 1], [0, 0], 9) == (9, 0)


def test_six_six_two_stays_within_quota_to_payoff() -> None:
    # W = 14. At 10: quotas 4.29, 4.29, 1.43, floors 4, 4, 1; the odd cent goes to a 6 (next
    # cent due at ceil(5·14/6) = 12, the 2's at 14). At 11 (4.71, 4.71, 1.57) the first 6 is at
    # its ceiling, and the other 6 (due at 12) beats the 2 (due at 14). Then 12 to the first 6
    # (all due at 14, the first wins), 13 to the second, 14 to the 2: exact at payoff.
    assert _pay([6, 6, 2], [10, 11, 12, 13, 14]) == [
        (5, 4, 1),
        (5, 5, 1),
        (6, 5, 1),
        (6, 6, 1),
        (6, 6, 2),
    ]
    assert cumulative_split([6, 6, 2], [5, 4, 1], 11) == (0, 1, 0)


def test_cents_due_soonest_go_first_so_nobody_falls_below_floor() -> None:
    # By 1, 1, 1, 9, 9 (W = 21) of 13 then 14. Largest remainder at 13 (quotas 0.62 x3 and
    # 5.57 x2) hands the odd cents to the three 1s, (1, 1, 1, 5, 5); at 14 both 9s are owed
    # exactly 6 but only one cent comes, so the previous rule left the second 9 at 5 < floor 6.
    # Here the 9s' 6th cents are due at ceil(6·21/9) = 14, the 1s' first cents only at 21.
    assert _pay([1, 1, 1, 9, 9], [13, 14]) == [(1, 0, 0, 6, 6), (1, 1, 0, 6, 6)]


def test_a_legacy_state_below_floor_is_caught_up_largest_gap_first() -> None:
    # The previous rule's (1, 1, 1, 5, 5) at 13: at 14 the floors (0, 0, 0, 6, 6) need two
    # cents and one comes; it goes to the largest gap (q - received = 1, 1 for the 9s; the
    # earlier wins). At 15 the floors (0, 0, 0, 6, 6) need exactly the one cent: back in quota.
    weights = [1, 1, 1, 9, 9]
    assert not _within_quota(weights, [1, 1, 1, 6, 5], 14)
    assert cumulative_split(weights, [1, 1, 1, 5, 5], 14) == (0, 0, 0, 1, 0)
    assert cumulative_split(weights, [1, 1, 1, 6, 5], 15) == (0, 0, 0, 0, 1)
    assert _within_quota(weights, [1, 1, 1, 6, 6], 15)


def test_whole_quotas_fill_up_exactly() -> None:
    assert cumulative_split([1, 1], [0, 0], 10) == (5, 5)


def test_an_investor_far_behind_is_served_first() -> None:
    # Legacy states: the third already holds 10 of quotas 4, 4, 4 (and 4.33 at 13), so the
    # floors need more than comes; the cents go to the largest gaps.
    assert cumulative_split([1, 1, 1], [0, 0, 10], 12) == (1, 1, 0)
    assert cumulative_split([1, 1, 1], [0, 2, 10], 13) == (1, 0, 0)
    # Quotas 6, 6, 6 at 24, gaps 6, 6, 6, -14, four cents: one each, the first tie again.
    assert cumulative_split([1, 1, 1, 1], [0, 0, 0, 20], 24) == (2, 1, 1, 0)
    # Enough for the floors: the one above quota keeps what it has, the others reach 10.
    assert cumulative_split([1, 1, 1], [0, 0, 11], 30) == (10, 9, 0)


def test_zero_increment_gives_nothing() -> None:
    assert cumulative_split([5, 7], [3, 4], 7) == (0, 0)


@pytest.mark.parametrize(
    ("weights", "received", "total", "field"),
    [
        ([1, 1], [0], 5, "received"),
        ([1, 0], [0, 0], 5, "weights"),
        ([1, 1], [0, -1], 5, "received"),
        ([1, 1], [3, 3], 5, "total"),
    ],
)
def test_cumulative_split_refuses_bad_input(
    weights: list[int], received: list[int], total: int, field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        cumulative_split(weights, received, total)
    assert caught.value.field == field


def test_distribute_payment_splits_principal_and_interest() -> None:
    # Principal quotas are whole (1_00, 49_50, 49_50). Interest 5_75: quotas 5.75, 284.625,
    # 284.625, floors 5, 284, 284, two odd cents. Changed from largest remainder (6, 285, 284):
    # a's 6th cent is not due until the interest reaches 6.00 (ceil(6·1000/10)), b's and c's
    # 285th at 5.76 (ceil(285·1000/495)), so b and c take them; a stays within quota.
    holdings = [Holding("a", 10_00), Holding("b", 495_00), Holding("c", 495_00)]
    parts = distribute_payment(holdings, 100_00, 5_75)
    assert parts == (
        InvestorPayment("a", 1_00, 5),
        InvestorPayment("b", 49_50, 2_85),
        InvestorPayment("c", 49_50, 2_85),
    )


@pytest.mark.parametrize(
    ("holdings", "principal", "interest", "field"),
    [
        ([], 1, 0, "holdings"),
        ([Holding("a", 100)], -1, 0, "payment"),
        ([Holding("a", 100)], 0, -1, "payment"),
        ([Holding("a", 100, 60)], 41, 0, "principal"),
        ([Holding("a", 100, 101), Holding("b", 100)], 0, 0, "holdings"),
    ],
)
def test_distribute_payment_refuses_bad_input(
    holdings: list[Holding[str]], principal: int, interest: int, field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        distribute_payment(holdings, principal, interest)
    assert caught.value.field == field


def test_write_off_loses_exactly_the_outstanding_principal() -> None:
    holdings = [Holding("a", 100_00, 40_00), Holding("b", 50_00, 50_00), Holding("c", 25_00)]
    assert write_off_losses(holdings) == (InvestorLoss("a", 60_00), InvestorLoss("c", 25_00))
    assert holdings[0].outstanding == 60_00


# --- properties -------------------------------------------------------------------------------

small_weights = st.lists(st.integers(1, 30), min_size=1, max_size=6)
large_weights = st.integers(1, 60).flatmap(
    lambda n: st.lists(st.integers(1, 10**6), min_size=n, max_size=n)
)


def increments(weight_sum: int) -> st.SearchStrategy[int]:
    """Mostly single cents and small steps, sometimes a large jump (up to twice the loan)."""
    return st.one_of(
        st.just(1),
        st.just(1),
        st.integers(1, 5),
        st.integers(1, max(1, weight_sum // 10)),
        st.integers(1, 2 * weight_sum),
    )


def _check_step(
    weights: Sequence[int], before: Sequence[int], parts: Sequence[int], total: int
) -> list[int]:
    """SPEC §11.3 for one payment; returns the new cumulative totals."""
    assert sum(parts) == total - sum(before)
    assert all(p >= 0 for p in parts)
    after = [b + p for b, p in zip(before, parts, strict=True)]
    assert _within_quota(weights, after, total)
    return after


@given(small_weights, st.integers(0, 2))
@PROPERTY
def test_one_cent_at_a_time_is_the_reference_and_within_quota(
    weights: list[int], loans: int
) -> None:
    stop = min(200, (loans + 1) * sum(weights))
    reference = _edf(weights, [0] * len(weights), 0, stop)
    assert _pay(weights, range(1, stop + 1)) == [tuple(s) for s in reference]
    assert all(_within_quota(weights, s, h) for h, s in enumerate(reference, start=1))


@given(small_weights, st.data())
@PROPERTY
def test_every_state_reached_can_go_on_cent_by_cent(
    weights: list[int], data: st.DataObject
) -> None:
    # Stronger than within quota: from each state the window rule leaves, the cent-by-cent
    # reference finds a continuation within quota for a whole loan's worth of cents further.
    held, total = [0] * len(weights), 0
    for step in data.draw(st.lists(increments(sum(weights)), min_size=1, max_size=8)):
        total += step
        held = _check_step(weights, held, cumulative_split(weights, held, total), total)
        ahead = _edf(weights, held, total, total + sum(weights))
        assert all(_within_quota(weights, s, total + j) for j, s in enumerate(ahead, start=1))


@st.composite
def repayment_histories(draw: st.DrawFn) -> tuple[list[int], list[tuple[int, int]]]:
    allocations = draw(
        st.one_of(
            large_weights,
            st.lists(st.integers(1, 50), min_size=1, max_size=12),
            st.lists(st.integers(1, 10**9), min_size=1, max_size=12),
        )
    )
    left, payments = sum(allocations), []
    while left:  # at most 30 payments: the last one pays the loan off
        principal = left if len(payments) == 29 else min(left, draw(increments(sum(allocations))))
        payments.append((principal, draw(st.one_of(st.just(1), st.integers(0, 10**6)))))
        left -= principal
    return allocations, payments


@given(repayment_histories())
@PROPERTY
def test_repayments_end_at_the_allocations_and_never_go_negative(
    history: tuple[list[int], list[tuple[int, int]]],
) -> None:
    allocations, payments = history
    holdings = [Holding(i, a) for i, a in enumerate(allocations)]
    repaid = interest_total = 0
    for principal, interest in payments:
        parts = distribute_payment(holdings, principal, interest)
        repaid += principal
        interest_total += interest
        principal_now = _check_step(
            allocations,
            [h.principal_received for h in holdings],
            [p.principal for p in parts],
            repaid,
        )
        interest_now = _check_step(
            allocations,
            [h.interest_received for h in holdings],
            [p.interest for p in parts],
            interest_total,
        )
        holdings = [
            Holding(h.investor_id, h.allocated, p, i)
            for h, p, i in zip(holdings, principal_now, interest_now, strict=True)
        ]
        assert all(h.principal_received <= h.allocated for h in holdings)
    assert [h.principal_received for h in holdings] == allocations
    assert write_off_losses(holdings) == ()
    assert sum(h.interest_received for h in holdings) == interest_total


@given(large_weights, st.data())
@PROPERTY
def test_interest_stays_within_quota_past_the_allocations(
    weights: list[int], data: st.DataObject
) -> None:
    # Interest has no ceiling: its total passes W (at the latest with the jump in the middle)
    # and the rule does not change.
    weight_sum = sum(weights)
    steps = [
        *data.draw(st.lists(increments(weight_sum), max_size=20)),
        weight_sum + data.draw(st.integers(0, weight_sum)),
        *data.draw(st.lists(increments(weight_sum), min_size=1, max_size=20)),
    ]
    held, total = [0] * len(weights), 0
    for step in steps:
        total += step
        held = _check_step(weights, held, cumulative_split(weights, held, total), total)


@given(
    st.lists(st.integers(1, 10**12), min_size=1, max_size=30),
    st.integers(0, 10**14),
)
@PROPERTY
def test_from_nothing_it_is_within_quota_for_huge_amounts(weights: list[int], total: int) -> None:
    _check_step(
        weights, [0] * len(weights), cumulative_split(weights, [0] * len(weights), total), total
    )


@st.composite
def legacy_states(draw: st.DrawFn) -> tuple[list[int], list[int], int]:
    """Any received totals, in quota or not, as the previous rule may have stored them."""
    weights = draw(st.lists(st.integers(1, 400), min_size=1, max_size=8))
    received = draw(st.lists(st.integers(0, 60), min_size=len(weights), max_size=len(weights)))
    return weights, received, sum(received) + draw(st.integers(0, 150))


@given(legacy_states())
@PROPERTY
def test_legacy_states_still_get_valid_parts(state: tuple[list[int], list[int], int]) -> None:
    weights, received, total = state
    parts = cumulative_split(weights, received, total)
    assert sum(parts) == total - sum(received)
    assert all(p >= 0 for p in parts)
    quotas = [_quota(weights, total, i) for i in range(len(weights))]
    floors = [max(r, math.floor(q)) for r, q in zip(received, quotas, strict=True)]
    after = [r + p for r, p in zip(received, parts, strict=True)]
    if sum(floors) > total:  # short of the floors: the previous rule, never above a floor
        assert parts == _largest_gap(weights, received, total)
        assert all(a <= f for a, f in zip(after, floors, strict=True))
    else:  # everybody reaches its floor; nobody passes its ceiling unless it already had
        assert all(a >= f for a, f in zip(after, floors, strict=True))
        for a, r, q in zip(after, received, quotas, strict=True):
            assert a <= max(r, math.ceil(q))


@st.composite
def legacy_loans(draw: st.DrawFn) -> tuple[list[Holding[int]], list[int]]:
    """A loan whose stored principal totals are anything up to the allocations, then payments."""
    allocations = draw(st.lists(st.integers(1, 50), min_size=1, max_size=8))
    holdings = [Holding(i, a, draw(st.integers(0, a))) for i, a in enumerate(allocations)]
    left, payments = sum(h.outstanding for h in holdings), []
    while left:
        payments.append(draw(st.integers(1, left)))
        left -= payments[-1]
    return holdings, payments


@given(legacy_loans())
@PROPERTY
def test_legacy_loans_still_end_at_the_allocations(
    loan: tuple[list[Holding[int]], list[int]],
) -> None:
    holdings, payments = loan
    for principal in payments:
        parts = distribute_payment(holdings, principal, 0)
        assert sum(p.principal for p in parts) == principal
        assert all(p.principal >= 0 for p in parts)
        holdings = [
            Holding(h.investor_id, h.allocated, h.principal_received + p.principal)
            for h, p in zip(holdings, parts, strict=True)
        ]
        assert all(h.principal_received <= h.allocated for h in holdings)
    assert write_off_losses(holdings) == ()


# --- the platform's fee ----------------------------------------------------------------------


def test_the_fee_is_taken_cumulatively_within_a_cent_of_its_share() -> None:
    rate = Fraction(1, 10)
    # 10 % of 0.05 is half a cent: the investors' 5th cent is due first (at 0.06), so no fee
    # yet; of 0.10 in all the fee is one cent
    assert fee_part(0, 0, 5, rate) == 0
    assert fee_part(5, 0, 5, rate) == 1
    assert fee_part(0, 0, 1_000, Fraction(0)) == 0
    assert fee_part(0, 0, 1_000, Fraction(1)) == 1_000
    with pytest.raises(InvalidInput):
        fee_part(0, 0, 10, Fraction(3, 2))
    with pytest.raises(InvalidInput):
        fee_part(10, 11, 10, rate)


def test_a_payment_with_a_fee_gives_the_investors_the_rest() -> None:
    holdings = [Holding("a", 600), Holding("b", 400)]
    shares = distribute_payment(holdings, 100, 50, fee=5)
    assert sum(s.interest for s in shares) == 45
    assert sum(s.fee for s in shares) == 5
    assert sum(s.principal for s in shares) == 100
    with pytest.raises(InvalidInput):
        distribute_payment(holdings, 100, 50, fee=51)


@given(
    st.fractions(Fraction(0), Fraction(1), max_denominator=10_000),
    st.lists(st.integers(1, 10**6), min_size=1, max_size=12),
    st.lists(st.integers(0, 50_000), min_size=1, max_size=40),
)
@PROPERTY
def test_fee_and_investors_interest_add_up_and_stay_within_quota(
    rate: Fraction, weights: list[int], payments: list[int]
) -> None:
    holdings = [Holding(i, w) for i, w in enumerate(weights)]
    total = fees = 0
    for interest in payments:
        fee = fee_part(total, fees, interest, rate)
        assert 0 <= fee <= interest
        shares = distribute_payment(holdings, 0, interest, fee)
        assert sum(s.interest for s in shares) + sum(s.fee for s in shares) == interest
        assert sum(s.fee for s in shares) == fee
        total, fees = total + interest, fees + fee
        exact = rate * total
        assert math.floor(exact) <= fees <= math.ceil(exact)
        holdings = [
            Holding(h.investor_id, h.allocated, 0, h.interest_received + s.interest, h.fee + s.fee)
            for h, s in zip(holdings, shares, strict=True)
        ]
        net, weight = total - fees, sum(weights)
        for h in holdings:
            assert math.floor(Fraction(net * h.allocated, weight)) <= h.interest_received
            assert h.interest_received <= math.ceil(Fraction(net * h.allocated, weight))
