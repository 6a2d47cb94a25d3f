"""Allocation: which investors fund a credit, and with how much (docs/CONTRACT.md §3).

Candidates come as ``(investor_id, cap_cents)`` in queue order (who has waited longest since
their money rose from zero or they last funded a loan goes first), the cap being what their
preferences let this loan take (:mod:`bank_api.domain.preferences`). Each one's cap in the
split is ``cap_i = min(cap_cents_i, floor(max_share * amount))``.

**Equal split** (water-filling). For the first ``k`` candidates, the water level ``λ(k)`` is
the level with ``Σ min(cap_i, λ) = amount`` (defined once ``Σ cap_i >= amount``); everybody
gives ``λ`` unless their cap is lower, in which case they give their whole cap. ``λ(k)`` only
falls as ``k`` grows. The number of participants is ``k* = max(k_cover, k_ticket)``:

* ``k_cover``: the fewest front candidates whose caps cover the amount (none: the allocation is
  impossible, :class:`AllocationNotPossible` with ``available = Σ cap_i`` over all candidates);
* ``k_ticket``: the most front candidates with ``Σ_{i<=k} min(cap_i, min_ticket) <= amount``.
  For ``k > k_cover`` this is exactly ``λ(k) >= min_ticket``, so ``k*`` is "as many as possible
  while λ >= min_ticket, but at least as many as needed to cover the amount".

``λ(k*) < min_ticket`` happens only when ``k* = k_cover``, i.e. when the amount is smaller
than ``min_ticket`` times the participants needed, either because the amount itself is below
``min_ticket`` (one investor takes it all) or because the front of the queue holds investors
whose caps are below ``min_ticket`` (they give everything and the level stays under it).
Always ``λ >= 1`` cent (fewer would make ``k_cover`` smaller), so every part is > 0.

Cents: each exact part ``min(cap_i, λ)`` is apportioned by largest remainder (see
:func:`bank_api.domain.money.apportion`). Capped parts are whole; uncapped parts share one
remainder, so the leftover cents go to the earliest uncapped participants in queue order, and
an uncapped cap is > λ, so it is never exceeded. Result: parts add up to the amount,
``0 < part <= cap``, ``part <= λ + 1``, and uncapped parts ``> λ - 1`` (in fact ``>= floor λ``).

Cost: one early-stopping scan over the head of the queue and one sort of the participants'
caps: ``O(k log k)`` for ``k`` participants, whatever the length of the queue. The scan reads
the candidates lazily and stops one past the last participant, so the caller may pass only the
head of the queue (``complete=False``): :func:`queue_head` says how long a head will do when
every cap is at least the minimum ticket, and :class:`QueueHeadTooShort` asks for a longer
one when the scan ran off its end (small balances at the front of the queue).

**Pro rata**: every candidate gives ``amount * cap_i / Σ cap`` (largest remainder; zero
parts are dropped). ``min_ticket`` does not apply.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from typing import Generic, TypeVar

from bank_api.domain.errors import AllocationNotPossible, InvalidInput
from bank_api.domain.money import apportion, check_amount, split_pro_rata

K = TypeVar("K", bound=Hashable)

DEFAULT_MIN_TICKET = 2500


class Strategy(StrEnum):
    EQUAL_SPLIT = "equal_split"
    PRO_RATA = "pro_rata"


@dataclass(frozen=True, slots=True)
class AllocationPolicy:
    min_ticket: int = DEFAULT_MIN_TICKET
    max_share: Fraction | None = None
    """Largest fraction of one loan a single investor may fund; ``None``: no cap."""
    strategy: Strategy = Strategy.EQUAL_SPLIT

    def __post_init__(self) -> None:
        if self.min_ticket < 1:
            raise InvalidInput("min_ticket", self.min_ticket, "must be at least 1 cent")
        if self.max_share is not None and not 0 < self.max_share <= 1:
            raise InvalidInput("max_share", self.max_share, "must be in (0, 1]")


class QueueHeadTooShort(Exception):
    """The candidates were only the head of the queue and the allocation needs more of it."""


@dataclass(frozen=True, slots=True)
class AllocationPart(Generic[K]):
    investor_id: K
    amount: int


@dataclass(frozen=True, slots=True)
class Allocation(Generic[K]):
    parts: tuple[AllocationPart[K], ...]
    """Participants in queue order; amounts add up to the loan amount."""
    level: Fraction | None
    """The water level λ of an equal split (``None`` for pro rata)."""


def allocate(
    amount: int,
    candidates: Iterable[tuple[K, int]],
    policy: AllocationPolicy = AllocationPolicy(),
    *,
    complete: bool = True,
) -> Allocation[K]:
    """Split ``amount`` cents among ``candidates`` under ``policy`` (see the module doc).

    ``complete=False``: the candidates are only the head of the queue; QueueHeadTooShort when
    the allocation would need more of it (pro rata always needs all of it).
    Raises InvalidAmount, InvalidInput (non-positive ``available`` or a repeated investor id)
    and AllocationNotPossible.
    """
    check_amount(amount)
    if policy.strategy is Strategy.PRO_RATA:
        if not complete:
            raise QueueHeadTooShort
        every = list(_checked(candidates))
        caps = capped_available(amount, [available for _, available in every], policy)
        return _pro_rata(amount, every, caps)
    return _equal_split(amount, candidates, policy, complete)


def queue_head(amount: int, policy: AllocationPolicy = AllocationPolicy()) -> int:
    """How many candidates an equal split of ``amount`` reads when every cap is at least the
    minimum ticket: the most that fit at one ticket each, or the fewest that the share cap
    lets cover the amount, and one more to see the scan stop."""
    fit = amount // policy.min_ticket
    if policy.max_share is not None:
        share_cap = max(1, policy.max_share.numerator * amount // policy.max_share.denominator)
        fit = max(fit, -(-amount // share_cap))
    return fit + 1


def capped_available(amount: int, available: Sequence[int], policy: AllocationPolicy) -> list[int]:
    """``cap_i = min(available_i, floor(max_share * amount))`` (just ``available_i`` uncapped)."""
    if policy.max_share is None:
        return list(available)
    share_cap = policy.max_share.numerator * amount // policy.max_share.denominator
    return [min(a, share_cap) for a in available]


def participant_count(
    candidates: Iterable[tuple[K, int]], amount: int, min_ticket: int, share_cap: int | None
) -> tuple[list[tuple[K, int]], int, bool]:
    """``k* = max(k_cover, k_ticket)`` in one scan that stops once both are known: the
    candidates read (each checked), ``k*``, and whether the scan stopped before their end (if
    not, a longer queue could change ``k*``)."""
    read: list[tuple[K, int]] = []
    seen: set[K] = set()
    covered = ticketed = k_ticket = 0
    k_cover = None
    for candidate in candidates:
        investor_id, available = candidate
        if available <= 0:
            raise InvalidInput("candidates", "...", "every available amount must be > 0")
        seen.add(investor_id)
        read.append(candidate)
        if len(seen) != len(read):
            raise InvalidInput("candidates", "...", "an investor appears more than once")
        cap = available if share_cap is None or available < share_cap else share_cap
        if k_cover is None:
            covered += cap
            k_cover = len(read) if covered >= amount else None
        ticketed += cap if cap < min_ticket else min_ticket
        if ticketed > amount:
            # and covered >= ticketed > amount: a ticket never exceeds its cap
            return read, max(k_cover or 0, k_ticket), True
        k_ticket = len(read)
    if k_cover is None:
        raise AllocationNotPossible(requested=amount, available=covered)
    return read, max(k_cover, k_ticket), False


def water_level(caps: Sequence[int], amount: int) -> tuple[int, int]:
    """``λ = rest / uncapped`` with ``Σ min(cap_i, λ) = amount``; needs ``Σ caps >= amount``.

    Walks the caps in ascending order: a cap below the level of the ones not yet capped
    (``cap * uncapped < rest``) gives everything and leaves the rest to the others.
    """
    ordered = sorted(caps)
    capped = j = 0
    while ordered[j] * (len(ordered) - j) < amount - capped:
        capped += ordered[j]
        j += 1
    return amount - capped, len(ordered) - j


def _equal_split(
    amount: int, candidates: Iterable[tuple[K, int]], policy: AllocationPolicy, complete: bool
) -> Allocation[K]:
    share_cap = (
        None
        if policy.max_share is None
        else policy.max_share.numerator * amount // policy.max_share.denominator
    )
    try:
        read, count, stopped = participant_count(candidates, amount, policy.min_ticket, share_cap)
    except AllocationNotPossible:
        if not complete:
            raise QueueHeadTooShort from None
        raise
    if not stopped and not complete:
        raise QueueHeadTooShort
    chosen = read[:count]
    capped = capped_available(amount, [available for _, available in chosen], policy)
    rest, uncapped = water_level(capped, amount)
    parts = apportion([min(cap * uncapped, rest) for cap in capped], uncapped)
    return Allocation(_parts(chosen, parts), Fraction(rest, uncapped))


def _pro_rata(amount: int, candidates: Sequence[tuple[K, int]], caps: list[int]) -> Allocation[K]:
    total = sum(caps)
    if total < amount:
        raise AllocationNotPossible(requested=amount, available=total)
    parts = split_pro_rata(amount, caps)
    kept = [(candidate, part) for candidate, part in zip(candidates, parts, strict=True) if part]
    return Allocation(_parts([c for c, _ in kept], [p for _, p in kept]), None)


def _parts(
    candidates: Sequence[tuple[K, int]], amounts: Sequence[int]
) -> tuple[AllocationPart[K], ...]:
    """``AllocationPart(candidate id, amount)`` pairwise (``map``: fast for a million)."""
    ids = [investor_id for investor_id, _ in candidates]
    return tuple(map(AllocationPart, ids, amounts))


def _checked(candidates: Iterable[tuple[K, int]]) -> Iterator[tuple[K, int]]:
    """The candidates as they are read, each checked: available > 0, no investor twice."""
    seen: set[K] = set()
    for investor_id, available in candidates:
        if available <= 0:
            raise InvalidInput("candidates", "...", "every available amount must be > 0")
        if investor_id in seen:
            raise InvalidInput("candidates", "...", "an investor appears more than once")
        seen.add(investor_id)
        yield investor_id, available


def reached_by(position: int, amounts: Iterable[int], min_ticket: int) -> int | None:
    """Which of the loans ``amounts`` (in the order they would be approved) would reach the
    candidate at ``position`` (1-based) of the queue, or None when they all fall short.

    An estimate: an equal split takes at most ``amount // min_ticket`` participants (at least
    one) from the front of the queue, and every participant moves to its back, so the loans
    reach position ``p`` once their participants add up to ``p``. Not foreseen: caps below the
    minimum ticket at the front (a loan then takes more participants), money joining or leaving
    the queue, and products the investors ahead do not fund.
    """
    if position < 1:
        raise InvalidInput("position", position, "must be >= 1")
    reached = 0
    for index, amount in enumerate(amounts):
        reached += max(1, amount // min_ticket)
        if reached >= position:
            return index
    return None
