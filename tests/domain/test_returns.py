from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Sequence
from decimal import Context, Decimal, localcontext
from fractions import Fraction

import pytest
import pyxirr
from hypothesis import assume, example, given
from hypothesis import strategies as st

from bank_api.domain.delinquency import NPL_DAYS_PAST_DUE
from bank_api.domain.errors import InvalidInput
from bank_api.domain.returns import (
    MAX_RATE,
    MIN_RATE,
    CashFlow,
    ReturnsSummary,
    expected_interest,
    summarize_returns,
    terminal_value,
    xirr,
)
from bank_api.domain.schedule import ScheduleKind, build_schedule
from tests.domain.strategies import PROPERTY

D = dt.date
HALF_UNIT = Decimal("0.00005")


def _flows(*pairs: tuple[dt.date, int]) -> list[CashFlow]:
    return [CashFlow(on, amount) for on, amount in pairs]


def _yearly(*amounts: int) -> list[CashFlow]:
    """Flows a whole number of 365-day years apart (2025, 2026 and 2027 are not leap years)."""
    return [CashFlow(D(2025 + i, 1, 1), amount) for i, amount in enumerate(amounts)]


# -- hand-checked rates ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flows", "expected"),
    [
        # 1,000.00 out, 1,100.00 back a (365-day) year later: 10 %.
        (_yearly(-100_000, 110_000), "0.1000"),
        # 100.00 of 1,000.00 lost: -10 %.
        (_yearly(-100_000, 90_000), "-0.1000"),
        # 2024 is a leap year: 366 days, so 1.1 ** (365 / 366) - 1 = 0.099713...
        (_flows((D(2024, 1, 1), -100_000), (D(2025, 1, 1), 110_000)), "0.0997"),
        # Half a year (181 days) at 1.05: 1.05 ** (365 / 181) - 1 = 0.103391...
        (_flows((D(2025, 1, 1), -100_000), (D(2025, 7, 1), 105_000)), "0.1034"),
        # Lent 1,000.00, 400.00 back after a year, written off: 1 - 0.4 = -60 %.
        (_yearly(-100_000, 40_000), "-0.6000"),
        # Two loans, one defaults: out 2 x 500.00, back 550.00 + 200.00 a year later: -25 %.
        (
            _flows((D(2025, 1, 1), -50_000), (D(2025, 1, 1), -50_000), (D(2026, 1, 1), 75_000)),
            "-0.2500",
        ),
        # Nothing back but the principal: 0 %.
        (_yearly(-100_000, 100_000), "0.0000"),
        # A two-year loan at 10 % paying interest yearly: -1000, +100, +1100.
        (_yearly(-100_000, 10_000, 110_000), "0.1000"),
        # Principal and 10 % interest after two years, nothing between: sqrt(1.21) - 1.
        (_yearly(-100_000, 0, 121_000), "0.1000"),
    ],
)
def test_hand_checked_rates(flows: list[CashFlow], expected: str) -> None:
    assert str(xirr(flows)) == expected


def test_the_rate_has_four_places() -> None:
    rate = xirr(_yearly(-300_000, 310_000))  # 3.333... %
    assert rate == Decimal("0.0333")
    assert rate is not None
    assert rate.as_tuple().exponent == -4


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        # The root lies exactly halfway between two 4-place rates: half to even.
        (200_010, "0.0000"),  # 0.00005 -> 0.0000, not 0.0001
        (199_990, "0.0000"),  # -0.00005 -> 0.0000 (and never "-0.0000")
        (200_030, "0.0002"),  # 0.00015 -> 0.0002
        (199_970, "-0.0002"),  # -0.00015 -> -0.0002
        (214_250, "0.0712"),  # 0.07125 -> 0.0712, found while bisecting
        (214_270, "0.0714"),  # 0.07135 -> 0.0714
        (214_252, "0.0713"),  # 0.07126: just above the tie
    ],
)
def test_an_exact_tie_rounds_half_to_even(received: int, expected: str) -> None:
    assert str(xirr(_yearly(-200_000, received))) == expected


# -- undefined rates ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "flows",
    [
        pytest.param([], id="no flows"),
        pytest.param(_yearly(0, 0), id="only zeros"),
        pytest.param(_yearly(-100_000, -5_000), id="only money out"),
        pytest.param(_yearly(100_000, 0, 5_000), id="only money in"),
        pytest.param(_yearly(-100_000, 0), id="a total loss"),
        # No time elapses, so NPV = the sum for every rate: never 0 here, always 0 there.
        pytest.param(_flows((D(2025, 1, 1), -100_000), (D(2025, 1, 1), 110_000)), id="one day"),
        pytest.param(_flows((D(2025, 1, 1), -100_000), (D(2025, 1, 1), 100_000)), id="one day 0"),
        # Flows that net to nothing on their day do not count.
        pytest.param(
            _flows((D(2025, 1, 1), -100_000), (D(2025, 6, 1), 5), (D(2025, 6, 1), -5)),
            id="netted",
        ),
    ],
)
def test_undefined_rate_is_none(flows: list[CashFlow]) -> None:
    assert xirr(flows) is None


def test_flows_that_change_sign_but_have_no_root_are_none() -> None:
    # -100 + 50 v - 100 v^2 < 0 for every v: the whole range is scanned, nothing found.
    assert xirr(_yearly(-100, 50, -100)) is None


def test_a_double_root_has_no_sign_change_and_is_none() -> None:
    # -(1 - v)^2: zero at r = 0 but negative on both sides (documented: not seen).
    assert xirr(_yearly(-1, 2, -1)) is None


def test_rates_above_the_range_are_none() -> None:
    assert xirr(_yearly(-100, 100_100)) == MAX_RATE == Decimal("1000.0000")
    assert xirr(_yearly(-100, 100_110)) is None  # 1000.1
    assert xirr(_flows((D(2025, 1, 1), -100), (D(2025, 1, 2), 110))) is None  # 1.1**365 - 1


def test_a_near_total_loss_rounds_to_minus_one() -> None:
    # 1,000.00 out, 0.01 back a month later: (10^-5)^(365/30) - 1 = -1 + 10^-60.8.
    loss = _flows((D(2025, 1, 1), -100_000), (D(2025, 1, 31), 1))
    assert xirr(loss) == MIN_RATE == Decimal("-1.0000")
    assert str(xirr(_flows((D(2025, 1, 1), -100_000), (D(2026, 1, 1), 10)))) == "-0.9999"


# -- several roots: the one nearest 0 -------------------------------------------------------


@pytest.mark.parametrize(
    ("flows", "expected"),
    [
        # -100 + 230 v - 132 v^2: roots at 10 % and 20 %.
        (_yearly(-100, 230, -132), "0.1000"),
        # -(y - 0.9)(y - 1.05) with y = 1 + r: roots at -10 % and 5 %.
        (_yearly(-1_000, 1_950, -945), "0.0500"),
        # -(y - 0.97)(y - 1.05): roots at -3 % and 5 %; ln(0.97) is nearer 0 than ln(1.05).
        (_yearly(-10_000, 20_200, -10_185), "-0.0300"),
    ],
)
def test_of_several_roots_the_nearest_zero_is_chosen(flows: list[CashFlow], expected: str) -> None:
    assert str(xirr(flows)) == expected


# -- the terminal flow and the summary ------------------------------------------------------


def test_terminal_value_counts_outstanding_principal_at_par_less_npl() -> None:
    on = D(2025, 12, 31)
    assert terminal_value(on, 500_000, 120_000) == CashFlow(on, 380_000)
    assert terminal_value(on, 500_000, 0) == CashFlow(on, 500_000)
    assert terminal_value(on, 500_000, 500_000) is None
    assert terminal_value(on, 0, 0) is None


@pytest.mark.parametrize(
    ("outstanding", "npl", "field"),
    [
        (100, -1, "excluded_npl"),
        (100, 101, "excluded_npl"),
        (0, 1, "excluded_npl"),
        (-1, 0, "outstanding"),
    ],
)
def test_terminal_value_rejects_impossible_amounts(outstanding: int, npl: int, field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        terminal_value(D(2025, 1, 1), outstanding, npl)
    assert raised.value.field == field


def test_summary_nets_interest_against_fees_and_losses() -> None:
    flows = _yearly(-100_000, 40_000)  # 600.00 written off
    flows.append(CashFlow(D(2026, 1, 1), 2_000))  # interest received
    summary = summarize_returns(flows, interest_earned=2_000, fees=150, losses=60_000)
    assert summary == ReturnsSummary(Decimal("-0.5800"), 2_000, 150, 60_000)
    assert summary.net_profit == 2_000 - 150 - 60_000


def test_summary_without_flows_has_no_rate_and_defaults_to_no_fees_or_losses() -> None:
    summary = summarize_returns([], interest_earned=0)
    assert summary == ReturnsSummary(None, 0, 0, 0)
    assert summary.net_profit == 0


@pytest.mark.parametrize("field", ["interest_earned", "fees", "losses"])
def test_summary_rejects_negative_amounts(field: str) -> None:
    amounts = {"interest_earned": 1, "fees": 1, "losses": 1} | {field: -1}
    with pytest.raises(InvalidInput) as raised:
        summarize_returns([], **amounts)
    assert raised.value.field == field


# -- generated investor histories -----------------------------------------------------------


@st.composite
def histories(draw: st.DrawFn) -> list[CashFlow]:
    """Loans funded on some dates, monthly principal + interest parts back on (or a few days
    after) their due dates up to ``to``, some loans stopping; the terminal value on ``to``."""
    start = draw(st.dates(min_value=D(2000, 1, 1), max_value=D(2090, 12, 31)))
    to = start + dt.timedelta(days=draw(st.integers(min_value=31, max_value=4 * 365)))
    flows: list[CashFlow] = []
    outstanding = npl = 0
    for _ in range(draw(st.integers(min_value=1, max_value=5))):
        lent_on = start + dt.timedelta(days=draw(st.integers(0, (to - start).days - 1)))
        amount = draw(st.integers(min_value=1_000, max_value=10_000_000))
        schedule = build_schedule(
            amount,
            draw(st.integers(min_value=0, max_value=3_600)),
            draw(st.integers(min_value=1, max_value=36)),
            lent_on,
            draw(st.sampled_from(list(ScheduleKind))),
        )
        flows.append(CashFlow(lent_on, -amount))
        # Three loans in four perform; the others stop paying at some point.
        performs = draw(st.integers(min_value=0, max_value=3)) > 0
        paid_installments = len(schedule.installments)
        if not performs:
            paid_installments = draw(st.integers(0, paid_installments - 1))
        lag = dt.timedelta(days=draw(st.integers(0, 5)))
        received = 0
        for installment in schedule.installments[:paid_installments]:
            if installment.due_date + lag > to:
                break
            flows.append(CashFlow(installment.due_date + lag, installment.principal))
            flows.append(CashFlow(installment.due_date + lag, installment.interest))
            received += installment.principal
        else:
            if paid_installments < len(schedule.installments):
                oldest_unpaid = schedule.installments[paid_installments].due_date
                if (to - oldest_unpaid).days >= NPL_DAYS_PAST_DUE:
                    npl += amount - received
        outstanding += amount - received
    terminal = terminal_value(to, outstanding, npl)
    return flows if terminal is None else [*flows, terminal]


def _npv(flows: Sequence[CashFlow], rate: Decimal) -> tuple[Decimal, Decimal]:
    """NPV and Σ|term| at 80 digits, one ``exp`` per flow: another formula than the module's."""
    first = min(f.on for f in flows)
    with localcontext(Context(prec=80)):
        log = (1 + rate).ln()
        terms = [f.amount * (-(log * (f.on - first).days / 365)).exp() for f in flows]
        return sum(terms, Decimal(0)), sum(map(abs, terms), Decimal(0))


def _sign_near(flows: Sequence[CashFlow], rate: Decimal) -> int:
    """The NPV sign at ``rate``, 0 when within 10^-60 of the flows' scale."""
    npv, scale = _npv(flows, rate)
    return 0 if abs(npv) <= scale * Decimal("1e-60") else (1 if npv > 0 else -1)


# Two roots, -0.9138 and -0.9818 (3,908.00 lent, 3,001.00 back, 1,000.00 lent again on the
# last day): ours is the one nearer 0, pyxirr finds the other.
_TWO_ROOTS = [
    CashFlow(D(2013, 5, 15), -3908),
    *(CashFlow(D(2013, m, 18), a) for m, a in [(6, 1000), (7, 1000), (8, 1000), (9, 1001)]),
    CashFlow(D(2013, 10, 31), -1000),
]


@given(histories())
@example(_TWO_ROOTS)
@PROPERTY
def test_the_rate_agrees_with_pyxirr(flows: list[CashFlow]) -> None:
    ours = xirr(flows)
    theirs = pyxirr.xirr([f.on for f in flows], [f.amount for f in flows], silent=True)
    if ours is None:
        # Money back, netted per day, never outweighs what was lent again and lost: no root.
        assert theirs is None
        return
    if theirs is None:
        # pyxirr does not converge that close to -100 %; the bracket test below covers it.
        assert ours < Decimal("-0.9")
        return
    # The float root lies in the 4-place rate's rounding interval (up to float error) ...
    slack = 1e-9 * (1 + abs(theirs))
    if float(ours - HALF_UNIT) - slack <= theirs <= float(ours + HALF_UNIT) + slack:
        return
    # ... unless the flows have several roots and pyxirr found another: then theirs is a root
    # too, and ours is the one nearer 0 by ln(1 + r), give or take one scan cell (~1 %).
    npv, scale = _npv(flows, Decimal(theirs))
    assert abs(npv) <= scale * Decimal("1e-6")
    assert abs(math.log1p(float(ours))) <= abs(math.log1p(theirs)) + 0.011


@given(histories())
@PROPERTY
def test_the_rate_brackets_a_root_at_higher_precision(flows: list[CashFlow]) -> None:
    """NPV changes sign across ``[ours - 0.00005, ours + 0.00005]`` (or vanishes at an end)."""
    ours = xirr(flows)
    assume(ours is not None)
    assert ours is not None
    above = _sign_near(flows, ours + HALF_UNIT)
    if ours == MIN_RATE:
        last_day = max(f.on for f in flows)
        below = 1 if sum(f.amount for f in flows if f.on == last_day) > 0 else -1
    else:
        below = _sign_near(flows, ours - HALF_UNIT)
    assert below * above <= 0


@given(
    st.dates(min_value=D(1990, 1, 1), max_value=D(2200, 12, 31)),
    st.integers(min_value=1, max_value=10**12),
    st.integers(min_value=30, max_value=10 * 365),
    st.fractions(min_value=Fraction(1, 10), max_value=3),
)
@PROPERTY
def test_two_flows_match_the_closed_form(
    on: dt.date, lent: int, days: int, ratio: Fraction
) -> None:
    """``-a`` then ``+b`` after ``n`` days: ``r = (b / a) ** (365 / n) - 1``."""
    received = int(lent * ratio)
    assume(received > 0)
    flows = [CashFlow(on, -lent), CashFlow(on + dt.timedelta(days=days), received)]
    ours = xirr(flows)
    with localcontext(Context(prec=60)):
        exact = ((Decimal(received) / lent).ln() * 365 / days).exp() - 1
        if exact > MAX_RATE + HALF_UNIT:
            assert ours is None
        elif exact < MIN_RATE + HALF_UNIT:
            assert ours == MIN_RATE
        else:
            # Skip the (measure-zero) roots within about 10^-26 of a rounding boundary.
            offset = (exact / HALF_UNIT) % 2  # an odd multiple of HALF_UNIT is a boundary
            assume(min(abs(offset - 1), abs(offset + 1)) > Decimal("1e-22"))
            assert ours == exact.quantize(Decimal("0.0001"))


@given(histories(), st.integers(min_value=2, max_value=10_000))
@PROPERTY
def test_scaling_every_amount_does_not_change_the_rate(flows: list[CashFlow], factor: int) -> None:
    assert xirr([CashFlow(f.on, f.amount * factor) for f in flows]) == xirr(flows)


@given(histories(), st.integers(min_value=-3_000, max_value=3_000))
@PROPERTY
def test_shifting_every_date_does_not_change_the_rate(flows: list[CashFlow], days: int) -> None:
    shift = dt.timedelta(days=days)
    assert xirr([CashFlow(f.on + shift, f.amount) for f in flows]) == xirr(flows)


@given(histories(), st.randoms(use_true_random=False), st.integers(min_value=1, max_value=99))
@PROPERTY
def test_order_and_splitting_a_flow_on_its_day_do_not_change_the_rate(
    flows: list[CashFlow], shuffler: random.Random, percent: int
) -> None:
    first, *rest = flows
    part = first.amount * percent // 100
    split = [CashFlow(first.on, part), CashFlow(first.on, first.amount - part), *rest]
    shuffler.shuffle(split)
    assert xirr(split) == xirr(flows)


def test_expected_interest_is_the_share_of_the_scheduled_interest_not_yet_received() -> None:
    # a third of 100.01 is 33.336..., rounded to 33.34
    assert expected_interest(30_000, 90_000, 10_001, 0) == 3_334
    assert expected_interest(30_000, 90_000, 10_001, 1_000) == 2_334
    assert expected_interest(30_000, 90_000, 10_001, 3_335) == 0  # a cent ahead: nothing due
    # half to even: 12.5 cents -> 12
    assert expected_interest(1, 2, 25, 0) == 12


@pytest.mark.parametrize(
    ("allocated", "amount", "scheduled", "received"),
    [(0, 100, 10, 0), (101, 100, 10, 0), (50, 100, -1, 0), (50, 100, 10, -1)],
)
def test_expected_interest_refuses_bad_input(
    allocated: int, amount: int, scheduled: int, received: int
) -> None:
    with pytest.raises(InvalidInput):
        expected_interest(allocated, amount, scheduled, received)


def test_expected_interest_is_net_of_the_platforms_fee() -> None:
    # a fifth to the platform: of a 100.00 share, 50.00 gross paid (40.00 received, 10.00 fee)
    # leaves 50.00 gross to come, 40.00 of it for the investor
    assert expected_interest(1, 1, 10_000, 4_000, 1_000, Fraction(1, 5)) == 4_000
    assert expected_interest(1, 1, 10_000, 8_000, 2_000, Fraction(1, 5)) == 0
    with pytest.raises(InvalidInput):
        expected_interest(1, 1, 10_000, 0, -1, Fraction(1, 5))
    with pytest.raises(InvalidInput):
        expected_interest(1, 1, 10_000, 0, 0, Fraction(3, 2))
