"""Set-based writes sent together (`common.bulk.write`), on both databases."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import asyncpg

from bank_api.common.bulk import _Array, new_rows, row_of, updating
from bank_api.common.types import utcnow
from bank_api.domain import ledger
from bank_api.models import (
    AuditRecord,
    Installment,
    JournalEntry,
    JournalLine,
    Loan,
    LoanStatus,
    Role,
)
from bank_api.uow import UnitOfWork
from tests.support.api import Api
from tests.support.flows import investor_with

pytestmark = pytest.mark.usefixtures("backend")


async def test_writes_sent_together_must_agree_on_a_shared_parameter(uow: UnitOfWork) -> None:
    """Both writes name `where_loan_id`: sent together they would be one parameter, so two
    values are refused before anything is sent."""
    columns = [("number", Installment.number.type)]
    first, second = (
        updating(Installment, columns, [(1,)], key="number", where={"loan_id": loan}, add={})
        for loan in (uuid.uuid4(), uuid.uuid4())
    )
    with pytest.raises(ValueError, match="where_loan_id"):
        await uow.write(first, second)


async def test_writes_without_rows_are_left_out(uow: UnitOfWork) -> None:
    """Nothing is sent for a write without rows, and the answer is the last write's rows:
    none when the last one had none; the writes with rows are sent."""
    investor = uuid.uuid4()
    entry = uow.ledger.entry(ledger.deposit_entry(investor, 1_234), value_date=date.today())
    assert await uow.write(entry, uow.investors.changes([])) == []
    assert await uow.write(uow.investors.changes([])) == []
    amounts = select(func.sum(JournalLine.amount)).where(JournalLine.owner_id == investor)
    assert await uow.session.scalar(amounts) == 1_234  # the investor's line of the entry


def test_a_new_row_gets_its_columns_constant_defaults() -> None:
    """`row_of` gives every column of a new instance, the constant default of each it left
    unset (and sets it on the instance, which then shows what is stored), None for the others."""
    loan = Loan(id=uuid.uuid4(), amount=100_000, status=LoanStatus.new)
    row = row_of(loan)
    assert set(row) == {c.name for c in Loan.__table__.columns}
    assert (row["fee_ppm"], row["outstanding_principal"]) == (0, 0)
    assert (loan.fee_ppm, loan.outstanding_principal) == (0, 0)
    assert (row["amount"], row["status"], row["agent_id"]) == (100_000, LoanStatus.new, None)
    given = Loan(id=uuid.uuid4(), fee_ppm=125_000)
    assert row_of(given)["fee_ppm"] == 125_000  # a value that is set is kept


async def test_new_rows_are_stored_in_their_order(api: Api, uow: UnitOfWork) -> None:
    """Several new rows of one write are one INSERT, numbered by the database in the order
    given (a closing payment's `payment` and `closed` events rely on it), beside another
    write of the same table whose parameters are named apart."""
    admin = uuid.UUID((await api.user("admin")).id)
    records = [
        AuditRecord(
            at=utcnow(),
            actor_id=admin,
            actor_role=Role.admin,
            action=f"test.{n}",
            target_type="test",
            target_id=str(n),
            changes={"n": {"from": None, "to": n}},
        )
        for n in range(5)
    ]
    await uow.write(new_rows("first", records[0]), new_rows("rest", *records[1:]))
    await uow.commit()
    stored = await uow.session.execute(
        select(AuditRecord.action, AuditRecord.changes, AuditRecord.request_id)
        .where(AuditRecord.actor_id == admin)
        .order_by(AuditRecord.id)
    )
    rows = [tuple(row) for row in stored]
    actions = [action for action, _, _ in rows]
    assert sorted(actions) == [f"test.{n}" for n in range(5)]
    assert [a for a in actions if a != "test.0"] == [f"test.{n}" for n in range(1, 5)]
    assert rows[actions.index("test.3")][1:] == ({"n": {"from": None, "to": 3}}, None)


async def test_writes_that_return_a_row_each_answer_side_by_side(api: Api, uow: UnitOfWork) -> None:
    """`write_one`: the entry's id and time, then the balances the account's write returns,
    in one row; None when one of them returns no row (a withdrawal of more than there is),
    though the others ran (the caller rolls back)."""
    investor = await investor_with(api, "500.00")
    owner = uuid.UUID(investor.id)
    today = date.today()
    deposit = uow.ledger.entry(ledger.deposit_entry(owner, 1_234), value_date=today)
    row = await uow.write_one(deposit, uow.investors.moving(owner, 1_234, today))
    assert row is not None
    entry_id, created_at, *figures = row
    balances, overdue = uow.investors.figures(figures)
    assert (balances.available, overdue.principal) == (51_234, 0)
    stored = select(JournalEntry.created_at).where(JournalEntry.id == entry_id)
    assert await uow.session.scalar(stored) == created_at
    too_much = uow.ledger.entry(ledger.withdrawal_entry(owner, 10**9), value_date=today)
    assert await uow.write_one(too_much, uow.investors.moving(owner, -(10**9), today)) is None
    lines = select(func.count()).where(JournalLine.owner_id == owner, JournalLine.amount < 0)
    assert await uow.session.scalar(lines) == 1  # the refused withdrawal's line was written
    assert (await uow.investors.for_investor(owner)).available == 51_234


def test_array_parameters_are_converted_only_where_their_elements_need_it() -> None:
    """asyncpg takes a list of UUIDs or integers as it is; enums and timestamps are converted
    element by element. The element type is part of the statement cache's key, so two arrays
    of different elements never share a compiled statement."""
    postgres = asyncpg.dialect()
    as_they_are = [JournalLine.owner_id.type, JournalLine.amount.type, JournalLine.value_date.type]
    converted = [JournalLine.account_kind.type, JournalLine.created_at.type]

    def processor(item: Any) -> Any:  # as SQLAlchemy asks for it when it binds the parameter
        return _Array(item).dialect_impl(postgres).bind_processor(postgres)

    assert [processor(t) for t in as_they_are] == [None, None, None]
    assert all(processor(t) is not None for t in converted)
    keys = {_Array(t)._static_cache_key for t in as_they_are + converted}
    assert len(keys) == len(as_they_are + converted)
