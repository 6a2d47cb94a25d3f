"""`GET /loans` query parameters: a date or an RFC 3339 date-time for each bound.

A date-only upper bound includes its whole day (UTC): `created_to=2026-11-23` means
`created_at < 2026-11-24T00:00:00Z`. A date-time without an offset is taken as UTC. Bounds at
the edges of the calendar are answered, not refused: a lower bound that falls before the first
representable UTC instant is the beginning of time, an upper bound past the last one is no
bound at all, and the other way round they match nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import Query
from fastapi.exceptions import RequestValidationError

from bank_api.common.query import QueryModel, QueryReader
from bank_api.errors import InvalidDateRange
from bank_api.models import LoanStatus

_BOUND_HELP = (
    "A date (YYYY-MM-DD) or an RFC 3339 date-time; a date-only upper bound includes the whole day"
)


@dataclass(frozen=True)
class LoanFilters:
    status: LoanStatus | None = None
    overdue: bool | None = None
    loan_type: str | None = None
    customer_id: uuid.UUID | None = None
    agent_id: uuid.UUID | None = None
    created_from: datetime | None = None  # inclusive
    created_before: datetime | None = None  # exclusive
    updated_from: datetime | None = None
    updated_before: datetime | None = None


def date_bound(name: str, raw: str | None, *, upper: bool) -> datetime | None:
    """(inclusive lower bound) or (exclusive upper bound) as an aware UTC datetime."""
    if raw is None:
        return None
    text = raw.strip()
    try:
        if len(text) == 10:
            start = datetime.combine(date.fromisoformat(text), time(0), tzinfo=UTC)
            return _past(start, timedelta(days=1)) if upper else start
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise RequestValidationError(
            [
                {
                    "loc": ("query", name),
                    "msg": "must be a date or an RFC 3339 date-time",
                    "type": "datetime_parsing",
                }
            ]
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:  # the offset moves it outside the calendar
        before_time = moment.year == 1
        if upper:
            return EARLIEST if before_time else None
        return EARLIEST if before_time else LATEST
    return _past(moment, timedelta(microseconds=1)) if upper else moment


EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)


def _past(moment: datetime, step: timedelta) -> datetime | None:
    """The exclusive upper bound just past `moment`; None (no bound) past the calendar's end."""
    try:
        return moment + step
    except OverflowError:
        return None


class LoanQuery(QueryModel):
    status: LoanStatus | None = None
    loan_type: Annotated[str | None, Query(max_length=32)] = None
    customer_id: uuid.UUID | None = None
    agent_id: uuid.UUID | None = None
    overdue: Annotated[
        bool | None,
        Query(description="Active loans with an overdue installment (true) or without (false)"),
    ] = None
    created_from: Annotated[str | None, Query(max_length=40, description=_BOUND_HELP)] = None
    created_to: Annotated[str | None, Query(max_length=40, description=_BOUND_HELP)] = None
    updated_from: Annotated[str | None, Query(max_length=40, description=_BOUND_HELP)] = None
    updated_to: Annotated[str | None, Query(max_length=40, description=_BOUND_HELP)] = None

    def filters(self) -> LoanFilters:
        created = date_range(
            self.created_from, self.created_to, names=("created_from", "created_to")
        )
        updated = date_range(
            self.updated_from, self.updated_to, names=("updated_from", "updated_to")
        )
        return LoanFilters(
            **self.model_dump(
                include={"status", "loan_type", "customer_id", "agent_id", "overdue"}
            ),
            created_from=created[0],
            created_before=created[1],
            updated_from=updated[0],
            updated_before=updated[1],
        )


loan_filters = QueryReader(LoanQuery, LoanQuery.filters)  # the filters of `GET /loans`


def date_range(
    low: str | None, high: str | None, *, names: tuple[str, str] = ("from", "to")
) -> tuple[datetime | None, datetime | None]:
    """A `from`/`to` pair of query bounds (see `date_bound`): the inclusive lower and the
    exclusive upper bound; InvalidDateRange when `from` is not before `to`."""
    since = date_bound(names[0], low, upper=False)
    before = date_bound(names[1], high, upper=True)
    if since is not None and before is not None and since >= before:
        raise InvalidDateRange
    return since, before
