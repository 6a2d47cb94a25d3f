from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bank_api.domain.allocation import AllocationPolicy, allocate, capped_available, reached_by
from bank_api.domain.errors import AllocationNotPossible, InvalidInput
from bank_api.domain.preferences import NotCandidate, Preferences, candidates
from tests.domain.strategies import PROPERTY

PRODUCTS = ("home_loan", "car_loan", "personal_loan")


def test_the_cap_is_the_smallest_of_what_is_free_the_per_loan_limit_and_the_portfolio_room() -> (
    None
):
    assert Preferences().cap(100_000, 0) == 100_000
    assert Preferences(keep_available=30_000).cap(100_000, 0) == 70_000
    assert Preferences(max_per_loan=5_000, keep_available=30_000).cap(100_000, 0) == 5_000
    # 2,000.00 may still be invested under a 10,000.00 limit with 8,000.00 lent out
    assert Preferences(max_portfolio=1_000_000).cap(500_000, 800_000) == 200_000
    assert Preferences(max_portfolio=1_000_000).allocatable(100_000, 800_000) == 100_000


@pytest.mark.parametrize(
    ("preferences", "available", "invested", "reason"),
    [
        (Preferences(active=False), 100, 0, NotCandidate.PAUSED),
        (Preferences(active=False), 0, 0, NotCandidate.PAUSED),
        (Preferences(), 0, 500, NotCandidate.NOTHING_AVAILABLE),
        (Preferences(keep_available=100), 100, 0, NotCandidate.RESERVE),
        (Preferences(max_portfolio=500), 100, 500, NotCandidate.PORTFOLIO_LIMIT),
        (Preferences(max_portfolio=500), 100, 499, None),
        (Preferences(keep_available=99), 100, 0, None),
    ],
)
def test_why_an_investor_is_not_a_candidate(
    preferences: Preferences, available: int, invested: int, reason: NotCandidate | None
) -> None:
    assert preferences.reason(available, invested) == reason


@pytest.mark.parametrize(
    "fields",
    [
        {"keep_available": -1},
        {"max_per_loan": 0},
        {"max_portfolio": -5},
        {"loan_types": frozenset()},
    ],
)
def test_invalid_preferences_are_refused(fields: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        Preferences(**fields)  # type: ignore[arg-type]


def test_candidates_skip_whoever_the_preferences_rule_out_and_keep_queue_order() -> None:
    accounts = [
        ("paused", 10_000, 0, Preferences(active=False)),
        ("cars only", 10_000, 0, Preferences(loan_types=frozenset({"car_loan"}))),
        ("reserve", 10_000, 0, Preferences(keep_available=10_000)),
        ("full", 10_000, 50_000, Preferences(max_portfolio=50_000)),
        ("small tickets", 10_000, 0, Preferences(max_per_loan=2_500)),
        ("everything", 10_000, 0, Preferences()),
    ]
    assert candidates("personal_loan", accounts) == [
        ("small tickets", 2_500),
        ("everything", 10_000),
    ]
    assert candidates("car_loan", accounts)[0] == ("cars only", 10_000)


preferences = st.builds(
    Preferences,
    active=st.booleans(),
    loan_types=st.none() | st.frozensets(st.sampled_from(PRODUCTS), min_size=1),
    max_per_loan=st.none() | st.integers(1, 50_000),
    keep_available=st.integers(0, 50_000) | st.just(0),
    max_portfolio=st.none() | st.integers(1, 200_000),
)
accounts = st.lists(
    st.tuples(st.integers(0, 100_000), st.integers(0, 150_000), preferences), max_size=30
)


@given(
    accounts,
    st.sampled_from(PRODUCTS),
    st.integers(1, 500_000),
    st.integers(1, 5_000),
    st.none() | st.fractions(Fraction(1, 50), 1, max_denominator=50),
)
@PROPERTY
def test_allocation_never_gives_anybody_a_part_their_preferences_forbid(
    rows: list[tuple[int, int, Preferences]],
    loan_type: str,
    amount: int,
    min_ticket: int,
    max_share: Fraction | None,
) -> None:
    book = [(i, available, invested, p) for i, (available, invested, p) in enumerate(rows)]
    chosen = candidates(loan_type, book)
    policy = AllocationPolicy(min_ticket, max_share)
    covered = sum(capped_available(amount, [cap for _, cap in chosen], policy))
    if covered < amount:
        with pytest.raises(AllocationNotPossible):
            allocate(amount, chosen, policy)
        return
    allocation = allocate(amount, chosen, policy)
    assert sum(part.amount for part in allocation.parts) == amount
    caps = dict(chosen)
    for part in allocation.parts:
        investor_id, available, invested, prefs = book[part.investor_id]
        assert prefs.active
        assert prefs.admits(loan_type)
        assert 0 < part.amount <= caps[investor_id]
        assert part.amount <= available - prefs.keep_available
        assert prefs.max_per_loan is None or part.amount <= prefs.max_per_loan
        assert prefs.max_portfolio is None or invested + part.amount <= prefs.max_portfolio
        assert max_share is None or part.amount <= max_share * amount
    # participants are the front of the candidates, in queue order, and the water-filling
    # properties hold on the caps the preferences give
    ids = [part.investor_id for part in allocation.parts]
    assert ids == [investor_id for investor_id, _ in chosen[: len(ids)]]
    level = allocation.level
    assert level is not None
    effective = capped_available(amount, [caps[i] for i in ids], policy)
    for part, cap in zip(allocation.parts, effective, strict=True):
        assert part.amount < level + 1
        assert part.amount == cap if cap < level else part.amount > level - 1


def test_the_loans_waiting_reach_a_position_by_their_tickets() -> None:
    # 100.00 at a 25.00 ticket takes four participants, 60.00 two, 10.00 one
    assert reached_by(1, [10_000, 6_000], 2_500) == 0
    assert reached_by(4, [10_000, 6_000], 2_500) == 0
    assert reached_by(5, [10_000, 6_000], 2_500) == 1
    assert reached_by(6, [10_000, 6_000, 1_000], 2_500) == 1
    assert reached_by(7, [10_000, 6_000, 1_000], 2_500) == 2
    assert reached_by(8, [10_000, 6_000, 1_000], 2_500) is None
    assert reached_by(1, [], 2_500) is None
    with pytest.raises(InvalidInput):
        reached_by(0, [10_000], 2_500)
