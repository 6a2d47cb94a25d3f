"""What an investor's money did: statements over a period of value dates, and its returns.

Both read the investor's journal lines by the business date on which they were booked
(`value_date`), without a transaction, with statements built once. A statement is two (the
balances before the period with the fees taken in it, then the lines in it) and its closing
balances follow from them; returns are three (what moved each day, the same balances and fees,
the principal in non-performing loans).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

import anyio
from sqlalchemy import Date, Uuid, and_, bindparam, func, or_, select

from bank_api.common.principal import Principal
from bank_api.domain import statement as rules
from bank_api.domain.ledger import INVESTOR_ACCOUNTS
from bank_api.domain.returns import CashFlow, ReturnsSummary, summarize_returns, terminal_value
from bank_api.errors import DateRangeTooLong, InvalidDateRange
from bank_api.ledger.repository import INVESTOR_LINE, investor_line_values
from bank_api.models import AccountKind, JournalLine, Purpose
from bank_api.uow import UnitOfWork

MAX_STATEMENT_DAYS = 366


@dataclass(frozen=True)
class Statement:
    from_: date
    to: date
    opening: rules.Position
    closing: rules.Position
    totals: dict[str, int]
    lines: Sequence[dict[str, Any]]
    """Each line's `INVESTOR_LINE` columns by name (not loaded lines)."""


def period(since: date | None, until: date | None, today: date) -> tuple[date, date]:
    """The statement's dates: by default this calendar month up to the business date."""
    until = until or today
    since = since or until.replace(day=1)
    if since > until:
        raise InvalidDateRange
    if (until - since).days >= MAX_STATEMENT_DAYS:
        raise DateRangeTooLong
    return since, until


# The statements of both reads, built once (their cache keys too): only the values change.
_INVESTOR = bindparam("investor", type_=Uuid())
_SINCE = bindparam("since", type_=Date())
_UNTIL = bindparam("until", type_=Date())
_OWN = and_(JournalLine.owner_id == _INVESTOR, JournalLine.account_kind.in_(INVESTOR_ACCOUNTS))
_IN_PERIOD = JournalLine.value_date.between(_SINCE, _UNTIL)
# The investor's balances before the period, and the platform's fees taken in it: one row per
# account kind.
_OPENING_AND_FEES = (
    select(JournalLine.account_kind, func.sum(JournalLine.amount))
    .where(
        JournalLine.owner_id == _INVESTOR,
        or_(
            JournalLine.account_kind.in_(INVESTOR_ACCOUNTS) & (JournalLine.value_date < _SINCE),
            (JournalLine.account_kind == AccountKind.PLATFORM_REVENUE) & _IN_PERIOD,
        ),
    )
    .group_by(JournalLine.account_kind)
)
# The lines' columns, not loaded lines: a month can hold thousands, and the ORM's loading of
# each (identity map, instance state) cost more than everything else the statement does.
_LINES = select(*INVESTOR_LINE).where(_OWN, _IN_PERIOD).order_by(JournalLine.id)
# What moved on each day of the period, by account and purpose.
_DAYS = (
    select(
        JournalLine.value_date,
        JournalLine.account_kind,
        JournalLine.purpose,
        func.sum(JournalLine.amount),
    )
    .where(_OWN, _IN_PERIOD)
    .group_by(JournalLine.value_date, JournalLine.account_kind, JournalLine.purpose)
    .order_by(JournalLine.value_date)
)


async def _opening_and_fees(uow: UnitOfWork, values: dict[str, Any]) -> tuple[rules.Position, int]:
    """The balances before the period and the fees taken in it (`values`: investor, since,
    until)."""
    sums = {
        kind: int(total) for kind, total in await uow.session.execute(_OPENING_AND_FEES, values)
    }
    opening = rules.Position(sums.get(rules.AVAILABLE, 0), sums.get(rules.INVESTED, 0))
    return opening, sums.get(AccountKind.PLATFORM_REVENUE, 0)


async def statement(
    uow: UnitOfWork, *, actor: Principal, since: date | None, until: date | None, today: date
) -> Statement:
    since, until = period(since, until, today)
    values = {"investor": actor.id, "since": since, "until": until}
    opening, fees = await _opening_and_fees(uow, values)
    lines = investor_line_values(await uow.session.execute(_LINES, values))
    moved = [(line["account_kind"], line["purpose"], line["amount"]) for line in lines]
    totals = {purpose.value: size for purpose, size in rules.totals(moved).items()}
    # Interest lines are what the investor received; the fee taken before is shown beside.
    totals["fee"] = fees
    return Statement(since, until, opening, rules.close(opening, moved), totals, lines)


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
    # Without `since`, everything up to `until`: nothing is booked before the calendar starts.
    values = {"investor": actor.id, "since": since or date.min, "until": until}
    flows: list[CashFlow] = []
    moved: list[tuple[AccountKind, Purpose, int]] = []
    lent = 0  # principal lent out in the period, net of what came back
    for on, account, purpose, total in await uow.session.execute(_DAYS, values):
        moved.append((account, purpose, int(total)))
        if account == rules.INVESTED:
            lent += int(total)
        if (account, purpose) in _FLOWS:
            flows.append(CashFlow(on, _FLOWS[account, purpose] * int(total)))
    opening, fees = await _opening_and_fees(uow, values)
    if since is not None and opening.invested:
        flows.insert(0, CashFlow(since, -opening.invested))
    outstanding = opening.invested + lent
    excluded = min(outstanding, await uow.investors.npl_principal(actor.id, until))
    if (last := terminal_value(until, outstanding, excluded)) is not None:
        flows.append(last)
    sizes = rules.totals(moved)
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
