"""Handing a loan's payments on to its investors, and splitting a write-off (docs/CONTRACT.md §3).

Payments are shared **cumulatively**: after each payment, investor ``i``'s total received is
kept at its exact quota ``q_i = T * w_i / W`` of the loan's total ``T`` received so far
(``w_i`` its allocation, ``W = Σ w``), to within a cent; the payment's part is the increase.

Plain largest remainder recomputed for every ``T`` is not house-monotone (the Alabama paradox:
a larger total can give somebody a cent less, i.e. a negative part). So the increment is
handed out by :func:`cumulative_split`: as if one cent at a time, each cent going to the
investor lagging furthest behind its quota (largest ``q_i - received_i``; ties to the earlier
investor), never lifting anybody above ``max(received_i, ceil(q_i))``. Guarantees:

* parts are >= 0 and add up to the increment exactly;
* nobody's cumulative total exceeds ``ceil(q_i)`` unless it already did;
* for principal ``T <= W`` keeps ``received_i <= w_i``; so at payoff (``T = W``, where every
  ``q_i = w_i``) every investor has received exactly its allocation back;
* when the increment suffices to lift everybody to ``floor(q_i)`` (the usual case), the result
  is plain largest remainder on top of that: ``floor(q_i) <= received_i <= ceil(q_i)``.
  Otherwise the cents go to whoever lags furthest, and in rare histories an investor lags its
  quota by a little more than a cent until later payments catch it up (house monotonicity and
  both quota bounds cannot all hold for arbitrary jumps); payoff is exact regardless.

Interest uses the same rule with the same weights; its total is not known in advance.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from bank_api.domain.errors import InvalidInput
from bank_api.domain.money import remainder_order

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Holding(Generic[K]):
    """One investor's position in one loan."""

    investor_id: K
    allocated: int
    principal_received: int = 0
    interest_received: int = 0

    @property
    def outstanding(self) -> int:
        """Principal still lent out: ``allocated - principal_received``."""
        return self.allocated - self.principal_received


@dataclass(frozen=True, slots=True)
class InvestorPayment(Generic[K]):
    investor_id: K
    principal: int
    interest: int


@dataclass(frozen=True, slots=True)
class InvestorLoss(Generic[K]):
    investor_id: K
    amount: int


def cumulative_split(
    weights: Sequence[int], received: Sequence[int], total: int
) -> tuple[int, ...]:
    """Parts of ``total - Σ received`` that bring each ``received_i`` towards ``total * w_i / W``.

    Cent by cent to the largest gap ``x_i = q_i - received_i`` (see the module doc), computed
    in ``O(n log n)``: investor ``i``'s j-th extra cent has key ``x_i - j``, and it may take
    ``room_i = max(0, ceil(x_i))`` cents. The ``D`` largest keys are all keys whose integer part
    is above a level ``L`` plus, among keys with integer part exactly ``L`` (one per investor,
    of value ``L + frac(q_i)``), those with the largest remainders, then the earlier investors.
    """
    weight_sum = _check_split(weights, received, total)
    need = total - sum(received)
    gaps = [total * w - r * weight_sum for w, r in zip(weights, received, strict=True)]
    floors = [g // weight_sum for g in gaps]
    rooms = [max(0, -(-g // weight_sum)) for g in gaps]
    level = _key_level(floors, need)
    base = [max(0, min(room, f - level - 1)) for room, f in zip(rooms, floors, strict=True)]
    upper = [max(0, min(room, f - level)) for room, f in zip(rooms, floors, strict=True)]
    tied = [i for i, (lo, hi) in enumerate(zip(base, upper, strict=True)) if hi > lo]
    for position in remainder_order([gaps[i] % weight_sum for i in tied])[: need - sum(base)]:
        base[tied[position]] += 1
    return tuple(base)


def _key_level(floors: Sequence[int], need: int) -> int:
    """The largest ``L >= -1`` with ``N(L) = Σ max(0, floor_i - L) >= need`` (``N(-1)`` counts
    every room, which always suffices).

    With the positive floors sorted descending ``t_1 >= t_2 >= ...`` and ``S_k = t_1 + ... +
    t_k``, ``N(L) = S_k - k L`` for ``t_{k+1} <= L < t_k``; the first ``k`` whose interval holds
    an ``L`` with ``N(L) >= need`` holds the largest one.
    """
    top = [*sorted((f for f in floors if f > 0), reverse=True), 0]
    running = 0
    for k in range(1, len(top)):
        running += top[k - 1]
        level = min(top[k - 1] - 1, (running - need) // k)
        if level >= top[k]:
            return level
    return -1


def distribute_payment(
    holdings: Sequence[Holding[K]], principal: int, interest: int
) -> tuple[InvestorPayment[K], ...]:
    """Each investor's part of a payment of ``principal`` + ``interest`` cents.

    Weights are the allocations; cumulative totals are ``Σ received + this payment``. The
    principal parts add up to ``principal`` and the interest parts to ``interest``, exactly.
    Raises InvalidInput for negative parts or principal beyond the outstanding principal.
    """
    if not holdings:
        raise InvalidInput("holdings", holdings, "a loan has at least one investor")
    if principal < 0 or interest < 0:
        raise InvalidInput("payment", (principal, interest), "parts must be >= 0")
    weights = [h.allocated for h in holdings]
    principal_received = [h.principal_received for h in holdings]
    interest_received = [h.interest_received for h in holdings]
    if principal > sum(weights) - sum(principal_received):
        raise InvalidInput("principal", principal, "exceeds the outstanding principal")
    if any(h.principal_received > h.allocated for h in holdings):
        raise InvalidInput("holdings", "...", "principal received exceeds the allocation")
    principal_parts = cumulative_split(
        weights, principal_received, sum(principal_received) + principal
    )
    interest_parts = cumulative_split(weights, interest_received, sum(interest_received) + interest)
    return tuple(
        InvestorPayment(h.investor_id, p, i)
        for h, p, i in zip(holdings, principal_parts, interest_parts, strict=True)
    )


def write_off_losses(holdings: Sequence[Holding[K]]) -> tuple[InvestorLoss[K], ...]:
    """Each investor loses exactly its outstanding principal; the losses add up to the loan's
    outstanding principal. Investors already repaid in full lose nothing and are left out."""
    return tuple(InvestorLoss(h.investor_id, h.outstanding) for h in holdings if h.outstanding > 0)


def _check_split(weights: Sequence[int], received: Sequence[int], total: int) -> int:
    if len(weights) != len(received):
        raise InvalidInput("received", len(received), f"must have {len(weights)} entries")
    if any(w <= 0 for w in weights):
        raise InvalidInput("weights", "...", "must all be > 0")
    if any(r < 0 for r in received):
        raise InvalidInput("received", "...", "must all be >= 0")
    if total < sum(received):
        raise InvalidInput("total", total, "must be at least what was already received")
    return sum(weights)
