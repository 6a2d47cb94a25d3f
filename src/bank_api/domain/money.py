"""Cents, the one rounding helper, and the one largest-remainder apportionment.

Every amount in the domain is an ``int`` number of cents. Exact intermediate values are
``fractions.Fraction``; they become cents only through :func:`round_cents` (rounding mode
``ROUNDING``: half to even, "banker's rounding"). Splitting an amount into integer parts goes
only through :func:`apportion` (largest remainder, ties to the earlier position).
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Final

from bank_api.domain.errors import InvalidAmount, InvalidInput

ROUNDING: Final = "half_even"
"""The rounding mode of :func:`round_cents`: a value exactly halfway goes to the even cent."""

MAX_AMOUNT_CENTS: Final = 100_000_000_000_000
"""1,000,000,000,000.00: the largest amount the service accepts."""


def round_cents(value: Fraction) -> int:
    """Round an exact value (in cents) to a whole cent, half to even.

    ``floor(v)`` when ``frac(v) < 1/2``, ``floor(v) + 1`` when ``> 1/2``, and the even one of
    the two when exactly ``1/2``: 2.5 -> 2, 3.5 -> 4, -2.5 -> -2.
    """
    whole, rest = divmod(value.numerator, value.denominator)
    twice = 2 * rest
    if twice > value.denominator or (twice == value.denominator and whole % 2 == 1):
        return whole + 1
    return whole


def check_amount(amount: int, field: str = "amount") -> int:
    """Return ``amount`` when ``0 < amount <= MAX_AMOUNT_CENTS``, else raise InvalidAmount."""
    if amount <= 0:
        raise InvalidAmount(field, amount, "must be greater than 0")
    if amount > MAX_AMOUNT_CENTS:
        raise InvalidAmount(field, amount, f"must be at most {MAX_AMOUNT_CENTS} cents")
    return amount


def remainder_order(remainders: Sequence[int]) -> list[int]:
    """Positions ordered by largest remainder first, then by position (the one tie-break).

    ``sorted`` is stable also with ``reverse=True``, so equal remainders keep their order.
    """
    return sorted(range(len(remainders)), key=remainders.__getitem__, reverse=True)


def apportion(numerators: Sequence[int], denominator: int) -> tuple[int, ...]:
    """Whole parts of the exact quotas ``q_i = numerators[i] / denominator`` (largest remainder).

    Requires every ``numerators[i] >= 0`` and ``sum(q_i)`` to be a whole number ``T``. Each part
    starts at ``floor(q_i)``; the ``T - sum(floor(q_i))`` leftover units go one each to the
    largest remainders, ties to the earlier position. Hence ``sum(parts) == T`` and
    ``floor(q_i) <= part_i <= ceil(q_i)``: nobody is ever more than one unit off their quota.
    """
    if denominator <= 0:
        raise InvalidInput("denominator", denominator, "must be greater than 0")
    if any(n < 0 for n in numerators):
        raise InvalidInput("numerators", "...", "must all be >= 0")
    total, inexact = divmod(sum(numerators), denominator)
    if inexact:
        raise InvalidInput("numerators", "...", "quotas must add up to a whole number")
    parts = [n // denominator for n in numerators]
    leftover = total - sum(parts)
    if leftover:
        remainders = [n % denominator for n in numerators]
        for i in remainder_order(remainders)[:leftover]:
            parts[i] += 1
    return tuple(parts)


def split_pro_rata(total: int, weights: Sequence[int]) -> tuple[int, ...]:
    """Split ``total`` cents in proportion to ``weights``: parts of ``total * w_i / sum(w)``.

    Largest remainder (see :func:`apportion`): the parts add up to ``total`` exactly and each
    is within one cent of its exact share. ``weights`` are >= 0 with a positive sum.
    """
    if total < 0:
        raise InvalidInput("total", total, "must be >= 0")
    weight_sum = sum(weights)
    if weight_sum <= 0:
        raise InvalidInput("weights", "...", "must add up to more than 0")
    return apportion([total * w for w in weights], weight_sum)
