"""Repository base: builds statements, returns models, may flush, never commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from uuid import UUID

from sqlalchemy import Executable, Integer, Result, Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bank_api.models.base import Base

M = TypeVar("M", bound=Base)


class Repository(Generic[M]):
    model: type[M]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, id_: UUID) -> M | None:
        return await self.session.get(self.model, id_)

    async def get_for_update(self, id_: UUID) -> M | None:
        """Load the row and lock it until the transaction ends (no-op lock on SQLite, whose
        write transactions are already exclusive)."""
        stmt = select(self.model).where(self.model.id == id_).with_for_update()  # type: ignore[attr-defined]
        return (await self.session.execute(stmt)).scalar_one_or_none()

    def add(self, obj: M) -> M:
        self.session.add(obj)
        return obj

    async def rows(
        self, stmt: Executable, params: dict[str, Any] | None = None
    ) -> Result[*tuple[Any, ...]]:
        """The rows of `stmt`, a statement that selects columns (not ORM objects), run on the
        session's connection inside its transaction. The session's own `execute` would hand a
        statement built from mapped attributes to the ORM, which processes each row as it
        would for objects it makes and tracks: a page of 20 loans costs 540,000 instructions
        more that way (docs/DECISIONS.md, "Rows read without the ORM")."""
        connection = await self.session.connection()
        return await connection.execute(stmt, params)

    async def flush(self) -> None:
        await self.session.flush()

    async def page(
        self,
        stmt: Select[Any] | Paged,
        *,
        limit: int,
        offset: int,
        params: dict[str, Any] | None = None,
    ) -> tuple[Sequence[Any], int]:
        """One page of `stmt` (already ordered) and the total count of its rows, in one
        statement: the count is an uncorrelated subquery the database runs once, with its own
        plan, beside a page that stops at `limit`. Only a page past the end, which has no row
        to carry the count, counts apart. `stmt` may be a :class:`Paged` built once, with the
        `params` its bound parameters take."""
        built = stmt if isinstance(stmt, Paged) else Paged.of(stmt)
        values = (params or {}) | {"page_limit": limit, "page_offset": offset}
        result = await (self.session.execute if built.objects else self.rows)(built.page, values)
        rows = result.all()
        if rows:
            if built.columns is None:
                names = tuple(result.keys())
                return [dict(zip(names, row, strict=True)) for row in rows], rows[0][-1]
            if built.columns == 1:
                return [row[0] for row in rows], rows[0][-1]
            return [tuple(row[: built.columns]) for row in rows], rows[0][-1]
        if not offset:
            return [], 0
        return [], (await self.session.execute(built.count, params or {})).scalar_one()


@dataclass(frozen=True)
class Paged:
    """An ordered statement as `Repository.page` runs it: a page with its total, and the total
    alone, the page's limit and offset bound parameters. Built once per shape by a caller that
    sends the same statement often, it saves the building and the cache key of both. A page
    of one column gives its values, of several (`columns`) their tuples, and with `columns`
    None each row as a dict by column name (`total` among them)."""

    page: Select[Any]
    count: Select[Any]
    columns: int | None = 1
    objects: bool = True  # it selects ORM objects: run by the session (else `Repository.rows`)

    @classmethod
    def of(
        cls, stmt: Select[Any], count: Select[Any] | None = None, *, rows: bool = False
    ) -> Paged:
        """`count`: the total counted otherwise than over `stmt` itself (without a join that
        only brings columns to show, say); it must count the same rows. `rows`: the page gives
        each row as a dict (see the class)."""
        if count is None:
            count = select(func.count()).select_from(stmt.order_by(None).subquery())
        paged = stmt.add_columns(count.scalar_subquery().label("total"))
        limit = bindparam("page_limit", type_=Integer())
        offset = bindparam("page_offset", type_=Integer())
        columns = None if rows else len(stmt.column_descriptions)
        objects = any(d["expr"] is d["entity"] for d in stmt.column_descriptions)
        return cls(paged.limit(limit).offset(offset), count, columns, objects)
