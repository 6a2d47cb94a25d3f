"""An investor's auto-invest preferences, and what they let the allocation take (SPEC §11.1).

An investor takes part in allocation only while ``active``, only in loans whose product their
``loan_types`` admit (``None``: every product), and only with money the preferences free:

* ``allocatable = min(available - keep_available, max_portfolio - invested)`` (the second term
  only when ``max_portfolio`` is set) is what all the loans together may still take;
* the cap in one loan is ``min(allocatable, max_per_loan)`` (when set); the allocation policy's
  ``max_share`` cap comes on top (:mod:`bank_api.domain.allocation`).

An investor whose cap is not above zero is not a candidate at all (skipped, not capped at zero);
:func:`Preferences.reason` says why. Changing preferences moves no money already allocated.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from bank_api.domain.errors import InvalidInput

K = TypeVar("K", bound=Hashable)


class NotCandidate(StrEnum):
    """Why an investor's money is not in the allocation queue right now."""

    PAUSED = "paused"
    NOTHING_AVAILABLE = "nothing_available"
    RESERVE = "reserve"
    PORTFOLIO_LIMIT = "portfolio_limit"


@dataclass(frozen=True, slots=True)
class Preferences:
    active: bool = True
    loan_types: frozenset[str] | None = None
    max_per_loan: int | None = None
    keep_available: int = 0
    max_portfolio: int | None = None

    def __post_init__(self) -> None:
        if self.keep_available < 0:
            raise InvalidInput("keep_available", self.keep_available, "must be >= 0")
        for name in ("max_per_loan", "max_portfolio"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise InvalidInput(name, value, "must be > 0 when set")
        if self.loan_types is not None and not self.loan_types:
            raise InvalidInput("loan_types", "[]", "name at least one product, or None for all")

    def admits(self, loan_type: str) -> bool:
        return self.loan_types is None or loan_type in self.loan_types

    def allocatable(self, available: int, invested: int) -> int:
        """What every loan together may still take (may be <= 0)."""
        free = available - self.keep_available
        if self.max_portfolio is None:
            return free
        return min(free, self.max_portfolio - invested)

    def cap(self, available: int, invested: int) -> int:
        """The most one loan may take (may be <= 0; ``max_share`` not included)."""
        allocatable = self.allocatable(available, invested)
        return allocatable if self.max_per_loan is None else min(allocatable, self.max_per_loan)

    def reason(self, available: int, invested: int) -> NotCandidate | None:
        """Why the investor is not a candidate, checked in this order; None when they are."""
        if not self.active:
            return NotCandidate.PAUSED
        if available <= 0:
            return NotCandidate.NOTHING_AVAILABLE
        if available <= self.keep_available:
            return NotCandidate.RESERVE
        if self.allocatable(available, invested) <= 0:
            return NotCandidate.PORTFOLIO_LIMIT
        return None


def candidates(
    loan_type: str, accounts: Iterable[tuple[K, int, int, Preferences]]
) -> list[tuple[K, int]]:
    """``(investor_id, cap)`` of the candidates for a loan of ``loan_type``, in the order given
    (queue order), from ``(investor_id, available, invested, preferences)``."""
    chosen: list[tuple[K, int]] = []
    for investor_id, available, invested, preferences in accounts:
        if preferences.reason(available, invested) is None and preferences.admits(loan_type):
            chosen.append((investor_id, preferences.cap(available, invested)))
    return chosen
