"""Shared hypothesis strategies and settings for the domain tests."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from bank_api.domain.money import MAX_AMOUNT_CENTS
from bank_api.domain.schedule import MAX_TERM_MONTHS, Schedule, ScheduleKind, build_schedule

PROPERTY = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
"""Modest, deterministic-enough settings: no example database written into the tree."""

amounts = st.one_of(
    st.integers(min_value=1, max_value=10_000),
    st.integers(min_value=1, max_value=100_000_000),
    st.integers(min_value=1, max_value=MAX_AMOUNT_CENTS),
)
rates_bp = st.one_of(st.just(0), st.integers(min_value=0, max_value=3_000))
terms = st.one_of(st.integers(min_value=1, max_value=24), st.integers(1, MAX_TERM_MONTHS))
dates = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2200, 12, 31))
schedule_types = st.sampled_from(list(ScheduleKind))


@st.composite
def schedules(draw: st.DrawFn, max_term: int = MAX_TERM_MONTHS) -> Schedule:
    term = draw(st.integers(min_value=1, max_value=max_term))
    return build_schedule(draw(amounts), draw(rates_bp), term, draw(dates), draw(schedule_types))
