"""Handing a loan's payments on to its investors, and splitting a write-off (docs/CONTRACT.md §3,
SPEC §11.3).

Payments are shared **cumulatively** and **within quota**. With the allocations as weights
``w_i > 0`` (cents), ``W = Σ w`` and the loan's total ``T`` received so far (principal, and
separately interest, with the same weights), investor ``i``'s exact share is
``q_i(T) = w_i·T / W``. After every payment its cumulative total ``a_i`` satisfies::

    floor(q_i(T)) <= a_i <= ceil(q_i(T)),    a_i never decreases,    Σ a_i = T,

and the payment's part is the increase of ``a_i``. (Largest remainder recomputed for every
``T`` keeps the quota but can take a cent back, the Alabama paradox; handing each cent to the
largest gap ``q_i - a_i`` never takes one back but can leave somebody below ``floor(q_i)``.)

**Cents as jobs.** Investor ``i``'s k-th cent (k >= 1) is a unit job on one machine whose
clock is the cumulative total ``h = 1, 2, ...``, one cent per step. Upper quota allows it
from its release ``R_ik = floor((k-1)·W / w_i) + 1`` (the first ``h`` with
``q_i(h) > k - 1``); lower quota requires it by its deadline ``D_ik = ceil(k·W / w_i)`` (the
first ``h`` with ``q_i(h) >= k``). A house-monotone sequence within quota is exactly a
schedule of one job per step meeting every release and deadline; ``R_ik <= D_ik`` and both
grow with ``k``.

**The rule**, for one payment from ``T_old`` to ``T_new`` (only the totals at payments are
ever seen, so the payment is a window ``(T_old, T_new]``):

1. ``L_i = max(a_i, floor(q_i(T_new)))``: every cent due by ``T_new``, nothing taken back;
2. the ``E = T_new - Σ L_i`` extra cents go one each to the investors with
   ``L_i < ceil(q_i(T_new))`` (that is ``L_i = floor(q_i)``, ``q_i`` not whole) whose next
   cent has the earliest deadline ``ceil((L_i + 1)·W / w_i)``; ties to the earlier investor.

``O(n log n)``. With one-cent payments this is cent-by-cent earliest deadline first (EDF).

**Why it never gets stuck.** Call a state *good* when some cent-by-cent continuation stays
within quota at every later ``h``.

(a) The empty state is good (the existence half of Balinski & Young's quota method, 1975):
    the jobs that must fall within steps ``[s, t]`` (``R >= s``, ``D <= t``) number
    ``Σ max(0, floor(q_i(t)) - ceil(q_i(s-1))) <= t - s + 1``, Hall's condition for jobs with
    interval windows, under which EDF meets every deadline; and ``Σ ceil(q_i(h)) >= h`` jobs
    are released by ``h``, so EDF always has one to run.
(b) The rule keeps a state good. Let ``S`` be a feasible continuation. Its cents in the window
    are every forced cent plus ``E`` next cents (``k = floor(q_i) + 1``) of candidates. If ``S``
    takes candidate ``x`` where the rule takes ``y`` instead (so ``D_y <= D_x``), ``S`` runs
    ``y`` at some step ``s`` with ``T_new < s <= D_y``; running ``x`` there instead is feasible
    (released by ``T_new < s``, due at ``D_x >= s``), and re-sorting an investor's cents by
    step keeps releases and deadlines met because both grow with ``k``. Exchange until ``S``'s
    window is the rule's: the new state is good.
(c) A good state's continuation fits the window, so ``Σ L_i <= T_new`` and there are at least
    ``E`` candidates: the rule always succeeds, for principal and for interest (``T > W``).

Hence for principal ``T <= W`` every ``a_i <= ceil(q_i) <= w_i``, and at payoff (``T = W``,
every ``q_i = w_i``) every investor has received exactly its allocation.

**Legacy states.** Totals written by the previous rule may be outside quota (or inside but not
good); for them step 1 can need more than the payment (``Σ L_i > T_new``). Then the payment
goes cent by cent to the largest gap ``q_i - a_i`` (ties to the earlier investor), the
previous rule, which here lifts nobody above ``floor(q_i)``: parts are still >= 0 and add up
exactly, and those furthest behind are served first. Principal payoff is still exact: at
``T = W`` every ``L_i = w_i`` (as ``a_i <= w_i``), so step 1 takes exactly the payment.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from fractions import Fraction
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
    """Interest received, net of the platform's fee."""
    fee: int = 0
    """The platform's fee taken so far from this investor's share of the interest."""

    @property
    def outstanding(self) -> int:
        """Principal still lent out: ``allocated - principal_received``."""
        return self.allocated - self.principal_received


@dataclass(frozen=True, slots=True)
class InvestorPayment(Generic[K]):
    investor_id: K
    principal: int
    interest: int
    """Net of the fee."""
    fee: int = 0
    """The part of the payment's fee taken from this investor's share."""


@dataclass(frozen=True, slots=True)
class InvestorLoss(Generic[K]):
    investor_id: K
    amount: int


def cumulative_split(
    weights: Sequence[int], received: Sequence[int], total: int
) -> tuple[int, ...]:
    """Parts of ``total - Σ received`` that keep each ``received_i + part_i`` within quota of
    ``q_i = total * w_i / W`` (the rule and its proof are in the module doc).

    Forced ``L_i = max(received_i, floor(q_i))``; the ``E = total - Σ L_i`` extra cents go to the
    candidates (``L_i = floor(q_i) < q_i``) by earliest deadline ``ceil((L_i + 1)·W / w_i)``,
    then position, sorted as the single integer ``deadline·n + i``. ``E < 0`` only for a
    legacy state: then :func:`_deepest_first`.
    """
    weight_sum = _check_split(weights, received, total)
    shares = [divmod(total * w, weight_sum) for w in weights]
    held = [r if r > f else f for r, (f, _) in zip(received, shares, strict=True)]
    extra = total - sum(held)
    if extra < 0:
        return _deepest_first(weights, received, total, weight_sum)
    if extra:
        n = len(weights)
        keys = sorted(
            -(-(f + 1) * weight_sum // w) * n + i
            for i, (w, (f, inexact), h) in enumerate(zip(weights, shares, held, strict=True))
            if inexact and h == f
        )
        for key in keys[:extra]:
            held[key % n] += 1
    return tuple(h - r for h, r in zip(held, received, strict=True))


def _deepest_first(
    weights: Sequence[int], received: Sequence[int], total: int, weight_sum: int
) -> tuple[int, ...]:
    """The legacy fallback: cent by cent to the largest gap ``x_i = q_i - received_i``.

    Investor ``i``'s j-th cent (j >= 1) has key ``x_i - j``, its gap once taken (the greedy's
    order), of integer part ``d_i - j`` with depth ``d_i = floor(x_i) = floor(q_i) - received_i``.
    The ``need`` largest keys are all keys of integer part above the level ``L`` of
    :func:`_level` (``max(0, d_i - L - 1)`` each) and, among those of integer part exactly ``L``
    (one per investor with ``d_i > L``, of value ``L + frac(q_i)``), the largest remainders,
    then the earlier investors. ``L >= 0``, so nobody passes ``floor(q_i)``.
    """
    need = total - sum(received)
    gaps = [total * w - r * weight_sum for w, r in zip(weights, received, strict=True)]
    depths = [g // weight_sum for g in gaps]
    level = _level(depths, need)
    parts = [d - level - 1 if d > level else 0 for d in depths]
    tied = [i for i, d in enumerate(depths) if d > level]
    for position in remainder_order([gaps[i] % weight_sum for i in tied])[: need - sum(parts)]:
        parts[tied[position]] += 1
    return tuple(parts)


def _level(depths: Sequence[int], need: int) -> int:
    """The largest ``L >= 0`` with ``N(L) = Σ max(0, d_i - L) >= need``, given ``N(0) > need``.

    With the positive depths sorted descending ``t_1 >= ... >= t_m``, ``t_{m+1} = 0`` and
    ``S_k = t_1 + ... + t_k``: ``N(L) = S_k - k·L`` for ``t_{k+1} <= L < t_k``, whose largest
    ``L`` with ``N(L) >= need`` is ``min(t_k - 1, floor((S_k - need) / k))``. The first ``k``
    where that lies in its interval holds the answer; ``k = m`` does, as ``S_m = N(0) > need``.
    """
    top = [*sorted((d for d in depths if d > 0), reverse=True), 0]
    k, running = 1, top[0]
    level = min(top[0] - 1, running - need)
    while level < top[k]:
        running += top[k]
        k += 1
        level = min(top[k - 1] - 1, (running - need) // k)
    return level


def fee_part(interest_before: int, fees_before: int, interest: int, rate: Fraction) -> int:
    """The platform's fee on a payment of ``interest`` cents, at ``rate`` (a fraction of
    interest), taken cumulatively like the investors' shares: the loan's total fee after it is
    within quota of ``rate * total interest`` (between the floor and the ceiling), never goes
    down, and the investors get the rest (``interest - fee``)."""
    if not 0 <= rate <= 1:
        raise InvalidInput("rate", rate, "must be in [0, 1]")
    if not 0 <= fees_before <= interest_before or interest < 0:
        raise InvalidInput("fees", (interest_before, fees_before, interest), "out of bounds")
    if rate == 0:
        return 0
    if rate == 1:
        return interest
    weights = [rate.numerator, rate.denominator - rate.numerator]
    received = [fees_before, interest_before - fees_before]
    return cumulative_split(weights, received, interest_before + interest)[0]


def distribute_payment(
    holdings: Sequence[Holding[K]], principal: int, interest: int, fee: int = 0
) -> tuple[InvestorPayment[K], ...]:
    """Each investor's part of a payment of ``principal`` + ``interest`` cents, of which
    ``fee`` goes to the platform (:func:`fee_part`).

    Weights are the allocations; cumulative totals are ``Σ received + this payment``, split by
    :func:`cumulative_split` for principal, for the interest net of the fee, and for the fee
    (each investor's part of the fee is what was taken from their share: shown to them, never
    paid by them). The principal parts add up to ``principal``, the interest parts to
    ``interest - fee`` and the fee parts to ``fee``, exactly. Raises InvalidInput for negative
    parts, a fee above the interest, or principal beyond the outstanding principal.
    """
    if not holdings:
        raise InvalidInput("holdings", holdings, "a loan has at least one investor")
    if principal < 0 or not 0 <= fee <= interest:
        raise InvalidInput("payment", (principal, interest, fee), "parts must be >= 0")
    weights = [h.allocated for h in holdings]
    principal_received = [h.principal_received for h in holdings]
    if principal > sum(weights) - sum(principal_received):
        raise InvalidInput("principal", principal, "exceeds the outstanding principal")
    if any(h.principal_received > h.allocated for h in holdings):
        raise InvalidInput("holdings", "...", "principal received exceeds the allocation")
    parts = [
        cumulative_split(weights, received, sum(received) + amount)
        for received, amount in (
            (principal_received, principal),
            ([h.interest_received for h in holdings], interest - fee),
            ([h.fee for h in holdings], fee),
        )
    ]
    return tuple(
        InvestorPayment(h.investor_id, p, i, f) for h, p, i, f in zip(holdings, *parts, strict=True)
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
