"""Journal writes (set-based) and the reads that verify and list them."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    Select,
    String,
    Uuid,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import CTE

from bank_api.common.bulk import Write, inserting, write
from bank_api.common.repository import Repository
from bank_api.common.types import utcnow
from bank_api.domain import ledger as domain
from bank_api.domain.ledger import INVESTOR_ACCOUNTS
from bank_api.models import AccountKind, JournalEntry, JournalLine, Purpose
from bank_api.models.base import table_of

ENTRIES = table_of(JournalEntry)
LINES = table_of(JournalLine)
_ENTRY = insert(ENTRIES).returning(ENTRIES.c.id)  # SQLite: the entry, before its lines
LINE_COLUMNS = (
    ("account_kind", String()),
    ("owner_id", Uuid()),
    ("amount", BigInteger()),
    ("purpose", String()),
)
INVESTOR_LINE: tuple[Any, ...] = (
    JournalLine.id,
    JournalLine.entry_id,
    JournalLine.purpose,
    JournalLine.account_kind,
    JournalLine.amount,
    JournalLine.loan_id,
    JournalLine.created_at,
    JournalLine.value_date,
)
"""What an investor is shown of a journal line (the transactions page, statements)."""
_INVESTOR_LINE_KEYS = tuple(column.key for column in INVESTOR_LINE)


def investor_line_values(rows: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
    """Rows of `INVESTOR_LINE` as mappings of its column names: a month's statement can hold
    thousands of lines, and a response model validates from a dict about three times faster
    than from a row's attributes (bench/README.md)."""
    return [dict(zip(_INVESTOR_LINE_KEYS, row, strict=True)) for row in rows]


# An investor's journal by value date (statements and returns): statements built once (their
# cache keys too), only the values change.
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


# Named apart (`entry_<column>`): the entry is sent with other writes, whose own statements
# take their columns' names.
_FIXED = {
    name: bindparam(f"entry_{name}", type_=ENTRIES.c[name].type)
    for name in ("kind", "created_at", "investor_id", "loan_id", "payment_id")
}
_VALUE_DATE = bindparam("entry_value_date", type_=LINES.c.value_date.type)


def _entry_with_lines(v: CTE) -> Any:
    """PostgreSQL: the entry and its lines `v` in one statement (data-modifying CTEs, which
    PostgreSQL runs to completion whether or not the query reads them), the lines taking the
    entry's id; returns that id and the entry's time, once (not once per line: a payment has
    hundreds)."""
    inserted = insert(ENTRIES).values(**_FIXED)
    entry = inserted.returning(ENTRIES.c.id, ENTRIES.c.created_at).cte("entry")
    source = select(
        *(v.c[name] for name, _ in LINE_COLUMNS),
        entry.c.id,
        _FIXED["loan_id"],
        _FIXED["created_at"],
        _VALUE_DATE,
    ).select_from(v.join(entry, true()))
    names = [name for name, _ in LINE_COLUMNS] + ["entry_id", "loan_id", "created_at", "value_date"]
    lines = insert(LINES).from_select(names, source).cte("lines")
    return select(entry.c.id, entry.c.created_at).add_cte(v).add_cte(entry).add_cte(lines)


class LedgerRepository(Repository[JournalEntry]):
    model = JournalEntry

    async def investor_sums_before(
        self, investor: uuid.UUID, since: date, until: date
    ) -> dict[AccountKind, int]:
        """The investor's balances before `since`, by account kind, and the platform's fees
        taken from the investor's interest from `since` to `until` (`PLATFORM_REVENUE`)."""
        values = {"investor": investor, "since": since, "until": until}
        rows = await self.session.execute(_OPENING_AND_FEES, values)
        return {kind: int(total) for kind, total in rows}

    async def investor_period_lines(
        self, investor: uuid.UUID, since: date, until: date
    ) -> list[dict[str, Any]]:
        """The investor's lines with value dates from `since` to `until`, in booking order."""
        values = {"investor": investor, "since": since, "until": until}
        return investor_line_values(await self.session.execute(_LINES, values))

    async def investor_period_days(
        self, investor: uuid.UUID, since: date, until: date
    ) -> list[tuple[date, AccountKind, Purpose, int]]:
        """What moved in the investor's accounts on each day from `since` to `until`, by
        account and purpose, day by day."""
        values = {"investor": investor, "since": since, "until": until}
        rows = await self.session.execute(_DAYS, values)
        return [(on, account, purpose, int(total)) for on, account, purpose, total in rows]

    def entry(
        self,
        entry: domain.Entry,
        *,
        value_date: date,
        investor_id: uuid.UUID | None = None,
        loan_id: uuid.UUID | None = None,
        payment_id: uuid.UUID | None = None,
    ) -> Write:
        """The write of one balanced entry and all its lines, booked on the business date
        `value_date`, which returns the entry's id and time. PostgreSQL: one statement; SQLite (no
        data-modifying CTEs): the entry's row, then its lines in one statement."""
        fixed = {
            "kind": entry.kind,
            "created_at": utcnow(),
            "investor_id": investor_id,
            "loan_id": loan_id,
            "payment_id": payment_id,
        }
        lines = [
            (line.kind.value, line.owner, line.amount, line.purpose.value) for line in entry.lines
        ]
        params = {f"entry_{name}": value for name, value in fixed.items()}
        params["entry_value_date"] = value_date

        async def on_sqlite(session: AsyncSession) -> Sequence[Any]:
            entry_id = await session.scalar(_ENTRY, fixed)
            constants = {"entry_id": entry_id, "loan_id": loan_id, "value_date": value_date}
            constants["created_at"] = fixed["created_at"]
            await write(session, inserting(JournalLine, LINE_COLUMNS, lines, constants))
            return [(entry_id, fixed["created_at"])]

        return Write("entry_with_lines", LINE_COLUMNS, lines, _entry_with_lines, params, on_sqlite)

    def investor_lines(
        self,
        investor_id: uuid.UUID,
        purpose: Purpose | None = None,
        since: datetime | None = None,
        before: datetime | None = None,
    ) -> Select[Any]:
        stmt = (
            select(*INVESTOR_LINE)
            .where(
                JournalLine.account_kind.in_(domain.INVESTOR_ACCOUNTS),
                JournalLine.owner_id == investor_id,
            )
            .order_by(JournalLine.id.desc())
        )
        if purpose is not None:
            stmt = stmt.where(JournalLine.purpose == purpose)
        if since is not None:
            stmt = stmt.where(JournalLine.created_at >= since)
        if before is not None:
            stmt = stmt.where(JournalLine.created_at < before)
        return stmt

    async def entry_sums(self) -> Sequence[tuple[int, int]]:
        stmt = select(JournalLine.entry_id, func.sum(JournalLine.amount)).group_by(
            JournalLine.entry_id
        )
        return [(row[0], int(row[1])) for row in await self.session.execute(stmt)]

    async def missing_entries(self) -> Sequence[int]:
        """The entry ids that lines name and no entry has (none, unless the journal was
        written around `entry`)."""
        stmt = (
            select(JournalLine.entry_id)
            .where(~select(JournalEntry.id).where(JournalEntry.id == JournalLine.entry_id).exists())
            .distinct()
            .order_by(JournalLine.entry_id)
        )
        return list((await self.session.scalars(stmt)).all())

    async def account_balances(self) -> dict[tuple[AccountKind, uuid.UUID | None], int]:
        stmt = select(
            JournalLine.account_kind, JournalLine.owner_id, func.sum(JournalLine.amount)
        ).group_by(JournalLine.account_kind, JournalLine.owner_id)
        return {(row[0], row[1]): int(row[2]) for row in await self.session.execute(stmt)}
