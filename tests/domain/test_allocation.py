from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bank_api.domain.allocation import (
    Allocation,
    AllocationPart,
    AllocationPolicy,
    QueueHeadTooShort,
    Strategy,
    allocate,
    capped_available,
    queue_head,
)
from bank_api.domain.errors import AllocationNotPossible, InvalidAmount, InvalidInput
from tests.domain.strategies import PROPERTY

EQUAL = AllocationPolicy()


def _amounts(allocation: Allocation[str]) -> list[tuple[str, int]]:
    return [(p.investor_id, p.amount) for p in allocation.parts]


def test_hundred_among_ten_rich_investors_goes_to_the_first_four_at_the_min_ticket() -> None:
    candidates = [(f"inv{i}", 1_000_00) for i in range(10)]
    allocation = allocate(100_00, candidates, AllocationPolicy(min_ticket=25_00))
    assert _amounts(allocation) == [("inv0", 2500), ("inv1", 2500), ("inv2", 2500), ("inv3", 2500)]
    assert allocation.level == 25_00


def test_seed_scenario_small_investor_gives_all_and_the_others_split_the_rest() -> None:
    candidates = [("small", 10_00), ("alice", 10_000_00), ("bob", 10_000_00)]
    allocation = allocate(1_000_00, candidates)
    assert _amounts(allocation) == [("small", 10_00), ("alice", 495_00), ("bob", 495_00)]
    assert allocation.level == 495_00


def test_leftover_cents_go_to_the_earliest_uncapped_participants() -> None:
    candidates = [("a", 100_00), ("b", 10_00), ("c", 100_00), ("d", 100_00), ("e", 100_00)]
    # 5 participants: b gives 10.00; 90.02 left for four: 22.505 each -> 22.51, 22.51, 22.50, 22.50
    allocation = allocate(100_02, candidates, AllocationPolicy(min_ticket=20_00))
    assert _amounts(allocation) == [
        ("a", 2251),
        ("b", 1000),
        ("c", 2251),
        ("d", 2250),
        ("e", 2250),
    ]
    assert allocation.level == Fraction(9002, 4)


def test_amount_below_the_min_ticket_goes_to_the_first_investor() -> None:
    allocation = allocate(10_00, [("a", 500_00), ("b", 500_00)])
    assert _amounts(allocation) == [("a", 10_00)]


def test_small_investors_at_the_front_give_everything_even_below_the_min_ticket() -> None:
    candidates = [(f"s{i}", 10_00) for i in range(10)] + [("rich", 1_000_00)]
    allocation = allocate(100_00, candidates)
    assert _amounts(allocation) == [(f"s{i}", 10_00) for i in range(10)]
    assert allocation.level == 10_00


def test_max_share_caps_every_part() -> None:
    candidates = [("a", 1_000_00), ("b", 1_000_00), ("c", 1_000_00)]
    policy = AllocationPolicy(max_share=Fraction(1, 2))
    allocation = allocate(100_00, candidates, policy)
    assert _amounts(allocation) == [("a", 3334), ("b", 3333), ("c", 3333)]
    assert capped_available(100_00, [1_000_00, 20_00], policy) == [50_00, 20_00]


def test_not_possible_when_all_candidates_together_fall_short() -> None:
    with pytest.raises(AllocationNotPossible) as caught:
        allocate(1_000_00, [("a", 300_00), ("b", 200_00)])
    assert (caught.value.requested, caught.value.available) == (1_000_00, 500_00)


def test_not_possible_counts_only_what_the_share_cap_lets_through() -> None:
    policy = AllocationPolicy(max_share=Fraction(1, 4))
    with pytest.raises(AllocationNotPossible) as caught:
        allocate(1_000_00, [("a", 1_000_00), ("b", 1_000_00)], policy)
    assert (caught.value.requested, caught.value.available) == (1_000_00, 500_00)


def test_share_cap_below_one_cent_makes_every_allocation_impossible() -> None:
    with pytest.raises(AllocationNotPossible) as caught:
        allocate(100, [("a", 1_000_00)], AllocationPolicy(max_share=Fraction(1, 1000)))
    assert caught.value.available == 0


def test_no_candidates_is_not_possible() -> None:
    with pytest.raises(AllocationNotPossible):
        allocate(100, [])


def test_pro_rata_splits_in_proportion_to_available() -> None:
    policy = AllocationPolicy(strategy=Strategy.PRO_RATA)
    allocation = allocate(100_00, [("a", 100_00), ("b", 300_00)], policy)
    assert _amounts(allocation) == [("a", 25_00), ("b", 75_00)]
    assert allocation.level is None


def test_pro_rata_leaves_out_zero_parts() -> None:
    policy = AllocationPolicy(strategy=Strategy.PRO_RATA)
    allocation = allocate(100, [("dust", 1), ("whale", 1_000_000)], policy)
    assert _amounts(allocation) == [("whale", 100)]


def test_pro_rata_not_possible() -> None:
    policy = AllocationPolicy(strategy=Strategy.PRO_RATA)
    with pytest.raises(AllocationNotPossible) as caught:
        allocate(100_00, [("a", 10_00)], policy)
    assert caught.value.available == 10_00


@pytest.mark.parametrize(
    ("amount", "candidates", "error"),
    [
        (0, [("a", 100)], InvalidAmount),
        (100, [("a", 0)], InvalidInput),
        (100, [("a", -5)], InvalidInput),
        (100, [("a", 100), ("a", 100)], InvalidInput),
    ],
)
def test_invalid_requests_are_refused(
    amount: int, candidates: list[tuple[str, int]], error: type[Exception]
) -> None:
    with pytest.raises(error):
        allocate(amount, candidates)


@pytest.mark.parametrize(
    ("min_ticket", "max_share", "field"),
    [
        (0, None, "min_ticket"),
        (25_00, Fraction(0), "max_share"),
        (25_00, Fraction(3, 2), "max_share"),
    ],
)
def test_invalid_policies_are_refused(
    min_ticket: int, max_share: Fraction | None, field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        AllocationPolicy(min_ticket=min_ticket, max_share=max_share)
    assert caught.value.field == field


def test_large_queue_allocates_everybody() -> None:
    candidates = [(i, 1_000 + i % 7) for i in range(20_000)]
    allocation = allocate(
        sum(a for _, a in candidates) - 1, candidates, AllocationPolicy(min_ticket=1)
    )
    assert len(allocation.parts) == 20_000
    assert allocation.parts[0] == AllocationPart(0, 1_000)


# --- properties -------------------------------------------------------------------------------


def _level(caps: list[int], amount: int) -> Fraction | None:
    """λ with Σ min(cap, λ) = amount, by definition: try every count of capped investors."""
    ordered = sorted(caps)
    for capped in range(len(ordered)):
        level = Fraction(amount - sum(ordered[:capped]), len(ordered) - capped)
        if (capped == 0 or ordered[capped - 1] <= level) and level <= ordered[capped]:
            return level
    return None


def _expected_count(caps: list[int], amount: int, min_ticket: int) -> int | None:
    covering = [k for k in range(1, len(caps) + 1) if sum(caps[:k]) >= amount]
    if not covering:
        return None
    ticketed = [k for k in covering if (_level(caps[:k], amount) or 0) >= min_ticket]
    return max([covering[0], *ticketed])


scales = st.sampled_from([10, 1_000, 100_000, 10**9])


@st.composite
def requests(draw: st.DrawFn) -> tuple[int, list[tuple[int, int]], AllocationPolicy]:
    scale = draw(scales)
    available = draw(st.lists(st.integers(1, scale), max_size=40))
    amount = draw(st.integers(1, max(1, sum(available) + draw(st.integers(-scale, scale)))))
    max_share = draw(st.none() | st.fractions(Fraction(1, 100), 1, max_denominator=100))
    policy = AllocationPolicy(draw(st.integers(1, scale)), max_share, Strategy.EQUAL_SPLIT)
    return amount, list(enumerate(available)), policy


@given(requests())
@PROPERTY
def test_equal_split_invariants(
    request: tuple[int, list[tuple[int, int]], AllocationPolicy],
) -> None:
    amount, candidates, policy = request
    caps = capped_available(amount, [a for _, a in candidates], policy)
    expected_count = _expected_count(caps, amount, policy.min_ticket)
    if expected_count is None:
        with pytest.raises(AllocationNotPossible) as refused:
            allocate(amount, candidates, policy)
        assert (refused.value.requested, refused.value.available) == (amount, sum(caps))
        return
    allocation = allocate(amount, candidates, policy)
    assert allocation == allocate(amount, candidates, policy)  # deterministic
    parts = [p.amount for p in allocation.parts]
    level = allocation.level
    assert level is not None
    assert len(parts) == expected_count
    assert [p.investor_id for p in allocation.parts] == [i for i, _ in candidates[: len(parts)]]
    assert level == _level(caps[: len(parts)], amount)
    assert sum(parts) == amount
    for part, cap in zip(parts, caps, strict=False):
        assert 0 < part <= cap
        assert part < level + 1
        if cap < level:
            assert part == cap
        else:
            assert part > level - 1


@given(requests())
@PROPERTY
def test_pro_rata_invariants(request: tuple[int, list[tuple[int, int]], AllocationPolicy]) -> None:
    amount, candidates, policy = request
    policy = AllocationPolicy(policy.min_ticket, policy.max_share, Strategy.PRO_RATA)
    caps = dict(
        zip(
            (i for i, _ in candidates),
            capped_available(amount, [a for _, a in candidates], policy),
            strict=True,
        )
    )
    assume(sum(caps.values()) >= amount)
    allocation = allocate(amount, candidates, policy)
    assert sum(p.amount for p in allocation.parts) == amount
    for part in allocation.parts:
        assert 0 < part.amount <= caps[part.investor_id]
        assert abs(part.amount - Fraction(amount * caps[part.investor_id], sum(caps.values()))) < 1


# --- the head of the queue ---------------------------------------------------------------------


@given(requests(), st.integers(0, 45))
@PROPERTY
def test_an_allocation_from_the_head_of_the_queue_is_the_allocation_from_all_of_it(
    request: tuple[int, list[tuple[int, int]], AllocationPolicy], length: int
) -> None:
    """Given only the first `length` candidates, an allocation is either exactly the one the
    whole queue gives, or QueueHeadTooShort (never a different answer)."""
    amount, candidates, policy = request
    head = candidates[:length]
    try:
        whole: Allocation[int] | type[AllocationNotPossible] = allocate(amount, candidates, policy)
    except AllocationNotPossible:
        whole = AllocationNotPossible
    try:
        from_head = allocate(amount, head, policy, complete=len(head) == len(candidates))
    except QueueHeadTooShort:
        return
    except AllocationNotPossible:
        assert whole is AllocationNotPossible
        return
    assert from_head == whole


@st.composite
def rich_queues(draw: st.DrawFn) -> tuple[int, list[tuple[int, int]], AllocationPolicy]:
    """Queues in which every cap reaches the minimum ticket (balances and the share cap)."""
    min_ticket = draw(st.integers(1, 10_000))
    amount = draw(st.integers(1, 2_000_000))
    max_share = draw(st.none() | st.fractions(Fraction(1, 100), 1, max_denominator=100))
    if max_share is not None and max_share.numerator * amount // max_share.denominator < min_ticket:
        max_share = None
    available = draw(st.lists(st.integers(min_ticket, 50 * min_ticket), min_size=1, max_size=60))
    return amount, list(enumerate(available)), AllocationPolicy(min_ticket, max_share)


@given(rich_queues())
@PROPERTY
def test_the_queue_head_is_long_enough_when_every_cap_reaches_the_min_ticket(
    request: tuple[int, list[tuple[int, int]], AllocationPolicy],
) -> None:
    """`queue_head` candidates always decide the allocation: it is the whole queue's."""
    amount, queue, policy = request
    head = queue[: queue_head(amount, policy)]
    complete = len(head) == len(queue)
    try:
        whole = allocate(amount, queue, policy)
    except AllocationNotPossible:
        assert complete  # a long enough head always covers the amount
        with pytest.raises(AllocationNotPossible):
            allocate(amount, head, policy, complete=complete)
        return
    assert allocate(amount, head, policy, complete=complete) == whole


def test_a_head_that_cannot_cover_the_amount_asks_for_more() -> None:
    with pytest.raises(QueueHeadTooShort):
        allocate(1_000_00, [("a", 100_00), ("b", 100_00)], EQUAL, complete=False)
    with pytest.raises(AllocationNotPossible):
        allocate(1_000_00, [("a", 100_00), ("b", 100_00)], EQUAL)


def test_pro_rata_needs_the_whole_queue() -> None:
    policy = AllocationPolicy(strategy=Strategy.PRO_RATA)
    with pytest.raises(QueueHeadTooShort):
        allocate(100_00, [("a", 1_000_00)], policy, complete=False)


def test_a_ten_thousand_loan_reads_forty_one_candidates_of_a_million() -> None:
    """The scan stops one past the last participant: the rest of the queue is never read."""
    read = 0

    def queue() -> Iterator[tuple[int, int]]:
        nonlocal read
        for i in range(1_000_000):
            read += 1
            yield i, 1_000_00

    policy = AllocationPolicy(min_ticket=250_00)
    allocation = allocate(10_000_00, queue(), policy)
    assert len(allocation.parts) == 40
    assert read == 41 == queue_head(10_000_00, policy)


@pytest.mark.parametrize(
    "candidates", [[("a", 100_00), ("b", 0)], [("a", 100_00), ("a", 50_00)]], ids=["zero", "twice"]
)
def test_pro_rata_refuses_invalid_candidates_too(candidates: list[tuple[str, int]]) -> None:
    with pytest.raises(InvalidInput):
        allocate(50_00, candidates, AllocationPolicy(strategy=Strategy.PRO_RATA))


def test_a_head_that_covers_the_amount_but_might_take_more_investors_asks_for_more() -> None:
    """Two investors cover 100.00, but two more at the 25.00 ticket would join: the head of
    two cannot decide, the whole queue can."""
    policy = AllocationPolicy(min_ticket=25_00)
    queue = [("a", 60_00), ("b", 60_00), ("c", 60_00), ("d", 60_00), ("e", 60_00)]
    with pytest.raises(QueueHeadTooShort):
        allocate(100_00, queue[:2], policy, complete=False)
    assert len(allocate(100_00, queue, policy).parts) == 4
