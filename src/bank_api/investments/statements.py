"""What an investor's money did: statements over a period of value dates, and returns.

Both read the investor's journal lines by the business date on which they were booked
(`value_date`), without a transaction: a statement is two statements (the balances before the
period, the lines in it) and its closing balances follow from them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, and_, func, select

from bank_api.common.principal import Principal
from bank_api.domain import statement as rules
from bank_api.errors import DateRangeTooLong, InvalidDateRange
from bank_api.models import AccountKind, JournalLine
from bank_api.uow import UnitOfWork

MAX_STATEMENT_DAYS = 366
INVESTOR_ACCOUNTS = (AccountKind.INVESTOR_AVAILABLE, AccountKind.INVESTOR_INVESTED)


@dataclass(frozen=True)
class Statement:
    from_: date
    to: date
    opening: rules.Position
    closing: rules.Position
    totals: dict[str, int]
    lines: Sequence[JournalLine]


def period(since: date | None, until: date | None, today: date) -> tuple[date, date]:
    """The statement's dates: by default this calendar month up to the business date."""
    until = until or today
    since = since or until.replace(day=1)
    if since > until:
        raise InvalidDateRange
    if (until - since).days >= MAX_STATEMENT_DAYS:
        raise DateRangeTooLong
    return since, until


def _own_lines(investor_id: uuid.UUID) -> ColumnElement[bool]:
    return and_(
        JournalLine.owner_id == investor_id, JournalLine.account_kind.in_(INVESTOR_ACCOUNTS)
    )


async def statement(
    uow: UnitOfWork, *, actor: Principal, since: date | None, until: date | None, today: date
) -> Statement:
    since, until = period(since, until, today)
    before = await uow.session.execute(
        select(JournalLine.account_kind, func.sum(JournalLine.amount))
        .where(_own_lines(actor.id), JournalLine.value_date < since)
        .group_by(JournalLine.account_kind)
    )
    sums = {kind: int(total) for kind, total in before}
    opening = rules.Position(sums.get(rules.AVAILABLE, 0), sums.get(rules.INVESTED, 0))
    lines = (
        await uow.session.scalars(
            select(JournalLine)
            .where(_own_lines(actor.id), JournalLine.value_date.between(since, until))
            .order_by(JournalLine.id)
        )
    ).all()
    moved = [(line.account_kind, line.purpose, line.amount) for line in lines]
    totals = {purpose.value: size for purpose, size in rules.totals(moved).items()}
    totals["fee"] = 0  # investors' interest lines are what they received (docs/DECISIONS.md)
    return Statement(since, until, opening, rules.close(opening, moved), totals, lines)
