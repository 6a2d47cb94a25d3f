"""Set-based writes sent together (`common.bulk.write`), on both databases."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import func, select

from bank_api.common.bulk import updating
from bank_api.domain import ledger
from bank_api.models import Installment, JournalLine
from bank_api.uow import UnitOfWork

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
