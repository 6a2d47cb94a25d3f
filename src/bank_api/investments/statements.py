"""What an investor's money did: statements over a period of value dates, and its returns.

Both read the investor's journal lines by the business date on which they were booked
(`value_date`), without a transaction: a statement is two statements (the balances before the
period, the lines in it) and its closing balances follow from them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from typing import Any

import anyio
from sqlalchemy import ColumnElement, and_, func, select

from bank_api.common.principal import Principal
from bank_api.domain import statement as rules
from bank_api.domain.delinquency import NPL_DAYS_PAST_DUE
from bank_api.domain.returns import CashFlow, ReturnsSummary, summarize_returns, terminal_value
from bank_api.errors import DateRangeTooLong, InvalidDateRange
from bank_api.loans.overdue import npl_cutoff, npl_loan
from bank_api.models import AccountKind, Allocation, JournalLine, Loan, Purpose
from bank_api.uow import UnitOfWork

MAX_STATEMENT_DAYS = 366
LINE_FIELDS = (
    JournalLine.id,
    JournalLine.entry_id,
    JournalLine.purpose,
    JournalLine.account_kind,
    JournalLine.amount,
    JournalLine.loan_id,
    JournalLine.created_at,
    JournalLine.value_date,
)
"""What a statement shows of a line."""
INVESTOR_ACCOUNTS = (AccountKind.INVESTOR_AVAILABLE, AccountKind.INVESTOR_INVESTED)


@dataclass(frozen=True)
class Statement:
    from_: date
    to: date
    opening: rules.Position
    closing: rules.Position
    totals: dict[str, int]
    lines: Sequence[Any]
    """Each line's `LINE_FIELDS` (rows, not loaded lines)."""


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
    # The lines' columns, not loaded lines: a month can hold thousands, and the ORM's loading
    # of each (identity map, instance state) cost more than everything else the statement does.
    lines = (
        await uow.session.execute(
            select(*LINE_FIELDS)
            .where(_own_lines(actor.id), JournalLine.value_date.between(since, until))
            .order_by(JournalLine.id)
        )
    ).all()
    moved = [(line.account_kind, line.purpose, line.amount) for line in lines]
    totals = {purpose.value: size for purpose, size in rules.totals(moved).items()}
    # Interest lines are what the investor received; the fee taken before is shown beside.
    totals["fee"] = await _fees(uow, actor.id, JournalLine.value_date.between(since, until))
    return Statement(since, until, opening, rules.close(opening, moved), totals, lines)


async def _fees(uow: UnitOfWork, investor_id: uuid.UUID, booked: ColumnElement[bool]) -> int:
    """The platform's fees taken from the investor's interest on the value dates `booked`."""
    total = await uow.session.scalar(
        select(func.coalesce(func.sum(JournalLine.amount), 0)).where(
            JournalLine.account_kind == AccountKind.PLATFORM_REVENUE,
            JournalLine.owner_id == investor_id,
            booked,
        )
    )
    return int(total or 0)


@dataclass(frozen=True)
class Returns:
    from_: date | None
    to: date
    summary: ReturnsSummary


async def returns(
    uow: UnitOfWork, *, actor: Principal, since: date | None, until: date | None, today: date
) -> Returns:
    """The period's cash flows with the loans and what they return (docs/DECISIONS.md
    "Returns"): money already lent out when the period starts is money out on its first day,
    money still lent out at its end money in on its last day, at par, except in loans 90+ days
    past due."""
    until = until or today
    if since is not None and since > until:
        raise InvalidDateRange
    in_period = JournalLine.value_date <= until
    if since is not None:
        in_period = in_period & (JournalLine.value_date >= since)
    rows = await uow.session.execute(
        select(
            JournalLine.value_date,
            JournalLine.account_kind,
            JournalLine.purpose,
            func.sum(JournalLine.amount),
        )
        .where(_own_lines(actor.id), in_period)
        .group_by(JournalLine.value_date, JournalLine.account_kind, JournalLine.purpose)
        .order_by(JournalLine.value_date)
    )
    flows: list[CashFlow] = []
    moved: list[tuple[AccountKind, Purpose, int]] = []
    for on, account, purpose, total in rows:
        moved.append((account, purpose, int(total)))
        if (account, purpose) in _FLOWS:
            flows.append(CashFlow(on, _FLOWS[account, purpose] * int(total)))
    if since is not None and (opening := await _invested(uow, actor.id, since, before=True)):
        flows.insert(0, CashFlow(since, -opening))
    outstanding = await _invested(uow, actor.id, until, before=False)
    excluded = min(outstanding, await _npl_principal(uow, actor.id, until))
    if (last := terminal_value(until, outstanding, excluded)) is not None:
        flows.append(last)
    sizes = rules.totals(moved)
    fees = await _fees(uow, actor.id, in_period)
    # The rate is exact decimal arithmetic, up to a few hundred evaluations over every day
    # with a flow: off the event loop, like password hashing.
    summary = await anyio.to_thread.run_sync(
        partial(
            summarize_returns,
            flows,
            interest_earned=sizes[Purpose.INTEREST] + fees,
            fees=fees,
            losses=sizes[Purpose.WRITE_OFF],
        )
    )
    first = since or (flows[0].on if flows else None)
    return Returns(first, until, summary)


# Which lines are cash flows with the loans, and their sign on the investor's side.
_FLOWS = {
    (rules.INVESTED, Purpose.ALLOCATION): -1,
    (rules.AVAILABLE, Purpose.PRINCIPAL_REPAYMENT): 1,
    (rules.AVAILABLE, Purpose.INTEREST): 1,
}


async def _invested(uow: UnitOfWork, investor_id: uuid.UUID, day: date, *, before: bool) -> int:
    """Principal lent out at the start (`before`) or at the end of `day`, by the journal."""
    booked = JournalLine.value_date < day if before else JournalLine.value_date <= day
    total = await uow.session.scalar(
        select(func.coalesce(func.sum(JournalLine.amount), 0)).where(
            JournalLine.owner_id == investor_id, JournalLine.account_kind == rules.INVESTED, booked
        )
    )
    return int(total or 0)


async def _npl_principal(uow: UnitOfWork, investor_id: uuid.UUID, day: date) -> int:
    """The investor's principal in loans non-performing on `day`, by the loans' stored state."""
    if day - date.min < timedelta(days=NPL_DAYS_PAST_DUE):
        return 0  # nothing can be that late yet (and the cutoff would leave the calendar)
    outstanding = Allocation.amount - Allocation.principal_received - Allocation.loss
    total = await uow.session.scalar(
        select(func.coalesce(func.sum(outstanding), 0))
        .join(Loan, Loan.id == Allocation.loan_id)
        .where(Allocation.investor_id == investor_id, npl_loan(npl_cutoff(day)))
    )
    return int(total or 0)
