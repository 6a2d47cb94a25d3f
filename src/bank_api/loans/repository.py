"""Loans and what an approved loan carries: named reads and writes per aggregate.

Locking reads lock in a fixed order (the loan, then its installments by number, then its
allocations by investor id), so two writers of one loan queue instead of deadlocking.
"""

from __future__ import annotations

import functools
import operator
import uuid
from collections.abc import Collection, Hashable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    Date,
    Integer,
    Select,
    Uuid,
    bindparam,
    delete,
    func,
    not_,
    select,
)

from bank_api.common.bulk import Write, inserting, new_rows, row_update, updating, write
from bank_api.common.principal import Principal
from bank_api.common.repository import Paged, Repository
from bank_api.common.types import utcnow
from bank_api.domain.distribution import Holding
from bank_api.domain.payments import Paid
from bank_api.domain.schedule import Installment as Planned
from bank_api.loans.filters import LoanFilters
from bank_api.loans.overdue import HOLDINGS, overdue_loan
from bank_api.models import (
    Allocation,
    Installment,
    Loan,
    LoanEvent,
    LoanProduct,
    LoanStatus,
    Payment,
    Role,
    ScheduleKind,
)


class LoanProductRepository(Repository[LoanProduct]):
    model = LoanProduct

    async def by_code(self, code: str) -> LoanProduct | None:
        return await self.session.get(LoanProduct, code)

    async def by_code_for_update(self, code: str) -> LoanProduct | None:
        stmt = select(LoanProduct).where(LoanProduct.code == code).with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def known(self, codes: Collection[str]) -> set[str]:
        """Which of `codes` name a product (active or not)."""
        stmt = select(LoanProduct.code).where(LoanProduct.code.in_(codes))
        return set(await self.session.scalars(stmt))

    async def listing(self, *, active_only: bool) -> Sequence[LoanProduct]:
        stmt = select(LoanProduct).order_by(LoanProduct.code)
        if active_only:
            stmt = stmt.where(LoanProduct.is_active.is_(True))
        return (await self.session.execute(stmt)).scalars().all()


def sees_only_own(actor: Principal) -> bool:
    """A customer reads only their own loans; staff read every loan."""
    return actor.role == Role.customer


# Ownership is part of the query: the condition a customer's reads add (`owner`: their id).
_OWN = Loan.customer_id == bindparam("owner")


def _visible(own: bool, lock: bool) -> Select[Any]:
    stmt = select(Loan).where(Loan.id == bindparam("loan"))
    if own:
        stmt = stmt.where(_OWN)
    return stmt.with_for_update() if lock else stmt


# A loan as its reader may see it, (own, lock) -> statement: built once, like the others.
_VISIBLE = {(own, lock): _visible(own, lock) for own in (False, True) for lock in (False, True)}


class LoanTerms(NamedTuple):
    """What a read of a loan's schedule needs of the loan."""

    id: uuid.UUID
    status: LoanStatus
    amount: int
    annual_rate_bp: int
    term_months: int
    schedule_type: ScheduleKind


def _visible_schedule(own: bool) -> Select[Any]:
    """A loan's terms on each row of its stored schedule (one row, the schedule's columns
    null, before there is one), the schedule by number."""
    terms = [Loan.__table__.c[name] for name in LoanTerms._fields]
    stmt = select(*terms, *_stored_schedule().selected_columns)
    stmt = stmt.outerjoin(Installment, Installment.loan_id == Loan.id)
    stmt = stmt.where(Loan.id == bindparam("loan"))
    if own:
        stmt = stmt.where(_OWN)
    return stmt.order_by(Installment.number)


_WAITING = (
    select(Loan.amount, Loan.created_at)
    .where(Loan.status.in_([LoanStatus.new, LoanStatus.requested]))
    .order_by(Loan.created_at, Loan.id)
    .limit(bindparam("n", type_=Integer()))
)
_LATEST_APPROVALS = (
    select(Loan.created_at, Loan.approved_at)
    .where(Loan.approved_at.is_not(None))
    .order_by(Loan.approved_at.desc())
    .limit(bindparam("n", type_=Integer()))
)


class LoanRepository(Repository[Loan]):
    model = Loan

    def new(self, loan: Loan) -> Write:
        """The write of a new loan's row, as a plain row (not through the session)."""
        return new_rows("loan", loan)

    def update(self, loan_id: uuid.UUID, values: Mapping[str, Any]) -> Write:
        """The write of `values` (column: value) on the loan's row, not through the session
        (`history.change_written` sets them on the loaded loan as already stored)."""
        return row_update(Loan, loan_id, values, "loan")

    async def visible(
        self, loan_id: uuid.UUID, actor: Principal, *, lock: bool = False
    ) -> Loan | None:
        """The loan if `actor` may see it; with `lock`, row-locked until commit, so no
        decision can slip in between a check and its write."""
        own = sees_only_own(actor)
        stmt = _VISIBLE[own, lock]
        params = {"loan": loan_id, "owner": actor.id} if own else {"loan": loan_id}
        loan: Loan | None = (await self.session.execute(stmt, params)).scalar_one_or_none()
        return loan

    async def visible_schedule(
        self, loan_id: uuid.UUID, actor: Principal
    ) -> tuple[LoanTerms, list[tuple[Planned, Paid]]] | None:
        """The loan's terms if `actor` may see it, and its stored schedule with what is paid of
        each installment (none before approval), in one statement."""
        own = sees_only_own(actor)
        params = {"loan": loan_id, "owner": actor.id} if own else {"loan": loan_id}
        rows = (await self.rows(_VISIBLE_SCHEDULE[own], params)).all()
        if not rows:
            return None
        width = len(LoanTerms._fields)
        schedule = [_planned_and_paid(row[width:]) for row in rows if row[width + 1] is not None]
        return LoanTerms._make(rows[0][:width]), schedule

    async def waiting(self, limit: int) -> list[tuple[int, datetime]]:
        """The amounts of the loans waiting for approval (new or requested) and when each was
        applied for, oldest first, at most `limit`."""
        return [(amount, at) for amount, at in await self.session.execute(_WAITING, {"n": limit})]

    async def latest_approvals(self, limit: int) -> list[tuple[datetime, datetime | None]]:
        """When each of the `limit` latest approved loans was applied for and approved."""
        rows = await self.session.execute(_LATEST_APPROVALS, {"n": limit})
        return [(created, approved) for created, approved in rows]

    async def list_page(
        self, actor: Principal, filters: LoanFilters, *, today: date, limit: int, offset: int
    ) -> tuple[Sequence[dict[str, Any]], int]:
        """A page of the loans `actor` may see, each as a dict of the loan's columns, and
        their total."""
        params: dict[str, Any] = {
            name: getattr(filters, name) for name in _FILTERS if getattr(filters, name) is not None
        }
        own = sees_only_own(actor)
        if own:
            params["owner"] = actor.id
        if filters.overdue is not None:
            params["today"] = today
        shape = (own, filters.overdue, tuple(params))
        built = _LISTS.get(shape)
        if built is None:
            built = _LISTS[shape] = Paged.of(_list(own, filters.overdue, params), rows=True)
        return await self.page(built, limit=limit, offset=offset, params=params)


# `GET /loans` filters by their `LoanFilters` names: equal to a value, or a bound of a range.
_FILTERS = {
    "status": (Loan.status, operator.eq),
    "loan_type": (Loan.loan_type, operator.eq),
    "customer_id": (Loan.customer_id, operator.eq),
    "agent_id": (Loan.agent_id, operator.eq),
    "created_from": (Loan.created_at, operator.ge),
    "created_before": (Loan.created_at, operator.lt),
    "updated_from": (Loan.updated_at, operator.ge),
    "updated_before": (Loan.updated_at, operator.lt),
}
# The loan lists by shape (whose filters are set, and how): a few shapes serve every request.
_LISTS: dict[Hashable, Paged] = {}


def _list(own: bool, overdue: bool | None, params: dict[str, Any]) -> Select[Any]:
    """The newest-first list of loans with a bound parameter for each of `params`: the loan
    table's rows, not ORM objects (a page is only shown: no identity map, no attribute
    instrumentation)."""
    stmt = select(Loan.__table__)
    if own:
        stmt = stmt.where(_OWN)
    if overdue is not None:
        late = overdue_loan(bindparam("today", type_=Date()))
        stmt = stmt.where(late if overdue else not_(late))
    for name in params:
        if name in _FILTERS:
            column, compare = _FILTERS[name]
            stmt = stmt.where(compare(column, bindparam(name, type_=column.type)))
    return stmt.order_by(Loan.created_at.desc(), Loan.id.desc())


class LoanEventRepository(Repository[LoanEvent]):
    model = LoanEvent

    def new(self, *events: LoanEvent) -> Write:
        """The write of new events' rows, in their order, as plain rows (not through the
        session)."""
        return new_rows("event", *events)

    async def for_loan(self, loan_id: uuid.UUID) -> Sequence[LoanEvent]:
        stmt = select(LoanEvent).where(LoanEvent.loan_id == loan_id).order_by(LoanEvent.id)
        return (await self.session.execute(stmt)).scalars().all()


def _stored_schedule(*where: Any) -> Any:
    return select(
        Installment.loan_id,
        Installment.number,
        Installment.due_date,
        Installment.principal,
        Installment.interest,
        Installment.paid_principal,
        Installment.paid_interest,
    ).where(*where)


# Built once (their cache keys too): every payment sends them.
_SCHEDULE = _stored_schedule(Installment.loan_id == bindparam("loan")).order_by(Installment.number)
_SCHEDULE_FOR_UPDATE = _SCHEDULE.with_for_update()


_VISIBLE_SCHEDULE = {own: _visible_schedule(own) for own in (False, True)}


def _planned_and_paid(row: Any) -> tuple[Planned, Paid]:
    _, number, due, principal, interest, paid_principal, paid_interest = row
    return Planned(number, due, principal + interest, principal, interest), Paid(
        paid_principal, paid_interest
    )


class InstallmentRepository(Repository[Installment]):
    model = Installment

    async def schedule(
        self, loan_id: uuid.UUID, *, lock: bool = False
    ) -> list[tuple[Planned, Paid]]:
        """The stored schedule with what is paid of each installment, by number; with `lock`,
        the rows are locked (in that order) until commit."""
        stmt = _SCHEDULE_FOR_UPDATE if lock else _SCHEDULE
        return [_planned_and_paid(row) for row in await self.rows(stmt, {"loan": loan_id})]

    async def schedules(self) -> dict[uuid.UUID, list[tuple[Planned, Paid]]]:
        """Every loan's stored schedule, as `schedule` gives one (for `ledger verify`)."""
        stmt = _stored_schedule().order_by(Installment.loan_id, Installment.number)
        by_loan: dict[uuid.UUID, list[tuple[Planned, Paid]]] = {}
        for row in await self.session.execute(stmt):
            by_loan.setdefault(row[0], []).append(_planned_and_paid(row))
        return by_loan

    def new_schedule(self, loan_id: uuid.UUID, installments: Sequence[Planned]) -> Write:
        """The write of a new loan's schedule, nothing paid yet."""
        return self._rows(loan_id, [(i, Paid()) for i in installments])

    async def replace_from(
        self, loan_id: uuid.UUID, number: int, rows: Sequence[tuple[Planned, Paid]]
    ) -> None:
        """Replace the installments from `number` on (a re-amortised schedule) by `rows`, each
        with what is already paid of it."""
        await self.session.execute(
            delete(Installment).where(Installment.loan_id == loan_id, Installment.number >= number)
        )
        await write(self.session, self._rows(loan_id, rows))

    def _rows(self, loan_id: uuid.UUID, rows: Sequence[tuple[Planned, Paid]]) -> Write:
        return inserting(
            Installment,
            [
                ("number", Integer()),
                ("due_date", Date()),
                ("principal", BigInteger()),
                ("interest", BigInteger()),
                ("paid_principal", BigInteger()),
                ("paid_interest", BigInteger()),
            ],
            [
                (i.number, i.due_date, i.principal, i.interest, p.principal, p.interest)
                for i, p in rows
            ],
            {"loan_id": loan_id},
        )

    def paid(self, loan_id: uuid.UUID, parts: Sequence[tuple[int, int, int]]) -> Write:
        """The write of `(number, principal, interest)` paid on each of these installments."""
        return updating(
            Installment,
            [("number", Integer()), ("principal", BigInteger()), ("interest", BigInteger())],
            parts,
            key="number",
            where={"loan_id": loan_id},
            add={"paid_principal": "principal", "paid_interest": "interest"},
        )


# Built once (their cache keys too): every payment sends them.
_HOLDINGS = (
    select(
        HOLDINGS.c.investor_id,
        HOLDINGS.c.amount,
        HOLDINGS.c.principal_received,
        HOLDINGS.c.interest_received,
        HOLDINGS.c.fee,
    )
    .where(HOLDINGS.c.loan_id == bindparam("loan", type_=HOLDINGS.c.loan_id.type))
    .order_by(HOLDINGS.c.investor_id)
)
_HOLDINGS_FOR_UPDATE = _HOLDINGS.with_for_update()


@functools.cache
def _investor_page(by_status: bool) -> Paged:
    """An investor's page of holdings, built once per shape: without a status filter the total
    counts the investor's holdings alone (an index-only count, no loan read for each)."""
    mine = Allocation.investor_id == bindparam("investor", type_=Allocation.investor_id.type)
    stmt = (
        select(Allocation, Loan.status, Loan.oldest_unpaid_due, Loan.amount, Loan.total_interest)
        .add_columns(Loan.fee_ppm)
        .join(Loan, Loan.id == Allocation.loan_id)
        .where(mine)
        .order_by(Allocation.created_at.desc(), Allocation.loan_id)
    )
    if by_status:
        return Paged.of(stmt.where(Loan.status == bindparam("status", type_=Loan.status.type)))
    return Paged.of(stmt, select(func.count()).select_from(Allocation).where(mine))


class AllocationRepository(Repository[Allocation]):
    model = Allocation

    async def holdings(self, loan_id: uuid.UUID, *, lock: bool = False) -> list[Holding[uuid.UUID]]:
        """Each investor's part of the loan and what has come back of it, by investor id; with
        `lock`, locked in that order until commit."""
        stmt = _HOLDINGS_FOR_UPDATE if lock else _HOLDINGS
        return [Holding(*row) for row in await self.rows(stmt, {"loan": loan_id})]

    async def investor_page(
        self, investor_id: uuid.UUID, status: LoanStatus | None, *, limit: int, offset: int
    ) -> tuple[Sequence[tuple[Any, ...]], int]:
        """The investor's holdings, newest first, each with the loan columns it is shown with,
        and how many there are (of loans in `status`, if given)."""
        params = {"investor": investor_id, "status": status}
        built = _investor_page(status is not None)
        return await self.page(built, limit=limit, offset=offset, params=params)

    async def for_loan(self, loan_id: uuid.UUID) -> Sequence[Allocation]:
        stmt = (
            select(Allocation)
            .where(Allocation.loan_id == loan_id)
            .order_by(Allocation.created_at, Allocation.investor_id)
        )
        return (await self.session.execute(stmt)).scalars().all()

    def funded(
        self, loan_id: uuid.UUID, parts: Sequence[tuple[uuid.UUID, int]], unpaid_due: date
    ) -> Write:
        """The write of the holdings of a loan just funded, whose first installment falls due
        `unpaid_due`."""
        return inserting(
            Allocation,
            [("investor_id", Uuid()), ("amount", BigInteger())],
            parts,
            {
                "loan_id": loan_id,
                "principal_received": 0,
                "interest_received": 0,
                "loss": 0,
                "created_at": utcnow(),
                "oldest_unpaid_due": unpaid_due,
            },
        )

    def received(
        self,
        loan_id: uuid.UUID,
        shares: Sequence[tuple[uuid.UUID, int, int, int]],
        unpaid_due: date | None,
    ) -> Write:
        """The write of what comes back to each of these holdings, `(investor, principal,
        interest, fee)` (the interest net of the fee taken from it); they keep the loan's oldest
        unpaid due date from now on (None: the loan is no longer active)."""
        return updating(
            Allocation,
            [
                ("investor_id", Uuid()),
                ("principal", BigInteger()),
                ("interest", BigInteger()),
                ("fee", BigInteger()),
            ],
            shares,
            key="investor_id",
            where={"loan_id": loan_id},
            add={"principal_received": "principal", "interest_received": "interest", "fee": "fee"},
            set_to={"oldest_unpaid_due": unpaid_due},
        )

    def lost(self, loan_id: uuid.UUID, losses: Sequence[tuple[uuid.UUID, int]]) -> Write:
        """The write of a loan written off: each holding (every one, a zero loss too) loses its
        part and is no longer in an active loan."""
        return updating(
            Allocation,
            [("investor_id", Uuid()), ("loss", BigInteger())],
            losses,
            key="investor_id",
            where={"loan_id": loan_id},
            add={"loss": "loss"},
            set_to={"oldest_unpaid_due": None},
        )


def _payments_page() -> Paged:
    """A loan's payments, newest first, each with the principal repaid by it and every payment
    before it (a running total over all of the loan's payments, not only the page's)."""
    of_loan = Payment.loan_id == bindparam("loan", type_=Payment.loan_id.type)
    repaid = func.sum(Payment.principal).over(order_by=(Payment.created_at, Payment.id))
    running = select(Payment.id, repaid.label("repaid")).where(of_loan).subquery()
    stmt = (
        select(Payment, running.c.repaid)
        .join(running, running.c.id == Payment.id)
        .order_by(Payment.created_at.desc(), Payment.id)
    )
    return Paged.of(stmt, select(func.count()).select_from(Payment).where(of_loan))


_PAYMENTS = _payments_page()


class PaymentRepository(Repository[Payment]):
    model = Payment

    async def for_loan(
        self, loan_id: uuid.UUID, *, limit: int, offset: int
    ) -> tuple[list[tuple[Payment, int]], int]:
        """A page of the loan's payments (see `_payments_page`), each with the principal repaid
        up to it, and how many there are: one statement."""
        rows, total = await self.page(
            _PAYMENTS, limit=limit, offset=offset, params={"loan": loan_id}
        )
        return [(payment, int(repaid)) for payment, repaid in rows], total

    def new(self, payment: Payment) -> Write:
        """The write of its row, as a plain row (not through the session)."""
        return new_rows("payment", payment)
