"""The repository base: rows read without the ORM, pages of objects read with it, on both
databases."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import ORMExecuteState, Session

from bank_api.common.repository import Paged
from bank_api.models import Role, User
from bank_api.uow import UnitOfWork
from tests.support.api import Api

pytestmark = pytest.mark.usefixtures("backend")


@contextmanager
def orm_executions() -> Iterator[list[str]]:
    """The statements the ORM executed (a session's `execute`) while the block ran."""
    seen: list[str] = []

    def executed(state: ORMExecuteState) -> None:
        seen.append(str(state.statement))

    event.listen(Session, "do_orm_execute", executed)
    try:
        yield seen
    finally:
        event.remove(Session, "do_orm_execute", executed)


async def test_rows_of_mapped_columns_come_without_the_orm(api: Api, uow: UnitOfWork) -> None:
    investor = await api.user("investor")
    with orm_executions() as seen:
        rows = (
            await uow.users.rows(
                select(User.username, User.role).where(User.id == investor.principal.id)
            )
        ).all()
    assert [tuple(row) for row in rows] == [(investor.username, Role.investor)]
    assert seen == []


def test_a_page_knows_whether_it_selects_objects() -> None:
    assert Paged.of(select(User).order_by(User.id)).objects
    assert not Paged.of(select(User.id).order_by(User.id)).objects
    assert not Paged.of(select(User.__table__).order_by(User.id), rows=True).objects


async def test_a_page_of_objects_is_made_by_the_session(api: Api, uow: UnitOfWork) -> None:
    investor = await api.user("investor")
    stmt = select(User).where(User.id == investor.principal.id).order_by(User.id)
    with orm_executions() as seen:
        users, total = await uow.users.page(stmt, limit=5, offset=0)
    assert (total, len(seen)) == (1, 1)
    assert isinstance(users[0], User)
    assert users[0].id == investor.principal.id


async def test_a_page_of_columns_is_read_without_the_orm(api: Api, uow: UnitOfWork) -> None:
    investor = await api.user("investor")
    stmt = select(User.id, User.role).where(User.id == investor.principal.id).order_by(User.id)
    with orm_executions() as seen:
        rows, total = await uow.users.page(stmt, limit=5, offset=0)
    listed: list[Any] = list(rows)
    assert (listed, total, seen) == ([(investor.principal.id, Role.investor)], 1, [])
