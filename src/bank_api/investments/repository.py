"""Investors' stored balances: the allocation queue and every change of a balance.

Every statement that changes several investors' balances locks their rows in investor id
order (a materialized, ordered `SELECT ... FOR UPDATE` that the `UPDATE` joins), so two such
transactions never wait on each other in a cycle; a plain `UPDATE ... FROM (VALUES ...)` would
lock rows in whatever order its join plan visits them. The use cases send these statements
last, just before commit, so the hottest rows of the book are held for the shortest time.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Uuid,
    bindparam,
    case,
    func,
    select,
    update,
)
from sqlalchemy.sql.selectable import CTE

from bank_api.common.bulk import built_once
from bank_api.common.repository import Repository
from bank_api.common.types import utcnow
from bank_api.models import InvestorAccount
from bank_api.models.base import table_of

# Key of the advisory lock that serializes approvals (any constant shared by all workers).
ALLOCATION_QUEUE_LOCK = 0x62616E6B  # "bank"


class Balances(NamedTuple):
    investor_id: uuid.UUID
    available: int
    invested: int
    interest_earned: int
    losses: int


# Balances are written with Core statements on the table (see bank_api.common.bulk: no ORM
# bulk machinery for rows the session never loads).
ACCOUNTS = table_of(InvestorAccount)
BALANCES = tuple(ACCOUNTS.c[name] for name in Balances._fields)


def queued_at_after(change: Any, now: Any) -> ColumnElement[Any]:
    """The queue position once `available` changes by `change` (signed): money rising from
    zero joins the back of the allocation queue, money falling to zero leaves it."""
    available = ACCOUNTS.c.available
    return case(
        (available + change == 0, None),
        (available == 0, now),
        else_=ACCOUNTS.c.queued_at,
    )


# The statements of every deposit and withdrawal, built once (their cache keys too).
_CHANGE = bindparam("change", type_=BigInteger())
_NOW = bindparam("now", type_=ACCOUNTS.c.updated_at.type)
_ONE = ACCOUNTS.c.investor_id == bindparam("investor")
_BALANCES = select(*BALANCES).where(_ONE)
_MOVE = (
    update(ACCOUNTS)
    .where(_ONE, ACCOUNTS.c.available + _CHANGE >= 0)
    .values(
        available=ACCOUNTS.c.available + _CHANGE,
        queued_at=queued_at_after(_CHANGE, _NOW),
        updated_at=_NOW,
    )
    .returning(*BALANCES)
)


CHANGES = (
    ("investor_id", Uuid()),
    ("available", BigInteger()),
    ("invested", BigInteger()),
    ("interest_earned", BigInteger()),
    ("losses", BigInteger()),
)


def _change_many(v: CTE, *, require_available: bool) -> Any:
    """UPDATE the balances by the changes in `v`, locking the rows in id order first."""
    a = ACCOUNTS.c
    locked = (
        select(a.investor_id)
        .where(a.investor_id.in_(select(v.c.investor_id)))
        .order_by(a.investor_id)
        .with_for_update()
        .cte("locked")
        .prefix_with("MATERIALIZED")
    )
    stmt = (
        update(ACCOUNTS)
        .where(a.investor_id == v.c.investor_id, a.investor_id == locked.c.investor_id)
        .values(
            available=a.available + v.c.available,
            invested=a.invested + v.c.invested,
            interest_earned=a.interest_earned + v.c.interest_earned,
            losses=a.losses + v.c.losses,
            queued_at=queued_at_after(v.c.available, _NOW),
            updated_at=_NOW,
        )
        .add_cte(v)
        .add_cte(locked)
        .returning(a.investor_id)
    )
    if require_available:
        stmt = stmt.where(a.available + v.c.available >= 0)
    return stmt


class InvestorAccountRepository(Repository[InvestorAccount]):
    model = InvestorAccount

    async def for_investor(self, investor_id: uuid.UUID) -> Balances:
        return Balances(*(await self.session.execute(_BALANCES, {"investor": investor_id})).one())

    async def move(self, investor_id: uuid.UUID, change: int) -> Balances | None:
        """Add `change` (signed) to one investor's available money, never below zero: the
        balances after it, or None when there is not enough."""
        values = {"investor": investor_id, "change": change, "now": utcnow()}
        row = (await self.session.execute(_MOVE, values)).first()
        return None if row is None else Balances(*row)

    async def lock_allocation_queue(self) -> None:
        """Hold the allocation queue until commit (PostgreSQL: a transaction advisory lock).

        Every approval funds the loan from the head of the same queue; taking turns means each
        one reads the queue after the previous one committed, instead of allocating from a
        stale read and finding the money gone. SQLite runs one writer at a time anyway."""
        if self.session.get_bind().dialect.name == "postgresql":
            await self.session.execute(select(func.pg_advisory_xact_lock(ALLOCATION_QUEUE_LOCK)))

    async def allocation_queue(self, limit: int) -> list[tuple[uuid.UUID, int]]:
        """The first `limit` investors of the queue (idle money that has waited longest first):
        a range scan of the queue's partial index, so its cost is the head, not the queue."""
        stmt = (
            select(ACCOUNTS.c.investor_id, ACCOUNTS.c.available)
            .where(ACCOUNTS.c.available > 0)
            .order_by(ACCOUNTS.c.queued_at, ACCOUNTS.c.investor_id)
            .limit(limit)
        )
        return [(row[0], row[1]) for row in await self.session.execute(stmt)]

    async def change_many(
        self,
        rows: Sequence[tuple[uuid.UUID, int, int, int, int]],
        *,
        require_available: bool = False,
    ) -> int:
        """Per investor `(id, available, invested, interest_earned, losses)` changes (signed
        cents), in one statement that locks the rows in id order; how many rows changed.

        With `require_available`, a row whose available money would go below zero is left
        alone (the caller compares the count and tries again)."""
        if not rows:
            return 0
        stmt, params = built_once(
            self.session,
            ("change_many", require_available),
            CHANGES,
            sorted(rows),
            lambda v: _change_many(v, require_available=require_available),
        )
        params["now"] = utcnow()
        return len((await self.session.execute(stmt, params)).all())

    async def all(self) -> Sequence[InvestorAccount]:
        return (await self.session.execute(select(InvestorAccount))).scalars().all()
