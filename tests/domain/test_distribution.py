from __future__ import annotations

import math
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
    write_off_losses,
)
from bank_api.domain.errors import InvalidInput
from bank_api.domain.money import split_pro_rata
from tests.domain.strategies import PROPERTY


def _greedy(weights: list[int], received: list[int], total: int) -> tuple[int, ...]:
    """The definition, one cent at a time: to the largest q_i - received_i, never above
    max(received_i, ceil(q_i)); ties to the earlier investor."""
    quotas = [Fraction(total * w, sum(weights)) for w in weights]
    now = list(received)
    limit = [max(r, math.ceil(q)) for r, q in zip(received, quotas, strict=True)]
    for _ in range(total - sum(received)):
        open_ = [i for i in range(len(now)) if now[i] < limit[i]]
        now[max(open_, key=lambda i: (quotas[i] - now[i], -i))] += 1
    return tuple(n - r for n, r in zip(now, received, strict=True))


def test_three_equal_investors_take_turns_with_the_odd_cent() -> None:
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


def test_from_nothing_it_is_plain_largest_remainder() -> None:
    assert cumulative_split([1, 3, 3], [0, 0, 0], 4) == split_pro_rata(4, [1, 3, 3])


def test_whole_quotas_fill_up_exactly() -> None:
    assert cumulative_split([1, 1], [0, 0], 10) == (5, 5)


def test_an_investor_far_behind_is_served_first() -> None:
    # quotas 4, 4, 4; the third already holds 10: the two cents go to the two behind.
    assert cumulative_split([1, 1, 1], [0, 0, 10], 12) == (1, 1, 0)
    assert cumulative_split([1, 1, 1], [0, 2, 10], 13) == (1, 0, 0)


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
    holdings = [Holding("a", 10_00), Holding("b", 495_00), Holding("c", 495_00)]
    parts = distribute_payment(holdings, 100_00, 5_75)
    assert parts == (
        InvestorPayment("a", 1_00, 6),
        InvestorPayment("b", 49_50, 2_85),
        InvestorPayment("c", 49_50, 2_84),
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


@st.composite
def split_states(draw: st.DrawFn) -> tuple[list[int], list[int], int]:
    weights = draw(st.lists(st.integers(1, 400), min_size=1, max_size=8))
    received = draw(st.lists(st.integers(0, 60), min_size=len(weights), max_size=len(weights)))
    return weights, received, sum(received) + draw(st.integers(0, 150))


@given(split_states())
@PROPERTY
def test_cumulative_split_is_the_cent_by_cent_greedy(
    state: tuple[list[int], list[int], int],
) -> None:
    weights, received, total = state
    parts = cumulative_split(weights, received, total)
    assert parts == _greedy(weights, received, total)
    assert sum(parts) == total - sum(received)
    for part, before, weight in zip(parts, received, weights, strict=True):
        assert part >= 0
        assert before + part <= max(before, math.ceil(Fraction(total * weight, sum(weights))))


@given(
    st.lists(st.integers(1, 10**12), min_size=1, max_size=30),
    st.integers(0, 10**14),
)
@PROPERTY
def test_from_nothing_matches_largest_remainder(weights: list[int], total: int) -> None:
    assert cumulative_split(weights, [0] * len(weights), total) == split_pro_rata(total, weights)


@st.composite
def repayment_histories(draw: st.DrawFn) -> tuple[list[int], list[tuple[int, int]]]:
    allocations = draw(
        st.lists(st.integers(1, draw(st.sampled_from([50, 10**4, 10**9]))), min_size=1, max_size=12)
    )
    left, payments = sum(allocations), []
    while left:
        principal = draw(st.integers(1, left))
        payments.append((principal, draw(st.integers(0, 10**6))))
        left -= principal
    return allocations, payments


@given(repayment_histories())
@PROPERTY
def test_repayments_end_at_the_allocations_and_never_go_negative(
    history: tuple[list[int], list[tuple[int, int]]],
) -> None:
    allocations, payments = history
    holdings = [Holding(i, a) for i, a in enumerate(allocations)]
    interest_total = 0
    for principal, interest in payments:
        parts = distribute_payment(holdings, principal, interest)
        assert sum(p.principal for p in parts) == principal
        assert sum(p.interest for p in parts) == interest
        assert all(p.principal >= 0 and p.interest >= 0 for p in parts)
        holdings = [
            Holding(
                h.investor_id,
                h.allocated,
                h.principal_received + p.principal,
                h.interest_received + p.interest,
            )
            for h, p in zip(holdings, parts, strict=True)
        ]
        interest_total += interest
        repaid = sum(h.principal_received for h in holdings)
        for h in holdings:
            assert h.principal_received <= math.ceil(
                Fraction(repaid * h.allocated, sum(allocations))
            )
            assert h.principal_received <= h.allocated
    assert [h.principal_received for h in holdings] == allocations
    assert write_off_losses(holdings) == ()
    assert sum(h.interest_received for h in holdings) == interest_total
    for h in holdings:  # never more than a cent above the exact interest share
        quota = Fraction(interest_total * h.allocated, sum(allocations))
        assert h.interest_received <= math.ceil(quota)
