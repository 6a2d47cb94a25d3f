"""An investor's net annual return as an XIRR, and the returns summary (SPEC §11.2).

Cash flows are signed cents from the investor's side: an allocation is money out (``< 0``) on
its value date, every principal and interest part received is money in (``> 0``) on its value
date, and on the period's last day the outstanding principal of the loans that are not 90+ days
past due counts as money in at par (:func:`terminal_value`). A write-off is money that simply
never comes back.

**The rate.** :func:`xirr` answers the annual rate ``r`` with

    NPV(r) = Σ_j amount_j / (1 + r) ** ((on_j - on_0).days / 365) = 0

(Actual/365, Excel's XIRR convention), rounded half to even to 4 places. Flows on the same day
are netted first; ``on_0`` is the earliest day with a non-zero net flow (any other origin
multiplies every term by the same positive factor and leaves the roots where they are). It is
``None`` when the rate is undefined: no flows, nothing but zeros, all flows on one day, or net
flows that never change sign (all ``>= 0`` or all ``<= 0``), and when no root is found in the
searched range (below).

**Which root.** ``NPV`` is evaluated only on the *rounding boundaries* ``b_k = (k + 1/2) / 10^4``
(the points halfway between two 4-place rates), so every decision is about which 4-place rate
to report, not about an approximate root. The search scans cells of boundaries outward from 0:
first ``[b_-1, b_0]`` (the rate 0.0000), then alternately one cell above and one below, each
cell about 1 % wide in ``ln(1 + r)`` (the next boundary index is ``k ± max(1, (10^4 + k) // 100)``).
The first cell whose ends have opposite signs is bisected down to one 4-place rate. Hence:

* when the net flows change sign once (Descartes' rule of signs: one root), that root;
* with several roots, the root in the cell nearest 0 by continuously compounded rate
  ``|ln(1 + r)|``, ties to the cell above; two roots in one cell (or a root of even
  multiplicity) cancel out and are not seen;
* the range: ``r`` in ``(-1, 1000.00005)``. Near ``-1`` ``NPV`` takes the sign of the last net
  flow, so a root in ``(-1, -0.99995)`` is reported as ``-1.0000`` (the correct rounding);
  roots above ``1000.00005`` (100,000 % a year) are not searched and give ``None``.

Cost: one evaluation per boundary visited, each linear in the number of distinct days: about
``2·|ln(1 + r)| / 0.01 + 20`` for a root at ``r`` (a dozen or two for everyday rates), at most
``len(_SCAN_CELLS) + 1`` (about 1,300) when no root is found or it lies near -1 or 1000. The
daily discount factor of each boundary (one ``ln`` and one ``exp``, the costly part) is cached
across calls (:func:`_daily_factor`, a pure function of the boundary).

**Precision.** ``NPV(b_k)`` is computed in ``decimal`` at ``_PRECISION`` = 50 digits:
``w = exp(-ln(1 + b_k) / 365)`` (``ln`` and ``exp`` are correctly rounded, ``1 + b_k`` exact),
then ``w ** d_j`` by integer powers of ``w`` over the day gaps, one product and one sum a term.
With ``u = 10^(1 - P)`` (one unit in the last place), each factor ``w ** d_j`` is within
``5·d_j·u`` (relative) of exact: ``d_j·u`` from ``w`` itself (``|ln(1 + b)| / 365 < 0.03``) and
at most ``2·log2(gap) + 2 <= 2·gap + 2`` roundings for each power and product before it, while
the day index ``j <= d_j``. Each term and each partial sum adds half a unit, so
``|error| <= M·(5·d_max + N + 2)·u <= M·10^(9 - P)`` for ``M = Σ |term_j|`` and any dates of
the calendar (``d_max < 3.66·10^6``, ``N <= d_max + 1``). A sign is trusted only when
``|NPV| > M·10^(10 - P)``; otherwise the boundary counts as a root, and the rate is the
boundary rounded half to even (an exact tie such as a rate of exactly 0.00005 over whole years
rounds to 0.0000, as ``Decimal.quantize`` would). The answer is therefore the correct 4-place
rounding of the chosen root unless that root lies within ``10^-40·M / |NPV'(r)|`` of a
rounding boundary. Money never leaves ``int``; only the rate is a ``Decimal``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from fractions import Fraction
from functools import cache, lru_cache, partial
from typing import Final

from bank_api.domain.errors import InvalidInput
from bank_api.domain.money import round_cents

DAYS_PER_YEAR: Final = 365
"""Actual/365: a year is 365 days, leap or not (Excel's XIRR)."""

RATE_PLACES: Final = 4
"""The rate is reported as a fraction with 4 decimal places: ``Decimal("0.0712")``."""

MAX_RATE: Final = Decimal("1000.0000")
"""The highest rate reported (100,000 % a year); a root above ``1000.00005`` gives ``None``."""

MIN_RATE: Final = Decimal("-1.0000")
"""The lowest rate reported: a root in ``(-1, -0.99995)`` rounds to it."""

_UNITS_PER_ONE: Final = 10**RATE_PLACES
_TOP: Final = 10_000_000
"""Index of the highest boundary searched: ``b = 1000.00005``."""
_BOTTOM: Final = -_UNITS_PER_ONE
"""Index of the lowest boundary evaluated: ``b = -0.99995``."""
_TOWARDS_MINUS_ONE: Final = _BOTTOM - 1
"""Stands for ``r -> -1`` from above, where NPV takes the sign of the last net flow."""

_PRECISION: Final = 50
_TRUSTED: Final = Decimal(10) ** (10 - _PRECISION)
"""A sign counts only when ``|NPV| > _TRUSTED * Σ|term|`` (10 times the proven error bound)."""
_CONTEXT: Final = Context(prec=_PRECISION, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True, slots=True)
class CashFlow:
    """Signed cents on a value date, investor's side: ``< 0`` lent out, ``> 0`` received back."""

    on: dt.date
    amount: int


@dataclass(frozen=True, slots=True)
class ReturnsSummary:
    """The figures of ``GET /investments/returns``; money in cents, ``xirr`` as in :func:`xirr`."""

    xirr: Decimal | None
    interest_earned: int
    fees: int
    losses: int

    @property
    def net_profit(self) -> int:
        """``interest_earned - fees - losses`` (may be negative)."""
        return self.interest_earned - self.fees - self.losses


def terminal_value(on: dt.date, outstanding: int, excluded_npl: int) -> CashFlow | None:
    """The money-in flow on the period's last day: ``outstanding - excluded_npl`` at par.

    ``outstanding`` is all principal still lent out on ``on``; ``excluded_npl`` the part of it
    in loans 90+ days past due, which counts as nothing. Requires
    ``0 <= excluded_npl <= outstanding``; ``None`` when nothing is left to count.
    """
    if outstanding < 0:
        raise InvalidInput("outstanding", outstanding, "must be >= 0")
    if excluded_npl < 0:
        raise InvalidInput("excluded_npl", excluded_npl, "must be >= 0")
    if excluded_npl > outstanding:
        raise InvalidInput("excluded_npl", excluded_npl, "exceeds the outstanding principal")
    value = outstanding - excluded_npl
    return CashFlow(on, value) if value else None


def summarize_returns(
    flows: Sequence[CashFlow], *, interest_earned: int, fees: int = 0, losses: int = 0
) -> ReturnsSummary:
    """The period's summary: the amounts as given (each ``>= 0``) and ``xirr(flows)``.

    ``flows`` are the period's cash flows including the terminal one (:func:`terminal_value`).
    """
    for field, amount in (("interest_earned", interest_earned), ("fees", fees), ("losses", losses)):
        if amount < 0:
            raise InvalidInput(field, amount, "must be >= 0")
    return ReturnsSummary(xirr(flows), interest_earned, fees, losses)


def xirr(flows: Sequence[CashFlow]) -> Decimal | None:
    """The annual rate ``r`` with ``Σ amount_j / (1 + r) ** (days_j / 365) = 0``, to 4 places.

    Rounded half to even; ``None`` when undefined or above :data:`MAX_RATE`. Which root, the
    range and the precision: see the module docstring. Deterministic: the same flows (in any
    order) always give the same answer, and so do the flows scaled by a positive factor or all
    moved by the same number of days.
    """
    days, amounts = _net_by_day(flows)
    if not any(a > 0 for a in amounts) or not any(a < 0 for a in amounts):
        return None
    sign = cache(partial(_npv_sign, days, amounts))
    units = _search(sign)
    return None if units is None else Decimal(units).scaleb(-RATE_PLACES, _CONTEXT)


def _net_by_day(flows: Sequence[CashFlow]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Non-zero net amounts per day, by day; days counted from the first such day."""
    net: dict[dt.date, int] = {}
    for flow in flows:
        net[flow.on] = net.get(flow.on, 0) + flow.amount
    kept = sorted((on, amount) for on, amount in net.items() if amount)
    if not kept:
        return (), ()
    first = kept[0][0]
    return tuple((on - first).days for on, _ in kept), tuple(amount for _, amount in kept)


def _npv_sign(days: tuple[int, ...], amounts: tuple[int, ...], k: int) -> int:
    """The sign of ``NPV(b_k)``, ``b_k = (k + 1/2) / 10^4``; 0 when it cannot be told from 0."""
    if k == _TOWARDS_MINUS_ONE:
        return 1 if amounts[-1] > 0 else -1
    daily = _daily_factor(k)
    with localcontext(_CONTEXT):
        npv = magnitude = Decimal(0)
        factor = Decimal(1)
        previous = 0
        for day, amount in zip(days, amounts, strict=True):
            factor *= daily ** (day - previous)
            previous = day
            term = factor * amount
            npv += term
            magnitude += abs(term)
        if abs(npv) <= magnitude * _TRUSTED:
            return 0
    return 1 if npv > 0 else -1


@lru_cache(maxsize=4096)
def _daily_factor(k: int) -> Decimal:
    """``w = (1 + b_k) ** (-1 / 365) = exp(-ln(1 + b_k) / 365)``; the scan's are shared by calls."""
    with localcontext(_CONTEXT):
        return (-((1 + Decimal(10 * k + 5).scaleb(-5)).ln() / DAYS_PER_YEAR)).exp()


def _search(sign: Callable[[int], int]) -> int | None:
    """The chosen root in units of ``10^-4``: the first cell of ``_SCAN_CELLS`` with a change."""
    for low, high in _SCAN_CELLS:
        sign_low, sign_high = sign(low), sign(high)
        if sign_low == 0:
            return _tie(low)
        if sign_high == 0:
            return _tie(high)
        if sign_low != sign_high:
            return _bisect(sign, low, high, sign_low)
    return None


def _bisect(sign: Callable[[int], int], low: int, high: int, sign_low: int) -> int:
    """Halve ``[b_low, b_high]`` (opposite signs) to one rate: ``high`` units once adjacent."""
    while high - low > 1:
        middle = (low + high) // 2
        sign_middle = sign(middle)
        if sign_middle == 0:
            return _tie(middle)
        if sign_middle == sign_low:
            low = middle
        else:
            high = middle
    return high


def _tie(k: int) -> int:
    """A root on ``b_k``, halfway between the rates ``k`` and ``k + 1``: the even one."""
    return k if k % 2 == 0 else k + 1


def _step(k: int) -> int:
    """About 1 % of ``1 + b_k``, in units of ``10^-4``, at least one unit."""
    return max(1, (_UNITS_PER_ONE + k) // 100)


def _scan_cells() -> tuple[tuple[int, int], ...]:
    """``[b_-1, b_0]``, then cells above and below 0 alternately, nearest first."""
    above: list[tuple[int, int]] = []
    k = 0
    while k < _TOP:
        above.append((k, min(_TOP, k + _step(k))))
        k = above[-1][1]
    below: list[tuple[int, int]] = []
    k = -1
    while k > _BOTTOM:
        below.append((max(_BOTTOM, k - _step(k)), k))
        k = below[-1][0]
    below.append((_TOWARDS_MINUS_ONE, _BOTTOM))
    ordered = sorted(
        [(i, 0, cell) for i, cell in enumerate(above)]
        + [(i, 1, cell) for i, cell in enumerate(below)]
    )
    return ((-1, 0), *(cell for _, _, cell in ordered))


_SCAN_CELLS: Final = _scan_cells()


def expected_interest(
    allocated: int,
    loan_amount: int,
    scheduled: int,
    received: int,
    fee_taken: int = 0,
    fee_rate: Fraction = Fraction(0),
) -> int:
    """The interest still scheduled to one investor of a loan, net of the platform's fee: their
    share of the loan's whole scheduled interest, ``round(allocated * scheduled / loan_amount)``
    (half to even), less what they have received and what the fee has taken from it so far,
    then less the fee on the rest at ``fee_rate``; never below zero (cumulative shares may run
    a cent ahead)."""
    if not 0 < allocated <= loan_amount:
        raise InvalidInput("allocated", allocated, "must be in (0, loan amount]")
    if scheduled < 0 or received < 0 or fee_taken < 0:
        raise InvalidInput("interest", (scheduled, received, fee_taken), "must be >= 0")
    if not 0 <= fee_rate <= 1:
        raise InvalidInput("fee_rate", fee_rate, "must be in [0, 1]")
    share = round_cents(Fraction(allocated * scheduled, loan_amount))
    gross = max(0, share - received - fee_taken)
    return gross - round_cents(fee_rate * gross)
