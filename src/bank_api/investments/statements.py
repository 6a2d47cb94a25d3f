"""What an investor's money did: statements over a period of value dates, and its returns.

Both read the investor's journal lines by the business date on which they were booked
(`value_date`), through the ledger's repository (`LedgerRepository.investor_sums_before`,
`investor_period_lines`, `investor_period_days`), without a transaction. A statement is two (the
balances before the period with the fees taken in it, then the lines in it) and its closing
balances follow from them; returns are three (what moved each day, the same balances and fees,
the principal in non-performing loans).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

import anyio

from bank_api.common.principal import Principal
from bank_api.domain import statement as rules
from bank_api.domain.returns import CashFlow, ReturnsSummary, summarize_returns, terminal_value
from bank_api.errors import DateRangeTooLong, InvalidDateRange
from bank_api.models import AccountKind, Purpose
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


async def _opening_and_fees(
    uow: UnitOfWork, investor: uuid.UUID, since: date, until: date
) -> tuple[rules.Position, int]:
    """The balances before the period and the fees taken in it."""
    sums = await uow.ledger.investor_sums_before(investor, since, until)
    opening = rules.Position(sums.get(rules.AVAILABLE, 0), sums.get(rules.INVESTED, 0))
    return opening, sums.get(AccountKind.PLATFORM_REVENUE, 0)


async def statement(
    uow: UnitOfWork, *, actor: Principal, since: date | None, until: date | None, today: date
) -> Statement:
    since, until = period(since, until, today)
    opening, fees = await _opening_and_fees(uow, actor.id, since, until)
    lines = await uow.ledger.investor_period_lines(actor.id, since, until)
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
    start = since or date.min
    days = await uow.ledger.investor_period_days(actor.id, start, until)
    flows: list[CashFlow] = []
    moved: list[tuple[AccountKind, Purpose, int]] = []
    lent = 0  # principal lent out in the period, net of what came back
    for on, account, purpose, total in days:
        moved.append((account, purpose, total))
        if account == rules.INVESTED:
            lent += total
        if (account, purpose) in _FLOWS:
            flows.append(CashFlow(on, _FLOWS[account, purpose] * total))
    opening, fees = await _opening_and_fees(uow, actor.id, start, until)
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
