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
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    Integer,
    String,
    Uuid,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.sql.selectable import CTE

from bank_api.common.bulk import Write, is_postgres
from bank_api.common.repository import Repository
from bank_api.common.types import utcnow
from bank_api.domain.delinquency import NPL_DAYS_PAST_DUE
from bank_api.domain.preferences import Preferences
from bank_api.loans.overdue import (
    HOLDING_OUTSTANDING,
    HOLDINGS,
    npl_cutoff,
    npl_holding,
    overdue_holding,
)
from bank_api.models import InvestorAccount, InvestorLoanType
from bank_api.models.base import table_of

# Key of the advisory lock that serializes approvals (any constant shared by all workers).
ALLOCATION_QUEUE_LOCK = 0x62616E6B  # "bank"


class Balances(NamedTuple):
    """An investor's stored balances and portfolio figures or, given to `changes`, a change
    of them (signed)."""

    investor_id: uuid.UUID
    available: int = 0
    invested: int = 0
    interest_earned: int = 0
    losses: int = 0
    active_allocations: int = 0
    """Holdings in active loans."""
    fees: int = 0
    """The platform's fees taken from the investor's interest."""


# Balances are written with Core statements on the table (see bank_api.common.bulk: no ORM
# bulk machinery for rows the session never loads).
ACCOUNTS = table_of(InvestorAccount)
BALANCES = tuple(ACCOUNTS.c[name] for name in Balances._fields)


def queued_at_after(change: Any, now: Any, funded: Any = None) -> ColumnElement[Any]:
    """The queue position once `available` changes by `change` (signed): money falling to zero
    leaves the allocation queue; money rising from zero, or an investor who has just funded a
    loan (`funded`, a condition), joins its back."""
    available = ACCOUNTS.c.available
    back = available == 0 if funded is None else (available == 0) | funded
    return case(
        (available + change == 0, None),
        (back, now),
        else_=ACCOUNTS.c.queued_at,
    )


LOAN_TYPES = table_of(InvestorLoanType)
_A = ACCOUNTS.c


def _allocatable() -> ColumnElement[Any]:
    """SQL of :meth:`Preferences.allocatable`: ``available - keep_available``, no more than
    ``max_portfolio - invested`` when that is set (a test holds the two to the same answers)."""
    free = _A.available - _A.keep_available
    room = _A.max_portfolio - _A.invested
    return case((_A.max_portfolio.is_(None) | (free <= room), free), else_=room)


ALLOCATABLE = _allocatable()
# A candidate of the allocation queue, whatever the loan's product (`queued_at IS NOT NULL`,
# money waiting, lets the queue's partial index serve it).
CANDIDATE = _A.queued_at.is_not(None) & _A.auto_invest & (ALLOCATABLE > 0)
QUEUE_ORDER = (_A.queued_at, _A.investor_id)


def _admits(loan_type: Any) -> ColumnElement[bool]:
    """The investor funds `loan_type`: no product rows at all (every product), or its row."""
    own = LOAN_TYPES.c.investor_id == _A.investor_id
    return ~exists().where(own) | exists().where(own, LOAN_TYPES.c.loan_type == loan_type)


_QUEUE = (
    select(_A.investor_id, _A.available, _A.invested, _A.keep_available)
    .add_columns(_A.max_per_loan, _A.max_portfolio)
    .where(CANDIDATE, _admits(bindparam("loan_type", type_=String())))
    .order_by(*QUEUE_ORDER)
    .limit(bindparam("head", type_=Integer()))
)
_PREFERENCE_COLUMNS = (_A.auto_invest, _A.max_per_loan, _A.keep_available, _A.max_portfolio)
_PREFERRED_TYPES = (
    select(LOAN_TYPES.c.loan_type)
    .where(LOAN_TYPES.c.investor_id == bindparam("investor"))
    .order_by(LOAN_TYPES.c.loan_type)
)


class Overdue(NamedTuple):
    """How much of the investor's principal is in overdue loans and, of it, non-performing."""

    principal: int
    npl_principal: int


def _outstanding_of_own_holdings(condition: ColumnElement[bool]) -> Any:
    """The outstanding principal of the account's holdings that meet `condition` on their
    loan's oldest unpaid due date: an index range of `ix_allocation_investor_unpaid_due`, so
    however large the portfolio, only what is overdue is read."""
    own = HOLDINGS.c.investor_id == ACCOUNTS.c.investor_id
    total = func.coalesce(func.sum(HOLDING_OUTSTANDING), 0)
    return select(total).where(own, condition).correlate(ACCOUNTS).scalar_subquery()


# The overdue figures depend on the day, so they are summed when read; the others are kept on
# the account row by the writes that change them.
_TODAY = bindparam("today", type_=Date())
OVERDUE = (
    _outstanding_of_own_holdings(overdue_holding(_TODAY)),
    _outstanding_of_own_holdings(npl_holding(bindparam("npl_cutoff", type_=Date()))),
)

# The statements of every portfolio, deposit and withdrawal, built once (their cache keys too).
_CHANGE = bindparam("change", type_=BigInteger())
_NOW = bindparam("now", type_=ACCOUNTS.c.updated_at.type)
_ONE = ACCOUNTS.c.investor_id == bindparam("investor")
_BALANCES = select(*BALANCES).where(_ONE)
_PORTFOLIO = select(*BALANCES, *OVERDUE).where(_ONE)
_NPL = select(OVERDUE[1]).where(_ONE)
_PREFERENCES = select(*_PREFERENCE_COLUMNS).where(_ONE)
_STANDING = select(*BALANCES, _A.queued_at, *_PREFERENCE_COLUMNS).where(_ONE)
_MOVE = (
    update(ACCOUNTS)
    .where(_ONE, ACCOUNTS.c.available + _CHANGE >= 0)
    .values(
        available=ACCOUNTS.c.available + _CHANGE,
        queued_at=queued_at_after(_CHANGE, _NOW),
        updated_at=_NOW,
    )
    .returning(*BALANCES, *OVERDUE)
)


def _day(today: date) -> dict[str, date]:
    return {"today": today, "npl_cutoff": npl_cutoff(today)}


def _portfolio(row: Any) -> tuple[Balances, Overdue]:
    width = len(BALANCES)
    return Balances(*row[:width]), Overdue(*(int(total) for total in row[width:]))


CHANGES = (
    ("investor_id", Uuid()),
    ("available", BigInteger()),
    ("invested", BigInteger()),
    ("interest_earned", BigInteger()),
    ("losses", BigInteger()),
    ("active_allocations", Integer()),
    ("fees", BigInteger()),
)


def _changes(v: CTE, *, require_available: bool) -> Any:
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
            active_allocations=a.active_allocations + v.c.active_allocations,
            fees=a.fees + v.c.fees,
            queued_at=queued_at_after(v.c.available, _NOW, funded=v.c.invested > 0),
            last_funded_at=case((v.c.invested > 0, _NOW), else_=a.last_funded_at),
            updated_at=_NOW,
        )
        .add_cte(v)
        .add_cte(locked)
        .returning(a.investor_id)
    )
    if require_available:
        stmt = stmt.where(a.available + v.c.available >= 0)
    return stmt


# The candidates ahead of a place in the queue (`queued_at`, then `investor`), and the money
# they may still allocate.
_QUEUED_AT = bindparam("queued_at", type_=ACCOUNTS.c.queued_at.type)
_BEFORE = or_(
    ACCOUNTS.c.queued_at < _QUEUED_AT,
    (ACCOUNTS.c.queued_at == _QUEUED_AT) & (ACCOUNTS.c.investor_id < bindparam("investor")),
)
_AHEAD = select(func.count(), func.coalesce(func.sum(ALLOCATABLE), 0)).where(CANDIDATE, _BEFORE)


class InvestorAccountRepository(Repository[InvestorAccount]):
    model = InvestorAccount

    async def ahead_of(self, investor_id: uuid.UUID, queued_at: datetime) -> tuple[int, int]:
        """How many candidates are ahead of the investor's place in the queue, and the money
        they may still allocate."""
        values = {"queued_at": queued_at, "investor": investor_id}
        count, amount = (await self.session.execute(_AHEAD, values)).one()
        return int(count), int(amount)

    async def for_investor(self, investor_id: uuid.UUID) -> Balances:
        return Balances(*(await self.session.execute(_BALANCES, {"investor": investor_id})).one())

    async def portfolio(self, investor_id: uuid.UUID, today: date) -> tuple[Balances, Overdue]:
        """The balances and figures, with the overdue ones of `today`, in one statement."""
        values = {"investor": investor_id, **_day(today)}
        return _portfolio((await self.rows(_PORTFOLIO, values)).one())

    async def npl_principal(self, investor_id: uuid.UUID, day: date) -> int:
        """The investor's principal in loans non-performing on `day` (by the loans' state now,
        as the holdings keep it)."""
        if day - date.min < timedelta(days=NPL_DAYS_PAST_DUE):
            return 0  # nothing can be that late yet (and the cutoff would leave the calendar)
        values = {"investor": investor_id, "npl_cutoff": npl_cutoff(day)}
        return int(await self.session.scalar(_NPL, values) or 0)

    def moving(self, investor_id: uuid.UUID, change: int, today: date) -> Write:
        """The write adding `change` (signed) to one investor's available money, never below
        zero, which returns the balances and figures after it (the overdue ones of `today`:
        `figures` reads them), or no row when there is not enough."""
        values = {"investor": investor_id, "change": change, "now": utcnow(), **_day(today)}
        return Write.one("move", lambda: _MOVE, values)

    @staticmethod
    def figures(row: Sequence[Any]) -> tuple[Balances, Overdue]:
        """The balances and figures of a row `moving` returned."""
        return _portfolio(row)

    async def lock_allocation_queue(self) -> None:
        """Hold the allocation queue until commit (PostgreSQL: a transaction advisory lock).

        Every approval funds the loan from the head of the same queue; taking turns means each
        one reads the queue after the previous one committed, instead of allocating from a
        stale read and finding the money gone. SQLite runs one writer at a time anyway."""
        if is_postgres(self.session):
            await self.session.execute(select(func.pg_advisory_xact_lock(ALLOCATION_QUEUE_LOCK)))

    async def allocation_queue(self, loan_type: str, limit: int) -> list[tuple[uuid.UUID, int]]:
        """``(investor_id, cap)`` of the first `limit` candidates for a loan of `loan_type`, in
        queue order (who has waited longest since their money rose from zero or they last
        funded a loan goes first): a range scan of the queue's partial index, so its cost is the
        head, not the queue. The cap is the preferences' (``max_share`` not included)."""
        rows = await self.session.execute(_QUEUE, {"loan_type": loan_type, "head": limit})
        return [
            (investor_id, Preferences(True, None, per_loan, keep, portfolio).cap(free, invested))
            for investor_id, free, invested, keep, per_loan, portfolio in rows
        ]

    async def preferences(self, investor_id: uuid.UUID) -> Preferences:
        own = {"investor": investor_id}
        row = (await self.session.execute(_PREFERENCES, own)).one()
        return await self._preferences(investor_id, row)

    async def standing(
        self, investor_id: uuid.UUID
    ) -> tuple[Balances, datetime | None, Preferences]:
        """The balances, the place in the allocation queue (`queued_at`, None when out of it)
        and the preferences, from one read of the account."""
        row = (await self.session.execute(_STANDING, {"investor": investor_id})).one()
        width = len(BALANCES)
        preferences = await self._preferences(investor_id, row[width + 1 :])
        return Balances(*row[:width]), row[width], preferences

    async def _preferences(self, investor_id: uuid.UUID, row: Sequence[Any]) -> Preferences:
        """`row`: the account's preference columns; the products are rows of their own."""
        types = await self.session.scalars(_PREFERRED_TYPES, {"investor": investor_id})
        active, per_loan, keep, portfolio = row
        return Preferences(active, frozenset(types) or None, per_loan, keep, portfolio)

    async def set_preferences(self, investor_id: uuid.UUID, preferences: Preferences) -> None:
        """Replace the investor's preferences (their product rows too)."""
        await self.session.execute(
            update(ACCOUNTS)
            .where(_A.investor_id == investor_id)
            .values(
                auto_invest=preferences.active,
                max_per_loan=preferences.max_per_loan,
                keep_available=preferences.keep_available,
                max_portfolio=preferences.max_portfolio,
                updated_at=utcnow(),
            )
        )
        await self.session.execute(
            delete(LOAN_TYPES).where(LOAN_TYPES.c.investor_id == investor_id)
        )
        if preferences.loan_types:
            rows = [{"investor_id": investor_id, "loan_type": t} for t in preferences.loan_types]
            await self.session.execute(insert(LOAN_TYPES), rows)

    def changes(self, rows: Sequence[Balances], *, require_available: bool = False) -> Write:
        """The write of per investor changes of the balances and figures (signed), one
        statement that locks the rows in id order and returns the id of each row it changed.

        With `require_available`, a row whose available money would go below zero is left
        alone (the caller compares the count and tries again)."""
        return Write(
            ("changes", require_available),
            CHANGES,
            sorted(rows),
            lambda v: _changes(v, require_available=require_available),
            {"now": utcnow()},
        )

    async def all(self) -> Sequence[InvestorAccount]:
        return (await self.session.execute(select(InvestorAccount))).scalars().all()
