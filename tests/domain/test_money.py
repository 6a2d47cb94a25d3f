from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bank_api.domain.errors import InvalidAmount, InvalidInput
from bank_api.domain.money import (
    MAX_AMOUNT_CENTS,
    ROUNDING,
    apportion,
    check_amount,
    remainder_order,
    round_cents,
    split_pro_rata,
)
from tests.domain.strategies import PROPERTY


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Fraction(5, 2), 2),
        (Fraction(7, 2), 4),
        (Fraction(-5, 2), -2),
        (Fraction(-7, 2), -4),
        (Fraction(1, 3), 0),
        (Fraction(2, 3), 1),
        (Fraction(-1, 3), 0),
        (Fraction(-2, 3), -1),
        (Fraction(10), 10),
        (Fraction(86480652931, 100000000), 865),
    ],
)
def test_round_cents_is_half_even(value: Fraction, expected: int) -> None:
    assert ROUNDING == "half_even"
    assert round_cents(value) == expected


@given(st.fractions(min_value=-(10**15), max_value=10**15, max_denominator=10**6))
@PROPERTY
def test_round_cents_agrees_with_decimal_half_even(value: Fraction) -> None:
    with localcontext() as context:
        context.prec = 60  # |value| < 1e15 and denominators <= 1e6: the quotient is exact enough
        exact = Decimal(value.numerator) / Decimal(value.denominator)
        expected = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    assert round_cents(value) == expected
    assert abs(round_cents(value) - value) <= Fraction(1, 2)


@pytest.mark.parametrize("amount", [1, 12345, MAX_AMOUNT_CENTS])
def test_check_amount_accepts_positive_amounts_up_to_the_maximum(amount: int) -> None:
    assert check_amount(amount) == amount


@pytest.mark.parametrize("amount", [0, -1, MAX_AMOUNT_CENTS + 1])
def test_check_amount_refuses_zero_negative_and_too_large(amount: int) -> None:
    with pytest.raises(InvalidAmount) as caught:
        check_amount(amount, "deposit")
    assert caught.value.field == "deposit"
    assert caught.value.value == amount


def test_remainder_order_is_largest_first_then_position() -> None:
    assert remainder_order([1, 3, 3, 0, 2]) == [1, 2, 4, 0, 3]


@pytest.mark.parametrize(
    ("total", "weights", "expected"),
    [
        (100, [1, 1, 1], (34, 33, 33)),
        (10, [1, 2], (3, 7)),
        (0, [5, 5], (0, 0)),
        (7, [0, 1], (0, 7)),
        (5, [1, 1, 1, 1, 1, 1], (1, 1, 1, 1, 1, 0)),
        (3, [1, 3, 3], (1, 1, 1)),
        (4, [1, 3, 3], (0, 2, 2)),  # Alabama paradox of plain largest remainder: see distribution
    ],
)
def test_split_pro_rata_hand_checked(
    total: int, weights: list[int], expected: tuple[int, ...]
) -> None:
    assert split_pro_rata(total, weights) == expected


@pytest.mark.parametrize(
    ("total", "weights", "field"),
    [(-1, [1], "total"), (5, [0, 0], "weights"), (5, [], "weights"), (5, [2, -1], "numerators")],
)
def test_split_pro_rata_refuses_bad_input(total: int, weights: list[int], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        split_pro_rata(total, weights)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("numerators", "denominator", "field"),
    [([1, 1], 0, "denominator"), ([1, 1], 3, "numerators"), ([-3, 6], 3, "numerators")],
)
def test_apportion_refuses_bad_input(numerators: list[int], denominator: int, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        apportion(numerators, denominator)
    assert caught.value.field == field


@given(
    st.integers(min_value=0, max_value=MAX_AMOUNT_CENTS),
    st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=30).filter(any),
)
@PROPERTY
def test_split_pro_rata_adds_up_and_stays_within_a_cent(total: int, weights: list[int]) -> None:
    parts = split_pro_rata(total, weights)
    assert sum(parts) == total
    assert parts == split_pro_rata(total, weights)
    for part, weight in zip(parts, weights, strict=True):
        quota = Fraction(total * weight, sum(weights))
        assert part >= 0
        assert abs(part - quota) < 1
